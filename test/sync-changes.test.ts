import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { activityEvents, assets, lineageEdges, sources } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { verifyAuditChain } from '../mcp-server/governance/audit.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

describe('re-ingesting a changed source', () => {
  let database: Database;
  let ctx: ServiceContext;
  let source: Awaited<ReturnType<typeof createScratchDatabase>>;
  let sourceSql: postgres.Sql;
  const ingest = async () =>
    syncSource(ctx, await createPostgresConnector({ url: source.url, name: 'ops' }).discover());
  const events = async (name: string) => {
    const asset = await database.db.query.assets.findFirst({ where: eq(assets.name, name) });
    return database.db.select().from(activityEvents).where(eq(activityEvents.assetId, asset!.id));
  };

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    source = await createScratchDatabase(serverUrl, 'dataops_src_ops');
    sourceSql = postgres(source.url, { max: 1, onnotice: () => {} });
    await sourceSql.unsafe(`
      create table depots (depot_id int primary key, name text not null);
      create table shipments (shipment_id int primary key, depot_id int references depots, weight numeric, notes text);
      create table legacy_orders (order_id int primary key);
      comment on table shipments is 'Outbound shipments';`);
    await ingest();
  });
  afterAll(async () => {
    await sourceSql.end();
    await source.drop();
    await database.close();
  });

  it('records added, removed and retyped columns as activity and deprecates vanished tables', async () => {
    await sourceSql.unsafe(`
      alter table shipments add column shipped_at timestamptz;
      alter table shipments drop column notes;
      alter table shipments alter column weight type double precision;
      drop table legacy_orders;`);
    const summary = await ingest();
    expect(summary).toMatchObject({ added: 0, updated: 1, deprecated: 1, schemaChanges: 3 });

    const change = (await events('shipments')).find((e) => e.type === 'schema_changed')!;
    expect(change.details).toEqual({
      added: [{ name: 'shipped_at', dataType: 'timestamp with time zone' }],
      removed: [
        { name: 'notes', dataType: 'text', classification: null, sensitivity: null, tags: [], description: null },
      ],
      retyped: [{ name: 'weight', from: 'numeric', to: 'double precision' }],
    });
    expect(change.summary).toBe(
      'Schema changed: added shipped_at; removed notes; retyped weight (numeric → double precision)',
    );
    const legacy = await database.db.query.assets.findFirst({ where: eq(assets.name, 'legacy_orders') });
    expect(legacy!.status).toBe('deprecated');
    expect((await events('legacy_orders')).map((e) => e.type)).toContain('deprecated');
  });

  it('gives a column dropped and added again the marking and sensitivity it had', async () => {
    await sourceSql.unsafe('alter table depots add column manager_ssn text');
    await ingest();
    const depots = await database.db.query.assets.findFirst({ where: eq(assets.name, 'depots') });
    await database.db.execute(
      sql`update columns set classification = 'S', sensitivity = 'pii', tags = '{ssn}'
          where asset_id = ${depots!.id} and name = 'manager_ssn'`,
    );
    await sourceSql.unsafe('alter table depots drop column manager_ssn');
    await ingest();
    await sourceSql.unsafe('alter table depots add column manager_ssn varchar(11)');
    await ingest();
    const [column] = await queryRows<{
      classification: string;
      sensitivity: string;
      tags: string[];
      data_type: string;
    }>(
      database.db,
      sql`select classification, sensitivity, tags, data_type from columns
          where asset_id = ${depots!.id} and name = 'manager_ssn'`,
    );
    expect(column).toEqual({
      classification: 'S',
      sensitivity: 'pii',
      tags: ['ssn'],
      data_type: 'character varying(11)',
    });
    // Everybody who may see the table reads its activity: the marked column's drop and return are counted, not named.
    const changes = (await events('depots')).filter((e) => e.type === 'schema_changed').map((e) => e.summary);
    expect(changes).toEqual(
      expect.arrayContaining(['Schema changed: removed 1 marked column', 'Schema changed: added 1 marked column']),
    );
  });

  it('closes the lineage edge of a dropped foreign key instead of deleting it', async () => {
    await sourceSql.unsafe('alter table shipments drop constraint shipments_depot_id_fkey');
    await ingest();
    const edges = await database.db.select().from(lineageEdges).where(eq(lineageEdges.name, 'shipments_depot_id_fkey'));
    expect(edges).toHaveLength(1);
    expect(edges[0]!.validTo).toBeInstanceOf(Date);
  });

  it('restores a table that comes back, and keeps a steward’s description over the source comment', async () => {
    await sourceSql.unsafe('create table legacy_orders (order_id int primary key)');
    const steward = await contextAs(database, { id: 'kim', displayName: 'Kim', clearance: 'S', roles: ['steward'] });
    const { updateAssetMetadata } = await import('../mcp-server/catalog/assets.js');
    const shipments = await database.db.query.assets.findFirst({ where: eq(assets.name, 'shipments') });
    await updateAssetMetadata(steward, shipments!.urn, { description: 'Curated: one row per shipment leg' });
    await sourceSql.unsafe(`comment on table shipments is 'Changed upstream comment'`);
    const summary = await ingest();
    expect(summary.restored).toBe(1);
    const after = await database.db.query.assets.findFirst({ where: eq(assets.name, 'shipments') });
    expect(after!.description).toBe('Curated: one row per shipment leg');
    expect(await verifyAuditChain(database.db)).toBeNull();
  });
});

describe('a failure halfway through a sync', () => {
  let database: Database;
  let ctx: ServiceContext;
  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    await syncSource(ctx, warehouseSnapshot());
  });
  afterAll(() => database.close());

  it('leaves the previous catalog intact', async () => {
    const count = async () =>
      (
        await queryRows<{ assets: number; columns: number; audit: number }>(
          database.db,
          sql`select (select count(*) from assets)::int as assets, (select count(*) from columns)::int as columns,
          (select count(*) from audit_log)::int as audit`,
        )
      )[0];
    const before = await count();
    const broken = warehouseSnapshot();
    broken.assets.push({ ...broken.assets[0]!, name: 'new_table' });
    // Two columns with one name violate the catalog's uniqueness after the first inserts have run.
    broken.assets[0]!.columns.push({ ...broken.assets[0]!.columns[0]! });
    broken.assets[0]!.description = 'changed';
    await expect(syncSource(ctx, broken)).rejects.toThrow(
      /syncing postgres source warehouse failed and nothing was changed: duplicate key value violates unique constraint "columns_asset_name_idx"/,
    );
    expect(await count()).toEqual(before);
    const [src] = await database.db.select().from(sources).where(eq(sources.name, 'warehouse'));
    expect(src!.lastSyncErrors).toEqual([]);
  });

  it('refuses a viewer', async () => {
    const viewer = await contextAs(database, { id: 'v', displayName: 'V', clearance: 'U', roles: ['viewer'] });
    await expect(syncSource(viewer, warehouseSnapshot())).rejects.toThrow(/needs the steward or owner role/);
  });
});
