import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '../cli/workspace.js';
import { queryRows } from '../db/create-db.js';
import { withSourceReader } from '../mcp-server/connectors/source-reader.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { allTools } from '../mcp-server/registry.js';
import { runTool } from '../mcp-server/run-tool.js';
import { runDueCycle } from '../mcp-server/scheduler/scheduler.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';

// biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
type Answer = Record<string, any>;

/**
 * The issue's "done when", on the demo workspace and only through the tools: each demo goal goes from
 * pipelines_suggest to a scheduled production deployment with a passing pipeline test, the scheduler runs
 * it, and a rollback brings the earlier output back to the production table in one call.
 */
describe('from a goal in words to a scheduled production pipeline', () => {
  let ws: Workspace;
  let close: () => Promise<void>;
  let sourceId: string;
  const monday = new Date('2026-11-23T09:00:00Z');
  let ctx: ServiceContext;

  beforeAll(async () => {
    ({ ws, sourceId, close } = await openDemoWorkspace('dataops_production'));
    ctx = { ...ws.ctx, clock: () => monday };
  }, 240_000);
  afterAll(() => close?.());

  async function call(name: string, args: Record<string, unknown>) {
    const tool = pipelineTools.find((t) => t.name === name)!;
    return (await runTool(tool as never, args, ctx)) as Answer;
  }
  /** Any tool of the server, as the same person. */
  async function catalog(name: string, args: Record<string, unknown>) {
    const tool = allTools.find((t) => t.name === name)!;
    return (await runTool(tool as never, args, ctx)) as Answer;
  }
  /** The id of the suggested node of a type (reading `urn`, for a source). */
  const nodeOf = (s: Answer, type: string, urn?: string): string =>
    s.nodes.find((n: Answer) => n.type === type && (!urn || n.data.config.urn === urn)).id;
  const count = async (table: string) =>
    Number(
      (
        await withSourceReader(ws.ctx, sourceId, (reader) =>
          reader.query<{ n: string | number }>(`select count(*) as n from ${table}`),
        )
      )[0]!.n,
    );

  it('monthly contract spend by vendor: suggested, previewed, tested, deployed on a schedule and run by the scheduler', async () => {
    const suggested = await call('pipelines_suggest', { goal: 'monthly contract spend by vendor' });
    expect(suggested.issues).toEqual([]);
    const id = suggested.pipeline.id;
    const output = nodeOf(suggested, 'destination_table');
    const preview = await call('pipelines_preview', { pipeline: id, node: output, limit: 5 });
    expect(preview.rows).toHaveLength(5);

    // The analyst adds a check before the output; a typo is caught at the node, then fixed.
    const feeder = suggested.edges.find((e: Answer) => e.target === output).source as string;
    await call('pipelines_disconnect', { pipeline: id, source: feeder, target: output });
    const typo = await call('pipelines_add_node', {
      pipeline: id,
      id: 'checked',
      type: 'validate',
      after: feeder,
      config: { rules: [{ check: 'not_null', column: 'vendorid' }] },
    });
    expect(typo.issues).toContainEqual({
      nodeId: 'checked',
      message: 'node `checked` (validate): column `vendorid` does not exist; did you mean `vendor_id`?',
    });
    await call('pipelines_update_node', {
      pipeline: id,
      id: 'checked',
      config: {
        rules: [
          { check: 'not_null', column: 'vendor_id' },
          { check: 'not_null', column: 'month' },
        ],
      },
    });
    expect((await call('pipelines_connect', { pipeline: id, source: 'checked', target: output })).issues).toEqual([]);

    const tested = await call('pipelines_add_test', {
      pipeline: id,
      name: 'paid invoices add up per vendor and month',
      inputs: {
        [nodeOf(suggested, 'source_dataset', demoUrn('contracts.payments'))]: [
          { payment_id: 1, contract_id: 10, paid_on: '2026-03-05', amount: 100, status: 'Paid' },
          { payment_id: 2, contract_id: 10, paid_on: '2026-03-20', amount: '50.50', status: 'Paid' },
          { payment_id: 3, contract_id: 10, paid_on: '2026-04-02', amount: 70, status: 'Paid' },
          { payment_id: 4, contract_id: 10, paid_on: null, amount: 999, status: 'Pending' },
        ],
        [nodeOf(suggested, 'source_dataset', demoUrn('contracts.contracts'))]: [{ contract_id: 10, vendor_id: 7 }],
        [nodeOf(suggested, 'source_dataset', demoUrn('contracts.vendors'))]: [
          { vendor_id: 7, legal_name: 'Acme Federal' },
        ],
      },
      expect: {
        [output]: [
          { vendor_id: 7, legal_name: 'Acme Federal', month: '2026-03-01', spend: 150.5 },
          { vendor_id: 7, legal_name: 'Acme Federal', month: '2026-04-01', spend: 70 },
        ],
      },
    });
    expect(tested.results).toEqual([
      { name: 'paid invoices add up per vendor and month', passed: true, problems: [], diffs: [] },
    ]);

    const deployed = await call('pipelines_deploy', {
      pipeline: id,
      schedule: { cron: '0 6 * * 1-5', timeZone: 'America/New_York' },
    });
    expect(deployed).toMatchObject({ environment: 'prod', nextRunAt: '2026-11-23T11:00:00.000Z' });
    expect(deployed.run.status, deployed.run.error).toBe('succeeded');
    const table = deployed.run.stats.destinations[output].table as string;
    expect(table.endsWith('_dev')).toBe(false);
    expect(await count(table)).toBe(deployed.run.stats.destinations[output].rows);

    // The output is now a data product of the catalog: lineage from its inputs, the check as a quality rule,
    // and a marking no lower than its inputs'.
    const [productUrn] = deployed.run.stats.published.map((p: Answer) => p.urn) as string[];
    const product = await catalog('catalog_get_asset', { urn: productUrn });
    expect(product.tags).toContain('data-product');
    expect(product.dataProduct.pipeline).toMatchObject({ id, node: output });
    const inputs = await queryRows<{ level: string }>(
      ws.database.db,
      sql`select classification::text as level from assets where urn in (${demoUrn('contracts.payments')}, ${demoUrn('contracts.contracts')}, ${demoUrn('contracts.vendors')})`,
    );
    const order = ['U', 'C', 'S', 'TS'];
    const highest = Math.max(...inputs.map((i) => order.indexOf(i.level)));
    expect(order.indexOf(product.classification)).toBeGreaterThanOrEqual(highest);
    const lineage = await catalog('lineage_get', { urn: productUrn, direction: 'upstream', depth: 1 });
    expect(
      lineage.nodes
        .filter((n: Answer) => !n.data.focus)
        .map((n: Answer) => n.data.qualifiedName)
        .sort(),
    ).toEqual(['contracts.contracts', 'contracts.payments', 'contracts.vendors']);
    const { rules } = await catalog('quality_list_rules', { urn: productUrn });
    expect(rules.map((r: Answer) => [r.type, r.column, r.origin])).toEqual([
      ['not_null', 'month', 'pipeline'],
      ['not_null', 'vendor_id', 'pipeline'],
    ]);

    // The scheduler's cycle after 06:00 New York time runs the deployed version into the same table (the
    // pipeline job is the most overdue, so one job is enough to reach it).
    const cycle = await runDueCycle(
      { ...ws.ctx, clock: () => new Date('2026-11-23T11:00:30Z') },
      { instanceId: 'production-test', maxJobs: 1 },
    );
    expect(cycle).toMatchObject({ ran: 1, failed: [] });
    const [scheduled] = await queryRows<{ status: string; environment: string; version: number }>(
      ws.database.db,
      sql`select status, environment, version from pipeline_runs where pipeline_id = ${id} and trigger = 'schedule'`,
    );
    expect(scheduled).toEqual({ status: 'succeeded', environment: 'prod', version: deployed.version });
    expect((await call('pipelines_get', { pipeline: id })).deployments).toEqual([
      expect.objectContaining({ environment: 'prod', schedule: '0 6 * * 1-5', nextRunAt: '2026-11-24T11:00:00.000Z' }),
    ]);
  });

  it('contracts with vendor ratings: tested and deployed; a bad edit in prod is rolled back in one call', async () => {
    const suggested = await call('pipelines_suggest', {
      goal: 'combine contract data with vendor performance ratings',
    });
    expect(suggested.issues).toEqual([]);
    const id = suggested.pipeline.id;
    const join = nodeOf(suggested, 'join');
    const contracts = nodeOf(suggested, 'source_dataset', demoUrn('contracts.contracts'));
    const scorecard = nodeOf(suggested, 'source_dataset', demoUrn('performance.vendor_scorecard'));
    const tested = await call('pipelines_add_test', {
      pipeline: id,
      name: 'every contract keeps its row, rated or not',
      inputs: {
        [contracts]: [
          { contract_id: 1, vendor_id: 7 },
          { contract_id: 2, vendor_id: 8 },
        ],
        [scorecard]: [{ vendor_id: 7, legal_name: 'Acme Federal', avg_quality_score: 4.5 }],
      },
      expect: {
        [join]: [
          { contract_id: 1, vendor_id: 7, legal_name: 'Acme Federal', avg_quality_score: 4.5 },
          { contract_id: 2, vendor_id: 8 },
        ],
      },
    });
    expect(tested).toMatchObject({ passed: 1, failed: 0 });
    const first = await call('pipelines_deploy', { pipeline: id });
    expect(first.run.status, first.run.error).toBe('succeeded');
    const output = nodeOf(suggested, 'destination_table');
    const table = first.run.stats.destinations[output].table as string;
    const contractsCount = await count('contracts.contracts');
    expect(await count(table)).toBe(contractsCount);

    // An inner join would drop unrated contracts: the test catches it, and production refuses the version.
    await call('pipelines_update_node', { pipeline: id, id: join, config: { kind: 'inner' } });
    await expect(call('pipelines_deploy', { pipeline: id })).rejects.toThrow(
      /1 of 1 pipeline tests fail.*\n.*every contract keeps its row.*\n.*at `\w+` missing: \{"contract_id":2,/,
    );
    await call('pipelines_update_node', { pipeline: id, id: join, config: { kind: 'left' } });
    // A sample filter left in while developing passes the test (its rows are in the sample) and reaches prod ...
    await call('pipelines_disconnect', { pipeline: id, source: contracts, target: join });
    await call('pipelines_add_node', {
      pipeline: id,
      id: 'sample',
      type: 'filter',
      after: contracts,
      config: { condition: 'contract_id <= 100' },
    });
    await call('pipelines_connect', { pipeline: id, source: 'sample', target: join, targetHandle: 'left' });
    const sampled = await call('pipelines_deploy', { pipeline: id });
    expect(sampled.run.status, sampled.run.error).toBe('succeeded');
    expect(await count(table)).toBe(100);

    // ... and one rollback to the first version brings every contract back to production.
    const back = await call('pipelines_rollback', { pipeline: id, version: first.version });
    expect(back.notDeployed).toBeNull();
    expect(back.deployment).toMatchObject({ environment: 'prod', version: back.version });
    expect(back.deployment.run.status).toBe('succeeded');
    expect(await count(table)).toBe(contractsCount);
  });
});
