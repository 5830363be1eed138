import { readFileSync } from 'node:fs';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { assets, columns, jobRuns, qualityResults, qualityRules } from '../db/schema/index.js';
import { annotateAssets } from '../mcp-server/catalog/annotate.js';
import { updateAssetMetadata } from '../mcp-server/catalog/assets.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { ingestDbt } from '../mcp-server/lineage/dbt.js';
import { sharedData } from './helpers/source-databases.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests edit dbt's JSON freely
type Json = Record<string, any>;
const dbtDir = path.join(sharedData, 'dbt');
const read = (file: string) => JSON.parse(readFileSync(path.join(dbtDir, file), 'utf8')) as Json;
const v7 = () => read('jaffle_shop-postgres-dbt1.3-v7/manifest.json');
const v12 = () => read('jaffle_shop-postgres-dbt1.8-v12-with-source/manifest.json');
const runResults = () => read('jaffle_shop-postgres-dbt1.3-v7/run_results.json');

async function counts(database: Database) {
  const [row] = await queryRows<Record<string, number>>(
    database.db,
    sql`select (select count(*) from sources)::int as sources, (select count(*) from assets)::int as assets,
      (select count(*) from columns)::int as columns, (select count(*) from lineage_edges)::int as edges,
      (select count(*) from column_lineage)::int as column_lineage, (select count(*) from quality_rules)::int as rules,
      (select count(*) from quality_results)::int as results, (select count(*) from job_runs)::int as runs,
      (select count(*) from activity_events)::int as activity, (select count(*) from audit_log)::int as audit,
      (select max(updated_at) from assets) as assets_updated, (select max(updated_at) from columns) as columns_updated`,
  );
  return row!;
}

/** Current dbt edges as `from -> to` by qualified name. */
async function dbtEdges(database: Database) {
  const rows = await queryRows<{ edge: string }>(
    database.db,
    sql`select f.qualified_name || ' -> ' || t.qualified_name as edge from lineage_edges e
        join assets f on f.id = e.from_asset_id join assets t on t.id = e.to_asset_id
        where e.origin = 'dbt' and e.valid_to is null order by 1`,
  );
  return rows.map((r) => r.edge).sort();
}

/** Column lineage of the current dbt edge into `to`: `from_asset.from_column -> to_column TYPE/SUBTYPE`. */
async function dbtColumns(database: Database, to: string) {
  const rows = await queryRows<{ mapping: string }>(
    database.db,
    sql`select f.name || '.' || c.from_column || ' -> ' || coalesce(c.to_column, '*') || ' ' ||
          c.transformation_type || '/' || c.transformation_subtype as mapping
        from column_lineage c join lineage_edges e on e.id = c.edge_id
        join assets f on f.id = e.from_asset_id join assets t on t.id = e.to_asset_id
        where e.origin = 'dbt' and e.valid_to is null and t.qualified_name = ${to} order by 1`,
  );
  return rows.map((r) => r.mapping).sort();
}

const dbtUrn = (namespace: string, name: string) => assetUrn('dbt', 'jaffle_shop', namespace, name);

async function asset(database: Database, urn: string) {
  const [row] = await database.db.select().from(assets).where(eq(assets.urn, urn));
  return row!;
}

const jaffleEdges = [
  'public.raw_customers -> public.stg_customers',
  'public.raw_orders -> public.stg_orders',
  'public.raw_payments -> public.stg_payments',
  'public.stg_customers -> public.customers',
  'public.stg_orders -> public.customers',
  'public.stg_orders -> public.orders',
  'public.stg_payments -> public.customers',
  'public.stg_payments -> public.orders',
];

