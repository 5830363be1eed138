import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { assets, columns } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

/** What the source database itself says, counted with catalog queries independent of the connector's. */
async function sourceCounts(url: string) {
  const db = postgres(url, { max: 1 });
  const userSchemas = db`n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'`;
  const [row] = await db`
    select
      (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where ${userSchemas} and c.relkind in ('r', 'p'))::int as tables,
      (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where ${userSchemas} and c.relkind in ('v', 'm'))::int as views,
      ((select count(*) from information_schema.columns
         where table_schema not in ('pg_catalog', 'information_schema'))
       + (select count(*) from pg_attribute a join pg_class c on c.oid = a.attrelid
           join pg_namespace n on n.oid = c.relnamespace
           where ${userSchemas} and c.relkind = 'm' and a.attnum > 0 and not a.attisdropped))::int as columns,
      (select count(*) from information_schema.table_constraints
        where table_schema not in ('pg_catalog', 'information_schema') and constraint_type = 'FOREIGN KEY')::int as foreign_keys`;
  await db.end();
  return row as { tables: number; views: number; columns: number; foreign_keys: number };
}

async function exactCount(url: string, table: string): Promise<number> {
  const db = postgres(url, { max: 1 });
  const [row] = await db.unsafe(`select count(*)::int as n from ${table}`);
  await db.end();
  return row!.n as number;
}

async function catalogCounts(database: Database, sourceName: string) {
  const [row] = await queryRows<{ tables: number; views: number; columns: number; foreign_keys: number }>(
    database.db,
    sql`select
      count(*) filter (where a.kind = 'table')::int as tables,
      count(*) filter (where a.kind in ('view', 'materialized_view'))::int as views,
      (select count(*) from columns c join assets x on x.id = c.asset_id join sources s on s.id = x.source_id
        where s.name = ${sourceName})::int as columns,
      (select count(*) from lineage_edges e join assets x on x.id = e.from_asset_id join sources s on s.id = x.source_id
        where s.name = ${sourceName} and e.kind = 'references' and e.valid_to is null)::int as foreign_keys
    from assets a join sources s on s.id = a.source_id where s.name = ${sourceName} and a.status = 'active'`,
  );
  return row!;
}

describe('Postgres connector on Pagila and Northwind', () => {
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
  });
  afterAll(() => database.close());

  it('ingests Pagila completely: tables (with partitions), views, columns and foreign keys match the database', async () => {
    const url = inject('pagilaUrl');
    const summary = await syncSource(ctx, await createPostgresConnector({ url, name: 'pagila' }).discover());
    const expected = await sourceCounts(url);
    expect(expected).toMatchObject({ tables: 23, views: 11, foreign_keys: 37 });
    expect(await catalogCounts(database, 'pagila')).toEqual(expected);
    expect(summary.added).toBe(expected.tables + expected.views);
  });

  it('keeps enum and domain types, partitioning, view definitions and exact row counts', async () => {
    const film = await database.db.query.assets.findFirst({ where: eq(assets.name, 'film') });
    const filmColumns = await database.db.select().from(columns).where(eq(columns.assetId, film!.id));
    const rating = filmColumns.find((c) => c.name === 'rating')!;
    expect(rating.dataType).toBe('mpaa_rating');
    expect(film!.properties.columnTypes).toMatchObject({
      rating: 'enum: G, PG, PG-13, R, NC-17',
      release_year: 'domain over integer',
    });
    expect(filmColumns.find((c) => c.name === 'special_features')!.dataType).toBe('text[]');
    expect(filmColumns.find((c) => c.name === 'film_id')!.isPrimaryKey).toBe(true);
    expect(film!.rowCount).toBe(1000);

    const payment = await database.db.query.assets.findFirst({ where: eq(assets.name, 'payment') });
    expect(payment!.properties.partitionKey).toBe('RANGE (payment_date)');
    expect(payment!.properties.partitions).toHaveLength(8);
    expect(payment!.rowCount).toBe(await exactCount(inject('pagilaUrl'), 'payment'));

    const actorInfo = await database.db.query.assets.findFirst({ where: eq(assets.name, 'actor_info') });
    expect(actorInfo!.kind).toBe('view');
    expect(actorInfo!.definition).toMatch(/group by/i);
    const rental = await database.db.query.assets.findFirst({ where: eq(assets.qualifiedName, 'public.rental') });
    expect(rental!.rowCount).toBe(16044);
    expect(rental!.rowCount).toBe(await exactCount(inject('pagilaUrl'), 'rental'));
  });

  it('re-ingesting Pagila changes nothing', async () => {
    const before = await snapshotState(database);
    const summary = await syncSource(
      ctx,
      await createPostgresConnector({ url: inject('pagilaUrl'), name: 'pagila' }).discover(),
    );
    expect(summary).toMatchObject({ added: 0, updated: 0, deprecated: 0, schemaChanges: 0, unchanged: summary.assets });
    expect(await snapshotState(database)).toEqual(before);
  });

  it('ingests Northwind completely, with its comment-free tables and composite keys', async () => {
    const url = inject('northwindUrl');
    await syncSource(ctx, await createPostgresConnector({ url, name: 'northwind' }).discover());
    const expected = await sourceCounts(url);
    expect(expected).toMatchObject({ tables: 14, foreign_keys: 13 });
    expect(await catalogCounts(database, 'northwind')).toEqual(expected);
    const details = await database.db.query.assets.findFirst({ where: eq(assets.name, 'order_details') });
    const keyColumns = (await database.db.select().from(columns).where(eq(columns.assetId, details!.id)))
      .filter((c) => c.isPrimaryKey)
      .map((c) => c.name)
      .sort();
    expect(keyColumns).toEqual(['order_id', 'product_id']);
  });
});

async function snapshotState(database: Database) {
  const [counts] = await queryRows<Record<string, number>>(
    database.db,
    sql`select (select count(*) from assets)::int as assets, (select count(*) from columns)::int as columns,
      (select count(*) from activity_events)::int as events, (select count(*) from audit_log)::int as audit,
      (select count(*) from lineage_edges)::int as edges,
      (select max(updated_at)::text from assets) as last_update`,
  );
  return counts;
}
