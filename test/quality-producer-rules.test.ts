import { readFileSync } from 'node:fs';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { assets, qualityResults, qualityRules } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { ingestDbt } from '../mcp-server/lineage/dbt.js';
import { ingestOpenLineage } from '../mcp-server/lineage/openlineage.js';
import { runChecks } from '../mcp-server/quality/checks.js';
import { sharedData } from './helpers/source-databases.js';
import { createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

// biome-ignore lint/suspicious/noExplicitAny: dbt's manifest JSON, edited in place like dbt.test.ts does
type Json = Record<string, any>;
const v7 = (): Json =>
  JSON.parse(readFileSync(path.join(sharedData, 'dbt/jaffle_shop-postgres-dbt1.3-v7/manifest.json'), 'utf8'));

/**
 * Rules from the producers the lineage work reads: dbt's tests run by our engine against the warehouse
 * they test, and OpenLineage's dataQualityAssertions facets kept as rules with the producer's verdicts.
 */
describe('quality rules from dbt tests and OpenLineage assertions', () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const orders = () => assetUrn('postgres', 'warehouse', 'public', 'orders');
  const ordersId = async () =>
    (await ctx.db.select({ id: assets.id }).from(assets).where(eq(assets.urn, orders())))[0]!.id;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_dbt_rules');
    const source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    const models = v7().nodes as Json;
    const viewSql = (id: string) => (models[id].compiled_code as string).replaceAll('"postgres".', '');
    // The warehouse with defects dbt's tests would catch: order 2 loaded twice, a status outside the
    // accepted list, and customers never loaded (every order's customer is missing).
    await source.unsafe(`
      create table raw_customers (id int, first_name text, last_name text);
      create table raw_orders (id int, user_id int, order_date date, status text);
      create table raw_payments (id int, order_id int, payment_method text, amount int);
      insert into raw_orders values (1, 10, '2026-01-02', 'placed'), (2, 11, '2026-01-03', 'shipped'),
        (2, 11, '2026-01-03', 'shipped'), (3, 12, '2026-01-04', 'misrouted');
      insert into raw_payments values (1, 1, 'credit_card', 1000), (2, 2, 'coupon', 500), (3, 3, 'gift_card', 700);
      create view stg_customers as ${viewSql('model.jaffle_shop.stg_customers')};
      create view stg_orders as ${viewSql('model.jaffle_shop.stg_orders')};
      create view stg_payments as ${viewSql('model.jaffle_shop.stg_payments')};
      create table orders as ${viewSql('model.jaffle_shop.orders')};
      create table customers (customer_id int, first_name text, last_name text, first_order date,
        most_recent_order date, number_of_orders bigint, total_order_amount bigint)`);
    await source.end();
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'warehouse' }).discover(), {
      connection: scratch.url,
    });
    const manifest = v7();
    for (const node of Object.values(manifest.nodes) as Json[]) {
      if (node.database === 'postgres') node.database = scratch.name;
    }
    // A singular test (plain SQL returning the failing rows), as dbt compiles it.
    const {
      test_metadata: _generic,
      column_name: _column,
      ...unique
    } = manifest.nodes['test.jaffle_shop.unique_orders_order_id.fed79b3a6e'] as Json;
    manifest.nodes['test.jaffle_shop.assert_order_status_known'] = {
      ...unique,
      unique_id: 'test.jaffle_shop.assert_order_status_known',
      name: 'assert_order_status_known',
      file_key_name: undefined,
      raw_code: "select order_id from {{ ref('orders') }} where status not in ('placed', 'shipped', 'completed')",
      compiled_code: `select order_id from "${scratch.name}"."public"."orders" where status not in ('placed', 'shipped', 'completed')`,
    };
    await ingestDbt(ctx, { manifest });
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it("runs dbt's tests against the warehouse and finds what they would", async () => {
    const results = await runChecks(ctx, { assetId: await ordersId() });
    const byName = Object.fromEntries(results.map((r) => [r.rule, r]));
    expect(byName.unique_orders_order_id).toMatchObject({ passed: false, checkedRows: 4, failedRows: 2 });
    expect(byName.unique_orders_order_id!.observed).toMatchObject({ duplicateValues: 1 });
    expect(byName.not_null_orders_order_id).toMatchObject({ passed: true, failedRows: 0 });
    expect(byName.accepted_values_orders_status__placed__shipped__completed__return_pending__returned).toMatchObject({
      passed: false,
      failedRows: 1,
      evidence: { sample: [{ status: 'misrouted' }] },
    });
    expect(byName.relationships_orders_customer_id__customer_id__ref_customers_).toMatchObject({
      passed: false,
      checkedRows: 4,
      failedRows: 4,
    });
    expect(byName.assert_order_status_known).toMatchObject({ type: 'dbt_test', passed: false, failedRows: 1 });
    expect(results.every((r) => !r.summary.startsWith('could not run'))).toBe(true);
  });

  it('keeps OpenLineage assertions as rules with the verdicts the producer reported, once per event', async () => {
    const event = {
      eventType: 'COMPLETE',
      eventTime: '2026-06-01T06:00:00Z',
      producer: 'https://github.com/great-expectations/great_expectations',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId: '0193a8b0-0000-7000-8000-000000000001' },
      job: { namespace: 'ge', name: 'orders_suite' },
      inputs: [
        {
          namespace: 'postgres://localhost:5432',
          name: `${scratch.name}.public.orders`,
          inputFacets: {
            dataQualityAssertions: {
              _producer: 'https://github.com/great-expectations/great_expectations',
              _schemaURL: 'https://openlineage.io/spec/facets/1-0-0/DataQualityAssertionsDatasetFacet.json',
              assertions: [
                { assertion: 'expect_column_values_to_not_be_null', column: 'order_id', success: true },
                { assertion: 'expect_column_values_to_be_unique', column: 'order_id', success: false },
                { assertion: 'expect_table_row_count_to_be_between', success: true },
              ],
            },
          },
        },
      ],
      outputs: [],
    };
    await ingestOpenLineage(ctx, [event]);
    await ingestOpenLineage(ctx, [event]);
    const rules = await ctx.db
      .select()
      .from(qualityRules)
      .where(and(eq(qualityRules.assetId, await ordersId()), eq(qualityRules.origin, 'openlineage')));
    expect(rules.map((r) => [r.name, r.type, r.dimension]).sort()).toEqual([
      ['expect_column_values_to_be_unique on order_id', 'unique', 'uniqueness'],
      ['expect_column_values_to_not_be_null on order_id', 'not_null', 'completeness'],
      ['expect_table_row_count_to_be_between', 'external', 'validity'],
    ]);
    const verdicts = await ctx.db
      .select({ ruleId: qualityResults.ruleId, passed: qualityResults.passed, ranAt: qualityResults.ranAt })
      .from(qualityResults)
      .where(eq(qualityResults.assetId, await ordersId()));
    const reported = verdicts.filter((v) => rules.some((r) => r.id === v.ruleId));
    expect(reported).toHaveLength(3);
    expect(reported.every((v) => v.ranAt.toISOString() === '2026-06-01T06:00:00.000Z')).toBe(true);
    expect(reported.filter((v) => !v.passed).map((v) => rules.find((r) => r.id === v.ruleId)!.name)).toEqual([
      'expect_column_values_to_be_unique on order_id',
    ]);

    // The assertions we can express run here too; the one we cannot is left to its producer.
    const ours = await runChecks(ctx, { assetId: await ordersId(), ruleIds: rules.map((r) => r.id) });
    expect(ours.map((r) => [r.rule, r.passed]).sort()).toEqual([
      ['expect_column_values_to_be_unique on order_id', false],
      ['expect_column_values_to_not_be_null on order_id', true],
    ]);
  });
});