describe('dbt ingestion of jaffle_shop', () => {
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
  });
  afterAll(() => database.close());

  it('reads the v12 manifest: models, seeds, the snapshot, the source, depends_on lineage and docs', async () => {
    const summary = await ingestDbt(ctx, { manifest: v12(), location: '/projects/jaffle_shop/target/manifest.json' });
    expect(summary).toMatchObject({
      project: 'jaffle_shop',
      manifestVersion: 12,
      models: 5,
      seeds: 3,
      snapshots: 1,
      sources: 1,
      mapped: 0,
      created: 10,
      edgesOpened: 9,
    });
    expect(await dbtEdges(database)).toEqual([...jaffleEdges, 'public.raw_orders -> snapshots.orders_snapshot'].sort());

    const customers = await asset(database, dbtUrn('postgres.public', 'customers'));
    expect(customers).toMatchObject({
      kind: 'table',
      namespace: 'public',
      name: 'customers',
      description:
        "This table has basic information about a customer, as well as some derived facts based on a customer's orders",
    });
    expect(customers.searchDocument).not.toBeNull();
    expect(customers.embedding).not.toBeNull();
    const described = await database.db
      .select({ name: columns.name, description: columns.description })
      .from(columns)
      .where(eq(columns.assetId, customers.id));
    expect(described).toContainEqual({ name: 'first_name', description: "Customer's first name. PII." });
    expect(described).toContainEqual({
      name: 'total_order_amount',
      description: "Total value (AUD) of a customer's orders",
    });
    expect((await asset(database, dbtUrn('postgres.public', 'stg_orders'))).kind).toBe('view');
    expect((await asset(database, dbtUrn('postgres.public', 'dim_date'))).kind).toBe('table');
  });

  it('keeps the tests as quality rules of the assets they check', async () => {
    const rules = await queryRows<{
      asset: string;
      name: string;
      type: string;
      column_name: string;
      config: Json;
      dimension: string;
      severity: string;
    }>(
      database.db,
      sql`select a.qualified_name as asset, r.name, r.type, r.column_name, r.config, r.dimension, r.severity
          from quality_rules r join assets a on a.id = r.asset_id where r.origin = 'dbt' order by r.name`,
    );
    expect(rules).toHaveLength(22);
    const byName = new Map(rules.map((r) => [r.name, r]));
    expect(byName.get('not_null_orders_order_id')).toMatchObject({
      asset: 'public.orders',
      type: 'not_null',
      column_name: 'order_id',
      dimension: 'completeness',
      severity: 'critical',
    });
    expect(
      byName.get('accepted_values_orders_status__placed__shipped__completed__return_pending__returned'),
    ).toMatchObject({
      asset: 'public.orders',
      type: 'accepted_values',
      column_name: 'status',
      config: { values: ['placed', 'shipped', 'completed', 'return_pending', 'returned'] },
    });
    expect(byName.get('relationships_orders_customer_id__customer_id__ref_customers_')).toMatchObject({
      asset: 'public.orders',
      type: 'relationships',
      column_name: 'customer_id',
      config: { to: dbtUrn('postgres.public', 'customers'), field: 'customer_id' },
    });
    expect(byName.get('source_unique_jaffle_shop_dim_date_id')).toMatchObject({
      asset: 'public.dim_date',
      type: 'unique',
      column_name: 'id',
      dimension: 'uniqueness',
    });
  });

  it('changes nothing when the same manifest is ingested again', async () => {
    const before = await counts(database);
    const again = await ingestDbt(ctx, { manifest: v12(), location: '/projects/jaffle_shop/target/manifest.json' });
    expect(again).toMatchObject({ created: 0, updated: 0, deprecated: 0, edgesOpened: 0, edgesClosed: 0 });
    expect(again.rules).toMatchObject({ total: 22, added: 0, updated: 0, disabled: 0 });
    expect(await counts(database)).toEqual(before);
  });

  it('follows the project to the v7 manifest: what left it is deprecated, its lineage closed, its tests disabled', async () => {
    const summary = await ingestDbt(ctx, { manifest: v7(), runResults: runResults() });
    // orders_snapshot and the dim_date source are not in the older project; its compiled SQL gives the
    // two edges into orders column lineage, so they are replaced.
    expect(summary).toMatchObject({
      manifestVersion: 7,
      snapshots: 0,
      sources: 0,
      deprecated: 2,
      edgesOpened: 2,
      edgesClosed: 3,
    });
    expect(await dbtEdges(database)).toEqual(jaffleEdges);
    expect((await asset(database, dbtUrn('postgres.snapshots', 'orders_snapshot'))).status).toBe('deprecated');
    const disabled = await database.db
      .select({ name: qualityRules.name })
      .from(qualityRules)
      .where(and(eq(qualityRules.origin, 'dbt'), eq(qualityRules.enabled, false)));
    expect(disabled.map((r) => r.name).sort()).toEqual([
      'accepted_values_customers_first_name__Jane',
      'source_unique_jaffle_shop_dim_date_id',
    ]);

    // Column lineage from the compiled SQL, through the CTEs of orders.sql.
    expect(await dbtColumns(database, 'public.orders')).toEqual([
      'stg_orders.customer_id -> customer_id DIRECT/IDENTITY',
      'stg_orders.order_date -> order_date DIRECT/IDENTITY',
      'stg_orders.order_id -> * INDIRECT/JOIN',
      'stg_orders.order_id -> order_id DIRECT/IDENTITY',
      'stg_orders.status -> status DIRECT/IDENTITY',
      'stg_payments.amount -> amount DIRECT/AGGREGATION',
      'stg_payments.amount -> bank_transfer_amount DIRECT/AGGREGATION',
      'stg_payments.amount -> coupon_amount DIRECT/AGGREGATION',
      'stg_payments.amount -> credit_card_amount DIRECT/AGGREGATION',
      'stg_payments.amount -> gift_card_amount DIRECT/AGGREGATION',
      'stg_payments.order_id -> * INDIRECT/GROUP_BY',
      'stg_payments.order_id -> * INDIRECT/JOIN',
      'stg_payments.payment_method -> * INDIRECT/CONDITIONAL',
    ]);
    // A model without a catalog gets the columns its SQL produces.
    const stgPayments = await asset(database, dbtUrn('postgres.public', 'stg_payments'));
    const names = await database.db
      .select({ name: columns.name })
      .from(columns)
      .where(eq(columns.assetId, stgPayments.id))
      .orderBy(columns.position);
    expect(names.map((c) => c.name)).toEqual(['payment_id', 'order_id', 'payment_method', 'amount']);
    expect(stgPayments.tags).toEqual([]);
    expect((await asset(database, dbtUrn('postgres.public', 'stg_customers'))).tags).toEqual(['postgres', 'test']);
  });

  it('records the invocation in run_results.json as a run of the project job', async () => {
    const job = await asset(database, dbtUrn('job', 'jaffle_shop'));
    expect(job.kind).toBe('job');
    const [run] = await database.db.select().from(jobRuns).where(eq(jobRuns.jobAssetId, job.id));
    expect(run).toMatchObject({ runId: '1269f08d-da04-4fbd-8207-1ddc9110cb1b', state: 'COMPLETE' });
    expect(run!.startedAt!.toISOString()).toBe('2022-12-14T21:28:16.888Z');
    expect(run!.endedAt!.toISOString()).toBe('2022-12-14T21:28:17.216Z');
    const results = (run!.facets.dbt as { results: Json[] }).results;
    expect(results.map((r) => r.node)).toEqual([
      'model.jaffle_shop.stg_customers',
      'model.jaffle_shop.stg_orders',
      'model.jaffle_shop.stg_payments',
      'model.jaffle_shop.customers',
      'model.jaffle_shop.orders',
    ]);
    expect(results[4]).toMatchObject({
      asset: dbtUrn('postgres.public', 'orders'),
      status: 'success',
      startedAt: '2022-12-14T21:28:17.148674Z',
      completedAt: '2022-12-14T21:28:17.196590Z',
    });
  });

  it('records test results from run_results.json against the rules, once', async () => {
    const results = runResults();
    results.results.push(
      {
        status: 'pass',
        timing: [{ name: 'execute', started_at: '2022-12-14T21:30:00Z', completed_at: '2022-12-14T21:30:01Z' }],
        failures: 0,
        message: null,
        unique_id: 'test.jaffle_shop.unique_orders_order_id.fed79b3a6e',
      },
      {
        status: 'fail',
        timing: [{ name: 'execute', started_at: '2022-12-14T21:30:00Z', completed_at: '2022-12-14T21:30:02Z' }],
        failures: 3,
        message: 'Got 3 results, configured to fail if != 0',
        unique_id: 'test.jaffle_shop.not_null_orders_amount.106140f9fd',
      },
    );
    results.metadata.invocation_id = 'a-later-build';
    const summary = await ingestDbt(ctx, { manifest: v7(), runResults: results });
    expect(summary.runs).toEqual({ recorded: true, testResults: 2 });
    const recorded = await queryRows<{ name: string; passed: boolean; failed_rows: number | null }>(
      database.db,
      sql`select r.name, q.passed, q.failed_rows from quality_results q join quality_rules r on r.id = q.rule_id order by 1`,
    );
    expect(recorded).toEqual([
      { name: 'not_null_orders_amount', passed: false, failed_rows: 3 },
      { name: 'unique_orders_order_id', passed: true, failed_rows: 0 },
    ]);
    const job = await asset(database, dbtUrn('job', 'jaffle_shop'));
    const [build] = await database.db
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.jobAssetId, job.id), eq(jobRuns.runId, 'a-later-build')));
    expect(build!.state).toBe('FAIL');
    expect((await ingestDbt(ctx, { manifest: v7(), runResults: results })).runs).toEqual({
      recorded: false,
      testResults: 0,
    });
    expect(await database.db.select().from(qualityResults)).toHaveLength(2);
  });

  it('puts exposures downstream of what they use, as dashboards or data products', async () => {
    const manifest = v12();
    manifest.exposures = {
      'exposure.jaffle_shop.weekly_kpis': {
        unique_id: 'exposure.jaffle_shop.weekly_kpis',
        name: 'weekly_kpis',
        label: 'Weekly KPIs',
        resource_type: 'exposure',
        type: 'dashboard',
        owner: { name: 'Callum McData', email: 'data@jaffleshop.com' },
        description: 'Revenue and customers, week by week',
        url: 'https://bi.example.com/dashboards/1',
        maturity: 'high',
        depends_on: { macros: [], nodes: ['model.jaffle_shop.customers', 'model.jaffle_shop.orders'] },
        package_name: 'jaffle_shop',
        tags: ['kpi'],
      },
      'exposure.jaffle_shop.churn_model': {
        unique_id: 'exposure.jaffle_shop.churn_model',
        name: 'churn_model',
        resource_type: 'exposure',
        type: 'ml',
        owner: { name: 'Data Science' },
        depends_on: { nodes: ['model.jaffle_shop.customers'] },
        package_name: 'jaffle_shop',
      },
    };
    const summary = await ingestDbt(ctx, { manifest });
    expect(summary.exposures).toBe(2);
    const dashboard = await asset(database, dbtUrn('exposure', 'weekly_kpis'));
    expect(dashboard).toMatchObject({
      kind: 'dashboard',
      qualifiedName: 'Weekly KPIs',
      owner: 'data@jaffleshop.com',
      description: 'Revenue and customers, week by week',
      tags: ['kpi'],
    });
    expect((await asset(database, dbtUrn('exposure', 'churn_model'))).kind).toBe('data_product');
    const edges = await dbtEdges(database);
    expect(edges).toContain('public.customers -> Weekly KPIs');
    expect(edges).toContain('public.orders -> Weekly KPIs');
    expect(edges).toContain('public.customers -> churn_model');
  });

  it('takes column types and order from catalog.json, and kinds from the warehouse', async () => {
    const catalog = {
      metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/catalog/v1.json' },
      nodes: {
        'model.jaffle_shop.stg_payments': {
          metadata: { type: 'VIEW', schema: 'public', name: 'stg_payments', database: 'postgres', comment: null },
          columns: {
            payment_id: { type: 'integer', index: 1, name: 'payment_id', comment: null },
            order_id: { type: 'integer', index: 2, name: 'order_id', comment: null },
            payment_method: { type: 'text', index: 3, name: 'payment_method', comment: null },
            amount: { type: 'integer', index: 4, name: 'amount', comment: 'Amount in dollars' },
          },
          stats: {},
        },
        'seed.jaffle_shop.raw_payments': {
          metadata: { type: 'BASE TABLE', schema: 'public', name: 'raw_payments', database: 'postgres' },
          columns: {
            id: { type: 'integer', index: 1, name: 'id' },
            order_id: { type: 'integer', index: 2, name: 'order_id' },
            payment_method: { type: 'text', index: 3, name: 'payment_method' },
            amount: { type: 'integer', index: 4, name: 'amount' },
          },
          stats: {},
        },
      },
      sources: {},
    };
    await ingestDbt(ctx, { manifest: v7(), catalog });
    const typed = async (name: string) => {
      const a = await asset(database, dbtUrn('postgres.public', name));
      const rows = await database.db
        .select({ name: columns.name, type: columns.dataType, description: columns.description })
        .from(columns)
        .where(eq(columns.assetId, a.id))
        .orderBy(columns.position);
      return rows.map((c) => `${c.name}:${c.type}${c.description ? ` (${c.description})` : ''}`);
    };
    expect(await typed('raw_payments')).toEqual([
      'id:integer',
      'order_id:integer',
      'payment_method:text',
      'amount:integer',
    ]);
    // The catalog's columns, types and comments.
    expect(await typed('stg_payments')).toEqual([
      'payment_id:integer',
      'order_id:integer',
      'payment_method:text',
      'amount:integer (Amount in dollars)',
    ]);
    // Knowing raw_payments' columns, the compiled SQL of stg_payments now reaches them.
    expect(await dbtColumns(database, 'public.stg_payments')).toContain(
      'raw_payments.amount -> amount DIRECT/TRANSFORMATION',
    );
  });

  it('sees lineage through ephemeral models', async () => {
    const manifest = v12();
    manifest.nodes['model.jaffle_shop.stg_orders'].config.materialized = 'ephemeral';
    await ingestDbt(ctx, { manifest });
    const edges = await dbtEdges(database);
    expect(edges).toContain('public.raw_orders -> public.orders');
    expect(edges).toContain('public.raw_orders -> public.customers');
    expect(edges).not.toContain('public.stg_orders -> public.orders');
    expect((await asset(database, dbtUrn('postgres.public', 'stg_orders'))).status).toBe('deprecated');
    // Without catalog.json the columns known from it stay: the manifest alone does not list them all.
    const rawPayments = await asset(database, dbtUrn('postgres.public', 'raw_payments'));
    const kept = await database.db.select().from(columns).where(eq(columns.assetId, rawPayments.id));
    expect(kept.map((c) => `${c.name}:${c.dataType}`).sort()).toEqual([
      'amount:integer',
      'id:integer',
      'order_id:integer',
      'payment_method:text',
    ]);
  });

  it('marks the assets a project adds as told, like a source sync', async () => {
    await expect(ingestDbt(ctx, { manifest: v12(), name: 'jaffle_s', domain: 'nowhere' })).rejects.toThrow(
      /no domain "nowhere": create it first/,
    );
    const summary = await ingestDbt(ctx, { manifest: v12(), name: 'jaffle_s', classification: 'S' });
    expect(summary.created).toBe(10);
    const markings = await queryRows<{ classification: string; n: number }>(
      database.db,
      sql`select a.classification::text as classification, count(*)::int as n from assets a
          join sources s on s.id = a.source_id where s.kind = 'dbt' and s.name = 'jaffle_s' group by 1`,
    );
    expect(markings).toEqual([{ classification: 'S', n: 10 }]);
  });

  it('refuses what is not a supported manifest, and writes nothing', async () => {
    const before = await counts(database);
    const old = v7();
    old.metadata.dbt_schema_version = 'https://schemas.getdbt.com/dbt/manifest/v4.json';
    await expect(ingestDbt(ctx, { manifest: old })).rejects.toThrow(
      /dbt manifest schema v4 is not supported: this reads v7 to v12/,
    );
    await expect(ingestDbt(ctx, { manifest: runResults() })).rejects.toThrow(/not a dbt manifest/);
    const broken = v12();
    broken.nodes['model.jaffle_shop.orders'].depends_on = { nodes: 'model.jaffle_shop.stg_orders' };
    await expect(ingestDbt(ctx, { manifest: broken })).rejects.toThrow(
      /nodes\.model\.jaffle_shop\.orders\.depends_on\.nodes/,
    );
    const viewer = await contextAs(database, {
      id: 'dbt-viewer',
      displayName: 'Viewer',
      clearance: 'U',
      roles: ['viewer'],
    });
    await expect(ingestDbt(viewer, { manifest: v12() })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await counts(database)).toEqual(before);
  });
});

