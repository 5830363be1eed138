import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { lineageCoverage, lineageDiff, lineageImpact, lineagePath } from '../mcp-server/lineage/analysis.js';
import { addManualEdge, removeManualEdge } from '../mcp-server/lineage/edit.js';
import type { LineageGraph } from '../mcp-server/lineage/graph.js';
import { getLineage } from '../mcp-server/lineage/queries.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

const pagila = (name: string) => assetUrn('postgres', 'pagila', 'public', name);

/** Column mappings into `target` from `source`, as "from→to SUBTYPE" strings. */
function mappings(graph: LineageGraph, source: string, target: string): string[] {
  const edge = graph.edges.find((e) => e.source === source && e.target === target);
  expect(edge, `edge ${source} -> ${target}`).toBeDefined();
  return edge!.data.columns.map((c) => `${c.from}→${c.to ?? '*'} ${c.transformationSubtype}`);
}

async function edgeCount(database: Database): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select (select count(*) from lineage_edges) + (select count(*) from column_lineage) as n`,
  );
  return Number(row!.n);
}

describe('lineage from Pagila views', () => {
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    await syncSource(ctx, await createPostgresConnector({ url: inject('pagilaUrl'), name: 'pagila' }).discover());
  });
  afterAll(() => database.close());

  it('traces each column of customer_list to the columns it comes from, with joins and conditions', async () => {
    const graph = await getLineage(ctx, { urn: pagila('customer_list'), direction: 'upstream', depth: 1 });
    expect(graph.nodes.map((n) => n.data.qualifiedName).sort()).toEqual([
      'public.address',
      'public.city',
      'public.country',
      'public.customer',
      'public.customer_list',
    ]);
    const fromCustomer = mappings(graph, pagila('customer'), pagila('customer_list'));
    expect(fromCustomer).toEqual(
      expect.arrayContaining([
        'customer_id→id IDENTITY',
        'first_name→name TRANSFORMATION',
        'last_name→name TRANSFORMATION',
        'store_id→sid IDENTITY',
        'activebool→* CONDITIONAL',
        'address_id→* JOIN',
      ]),
    );
    expect(mappings(graph, pagila('address'), pagila('customer_list'))).toEqual(
      expect.arrayContaining(['postal_code→zip code IDENTITY', 'phone→phone IDENTITY', 'address_id→* JOIN']),
    );
    expect(mappings(graph, pagila('country'), pagila('customer_list'))).toEqual(
      expect.arrayContaining(['country→country IDENTITY', 'country_id→* JOIN']),
    );
  });

  it('records aggregations, grouping and sorting, and keeps the SQL that computes a column', async () => {
    const graph = await getLineage(ctx, { urn: pagila('sales_by_film_category'), direction: 'upstream', depth: 1 });
    expect(mappings(graph, pagila('payment'), pagila('sales_by_film_category'))).toEqual(
      expect.arrayContaining(['amount→total_sales AGGREGATION', 'rental_id→* JOIN', 'amount→* SORT']),
    );
    expect(mappings(graph, pagila('category'), pagila('sales_by_film_category'))).toEqual(
      expect.arrayContaining(['name→category IDENTITY', 'name→* GROUP_BY']),
    );
    const [row] = await queryRows<{ sql: string }>(
      database.db,
      sql`select c.sql from column_lineage c where c.to_column = 'total_sales' and c.from_column = 'amount' limit 1`,
    );
    expect(row!.sql).toBe('sum(p.amount)');
  });

  it('follows a CTE with a window function (sales_top5_by_film_category)', async () => {
    const graph = await getLineage(ctx, {
      urn: pagila('sales_top5_by_film_category'),
      direction: 'upstream',
      depth: 1,
    });
    const fromPayment = mappings(graph, pagila('payment'), pagila('sales_top5_by_film_category'));
    expect(fromPayment).toEqual(expect.arrayContaining(['amount→sales AGGREGATION', 'amount→* WINDOW']));
    expect(mappings(graph, pagila('film'), pagila('sales_top5_by_film_category'))).toContain('title→title IDENTITY');
  });

  it('resolves the legacy schema view to the public table it reads', async () => {
    const urn = assetUrn('postgres', 'pagila', 'legacy', 'rental');
    const graph = await getLineage(ctx, { urn, direction: 'upstream', depth: 1 });
    expect(mappings(graph, pagila('rental'), urn)).toEqual(
      expect.arrayContaining(['rental_period→rental_date TRANSFORMATION', 'rental_period→return_date TRANSFORMATION']),
    );
  });

  it('walks one column upstream and downstream', async () => {
    const up = await getLineage(ctx, {
      urn: pagila('sales_by_film_category'),
      column: 'total_sales',
      direction: 'upstream',
    });
    expect(up.nodes.map((n) => `${n.data.qualifiedName}:${n.data.columns.join(',')}`).sort()).toEqual([
      'public.payment:amount',
      'public.sales_by_film_category:total_sales',
    ]);
    const down = await getLineage(ctx, { urn: pagila('payment'), column: 'amount', direction: 'downstream' });
    expect(down.nodes.map((n) => n.data.qualifiedName).sort()).toEqual([
      'public.payment',
      'public.sales_by_film_category',
      'public.sales_by_store',
      'public.sales_top5_by_film_category',
    ]);
  });

  it('names what a change would break, grouped by how it depends, with owners', async () => {
    const impact = await lineageImpact(ctx, { urn: pagila('customer') });
    const byName = new Map(impact.assets.map((a) => [a.qualifiedName, a]));
    expect(byName.get('public.customer_list')?.dependency).toBe('derived');
    expect(byName.get('public.rental')?.dependency).toBe('references');
    expect(byName.get('public.rental_report')).toBeDefined();
    expect(impact.partial).toBe(false);
    expect(impact.owners.map((o) => o.owner)).toContain('postgres');

    const column = await lineageImpact(ctx, { urn: pagila('payment'), column: 'amount' });
    expect(column.assets.map((a) => `${a.qualifiedName}:${a.dependency}:${a.columns.join(',')}`).sort()).toEqual([
      'public.sales_by_film_category:derived:total_sales',
      'public.sales_by_store:derived:total_sales',
      'public.sales_top5_by_film_category:derived:sales',
    ]);
  });

  it('stops at the time budget or the depth and says the answer is partial', async () => {
    const spent = await lineageImpact(ctx, { urn: pagila('customer'), budgetMs: 0 });
    expect(spent).toMatchObject({ partial: true, total: 0 });
    const shallow = await lineageImpact(ctx, { urn: pagila('language'), depth: 1 });
    expect(shallow.partial).toBe(true);
    expect(shallow.assets.map((a) => a.qualifiedName)).toEqual(['public.film']);
    expect((await lineageImpact(ctx, { urn: pagila('language') })).partial).toBe(false);
  });

  it('finds the paths between two assets', async () => {
    const result = await lineagePath(ctx, { from: pagila('sales_by_store'), to: pagila('staff') });
    expect(result.from).toBe(pagila('staff'));
    expect(result.paths).toContainEqual([pagila('staff'), pagila('sales_by_store')]);
    const none = await lineagePath(ctx, { from: pagila('actor_info'), to: pagila('sales_by_store'), depth: 2 });
    expect(none.paths).toEqual([]);
  });

  it('measures lineage coverage per asset and for the catalog', async () => {
    // customer_list's `notes` is a constant CASE: the only one of its nine columns with no source column.
    expect((await getAssetProfile(ctx, pagila('customer_list'))).lineage).toMatchObject({
      upstream: 4,
      coverage: 8 / 9,
    });
    expect((await getAssetProfile(ctx, pagila('family_films'))).lineage.coverage).toBe(1);
    expect((await getAssetProfile(ctx, pagila('customer'))).lineage.coverage).toBeNull();
    const coverage = await lineageCoverage(ctx);
    expect(coverage.derivedAssets).toBe(11);
    expect(coverage.incomplete.map((a) => `${a.qualifiedName} ${a.mapped}/${a.columns}`)).toContain(
      'public.customer_list 8/9',
    );
    expect(coverage.share).toBe(coverage.complete / 11);
  });

  it('re-ingesting the same views changes no lineage', async () => {
    const before = await edgeCount(database);
    await syncSource(ctx, await createPostgresConnector({ url: inject('pagilaUrl'), name: 'pagila' }).discover());
    expect(await edgeCount(database)).toBe(before);
  });

  it('lets a steward add and remove lineage by hand, audited, and refuses to remove learned lineage', async () => {
    const added = await addManualEdge(ctx, {
      from: pagila('payment'),
      to: pagila('staff'),
      columns: [{ from: 'amount', to: 'picture', transformationSubtype: 'AGGREGATION' }],
      note: 'bonus export',
    });
    expect(added.changed).toBe(true);
    expect(
      (
        await addManualEdge(ctx, {
          ...added,
          columns: [{ from: 'amount', to: 'picture', transformationSubtype: 'AGGREGATION' }],
        })
      ).changed,
    ).toBe(false);
    const graph = await getLineage(ctx, { urn: pagila('staff'), direction: 'upstream', depth: 1 });
    expect(mappings(graph, pagila('payment'), pagila('staff'))).toEqual(['amount→picture AGGREGATION']);

    await expect(removeManualEdge(ctx, { from: pagila('customer'), to: pagila('customer_list') })).rejects.toThrow(
      /learned from sql/,
    );
    const viewer = await contextAs(database, { id: 'vera', displayName: 'Vera', clearance: 'TS', roles: ['viewer'] });
    await expect(removeManualEdge(viewer, { from: pagila('payment'), to: pagila('staff') })).rejects.toThrow(
      /needs the steward or owner role/,
    );
    await removeManualEdge(ctx, { from: pagila('payment'), to: pagila('staff') });
    const after = await getLineage(ctx, { urn: pagila('staff'), direction: 'upstream', depth: 1 });
    expect(after.edges.some((e) => e.source === pagila('payment'))).toBe(false);
    const audit = await queryRows<{ action: string }>(
      database.db,
      sql`select action from audit_log where action like 'lineage.%' order by seq`,
    );
    expect(audit.map((a) => a.action)).toEqual(['lineage.edge_added', 'lineage.edge_removed']);
  });

  it('never names an asset above the caller’s clearance, nor walks through one', async () => {
    await database.db.execute(sql`update assets set classification = 'S' where qualified_name = 'public.address'`);
    const analyst = await contextAs(database, { id: 'uma', displayName: 'Uma', clearance: 'U', roles: ['viewer'] });
    const graph = await getLineage(analyst, { urn: pagila('customer_list'), direction: 'upstream' });
    const text = JSON.stringify(graph);
    expect(text).not.toContain('address"');
    expect(text).not.toContain(pagila('address'));
    expect(graph.nodes.map((n) => n.data.qualifiedName)).toContain('public.customer');
    const impact = await lineageImpact(analyst, { urn: pagila('city') });
    expect(JSON.stringify(impact)).not.toContain(pagila('address'));
    await expect(getLineage(analyst, { urn: pagila('address') })).rejects.toThrow(/no asset/);
    // The view's definition names the hidden table, so the analyst is not shown it; the admin is.
    const profile = await getAssetProfile(analyst, pagila('customer_list'));
    expect(profile).toMatchObject({ definition: null, definitionWithheld: true });
    expect((await getAssetProfile(ctx, pagila('customer_list'))).definition).toContain('JOIN address');
    await database.db.execute(sql`update assets set classification = 'U' where qualified_name = 'public.address'`);
  });
});

describe('lineage through time', () => {
  let database: Database;
  let ctx: ServiceContext;
  let source: Awaited<ReturnType<typeof createScratchDatabase>>;
  let now = new Date('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    database = await createTestDb();
    ctx = { ...(await createTestContext(database)), clock: () => now };
    source = await createScratchDatabase(serverUrl, 'lineage_time');
    const db = postgres(source.url, { max: 1, onnotice: () => {} });
    await db.unsafe(`
      create table orders (id int primary key, customer_id int, amount numeric, region text);
      create table refunds (order_id int, amount numeric);
      create view order_totals as select region, sum(amount) as total from orders group by region;`);
    await db.end();
  });
  afterAll(async () => {
    await database.close();
    await source.drop();
  });

  const urn = (name: string) => assetUrn('postgres', source.name, 'public', name);
  const sync = async () =>
    syncSource(ctx, await createPostgresConnector({ url: source.url, name: source.name }).discover());

  it('answers as of a past time and diffs two times after a view changes', async () => {
    await sync();
    now = new Date('2026-02-01T00:00:00Z');
    const db = postgres(source.url, { max: 1, onnotice: () => {} });
    await db.unsafe(`create or replace view order_totals as
      select o.region, sum(o.amount) as total, sum(r.amount) as refunded
      from orders o left join refunds r on r.order_id = o.id group by o.region`);
    await db.end();
    await sync();

    const before = await getLineage(ctx, {
      urn: urn('order_totals'),
      direction: 'upstream',
      asOf: new Date('2026-01-15T00:00:00Z'),
    });
    expect(before.nodes.map((n) => n.data.label).sort()).toEqual(['order_totals', 'orders']);
    const after = await getLineage(ctx, { urn: urn('order_totals'), direction: 'upstream' });
    expect(after.nodes.map((n) => n.data.label).sort()).toEqual(['order_totals', 'orders', 'refunds']);
    expect(mappings(after, urn('refunds'), urn('order_totals'))).toEqual(
      expect.arrayContaining(['amount→refunded AGGREGATION', 'order_id→* JOIN']),
    );

    const diff = await lineageDiff(ctx, { urn: urn('order_totals'), from: new Date('2026-01-15T00:00:00Z') });
    expect(diff.addedAssets).toEqual([urn('refunds')]);
    expect(diff.addedEdges.map((e) => e.source)).toEqual([urn('refunds')]);
    expect(diff.changedEdges.map((c) => c.after.source)).toEqual([urn('orders')]);
    expect(diff.removedEdges).toEqual([]);

    const earliest = await getLineage(ctx, {
      urn: urn('order_totals'),
      direction: 'upstream',
      asOf: new Date('2025-12-01T00:00:00Z'),
    });
    expect(earliest.edges).toEqual([]);
  });
});