describe('dbt relations in a database the catalog already reads', () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  /** The v7 project, built in the scratch database instead of `postgres`. */
  const inScratch = () => {
    const manifest = v7();
    for (const node of Object.values(manifest.nodes) as Json[]) {
      if (node.database === 'postgres') node.database = scratch.name;
      if (node.compiled_code) node.compiled_code = node.compiled_code.replaceAll('"postgres".', `"${scratch.name}".`);
    }
    return manifest;
  };

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_src_dbt');
    const source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    const models = v7().nodes;
    const viewSql = (id: string) => (models[id].compiled_code as string).replaceAll('"postgres".', '');
    await source.unsafe(`
      create table raw_customers (id int, first_name text, last_name text);
      create table raw_orders (id int, user_id int, order_date date, status text);
      create table raw_payments (id int, order_id int, payment_method text, amount int);
      create view stg_customers as ${viewSql('model.jaffle_shop.stg_customers')};
      create view stg_orders as ${viewSql('model.jaffle_shop.stg_orders')};
      create view stg_payments as ${viewSql('model.jaffle_shop.stg_payments')};
      create table orders as ${viewSql('model.jaffle_shop.orders')};
      create table customers (customer_id int, first_name text, last_name text, first_order date,
        most_recent_order date, number_of_orders bigint, total_order_amount bigint)`);
    await source.end();
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'warehouse' }).discover());
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('maps every relation onto the ingested assets instead of duplicating them, and documents them', async () => {
    const customers = assetUrn('postgres', 'warehouse', 'public', 'customers');
    await updateAssetMetadata(ctx, customers, { description: 'Curated by a steward' });
    const before = await database.db.select({ id: assets.id }).from(assets);
    const summary = await ingestDbt(ctx, { manifest: inScratch() });
    expect(summary).toMatchObject({ models: 5, seeds: 3, mapped: 8, created: 0, edgesOpened: 8 });
    expect(await database.db.select({ id: assets.id }).from(assets)).toHaveLength(before.length);
    expect(await dbtEdges(database)).toEqual(jaffleEdges);

    // With the database's columns known, lineage reaches the seeds.
    expect(await dbtColumns(database, 'public.stg_customers')).toEqual([
      'raw_customers.first_name -> first_name DIRECT/IDENTITY',
      'raw_customers.id -> customer_id DIRECT/IDENTITY',
      'raw_customers.last_name -> last_name DIRECT/IDENTITY',
    ]);
    expect(await dbtColumns(database, 'public.stg_payments')).toContain(
      'raw_payments.amount -> amount DIRECT/TRANSFORMATION',
    );

    const orders = await asset(database, assetUrn('postgres', 'warehouse', 'public', 'orders'));
    expect(orders.description).toBe(
      'This table has basic information about orders, as well as some derived facts based on payments',
    );
    const [orderId] = await database.db
      .select()
      .from(columns)
      .where(and(eq(columns.assetId, orders.id), eq(columns.name, 'order_id')));
    expect(orderId!.description).toBe('This is a unique identifier for an order');
    expect(orderId!.dataType).toBe('integer');
    expect((await asset(database, customers)).description).toBe('Curated by a steward');
    expect((await asset(database, assetUrn('postgres', 'warehouse', 'public', 'stg_customers'))).tags).toEqual([
      'postgres',
      'test',
    ]);

    const rules = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from quality_rules r join assets a on a.id = r.asset_id
          join sources s on s.id = a.source_id where s.name = 'warehouse' and r.origin = 'dbt'`,
    );
    expect(rules[0]!.n).toBe(20);

    const again = await ingestDbt(ctx, { manifest: inScratch() });
    expect(again).toMatchObject({ created: 0, updated: 0, edgesOpened: 0, edgesClosed: 0 });
  });

  it('asks which source holds the project when two read the same database', async () => {
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'warehouse_copy' }).discover());
    await expect(ingestDbt(ctx, { manifest: inScratch() })).rejects.toThrow(
      /is in 2 catalog sources \(warehouse, warehouse_copy\): say which holds the project with --target-source/,
    );
    const chosen = await ingestDbt(ctx, { manifest: inScratch(), targetSource: 'warehouse' });
    expect(chosen).toMatchObject({ mapped: 8, edgesOpened: 0, edgesClosed: 0 });
  });

  it('does not map onto assets the principal may not see, and refuses a project whose assets it may not see', async () => {
    const steward = await contextAs(database, {
      id: 'dbt-u-steward',
      displayName: 'Steward',
      clearance: 'U',
      roles: ['steward'],
    });
    await annotateAssets(ctx, [
      { urn: assetUrn('postgres', 'warehouse', 'public', 'raw_orders'), classification: 'S' },
    ]);
    const summary = await ingestDbt(steward, { manifest: inScratch(), name: 'jaffle_u', targetSource: 'warehouse' });
    // raw_orders is not found (it is not visible), so the project describes its own.
    expect(summary).toMatchObject({ mapped: 7, created: 1 });
    await annotateAssets(ctx, [
      { urn: assetUrn('dbt', 'jaffle_u', `${scratch.name}.public`, 'raw_orders'), classification: 'S' },
    ]);
    await expect(
      ingestDbt(steward, { manifest: inScratch(), name: 'jaffle_u', targetSource: 'warehouse' }),
    ).rejects.toThrow(/dbt-u-steward may not ingest dbt project jaffle_u: ask its owner or an admin/);
  });
});
