import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '../cli/workspace.js';
import { withSourceReader } from '../mcp-server/connectors/source-reader.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';

const handWritten = `
  select c.vendor_id, v.legal_name, cast(extract(year from p.paid_on) as integer) as year,
         cast(extract(month from p.paid_on) as integer) as month, sum(p.amount) as spend
  from contracts.payments p
  join contracts.contracts c on c.contract_id = p.contract_id
  join contracts.vendors v on v.vendor_id = c.vendor_id
  where p.status = 'Paid'
  group by 1, 2, 3, 4`;

/**
 * "Monthly contract spend by vendor" on the demo workspace: its data sits in an embedded database beside an
 * embedded catalog (or in a database on the server beside a server catalog), so this runs a pipeline through
 * both kinds of writable connection. Tools are called through runTool, as every surface calls them.
 */
describe('a pipeline on the demo workspace', () => {
  let ws: Workspace;
  let close: () => Promise<void>;
  let sourceId: string;

  beforeAll(async () => {
    ({ ws, sourceId, close } = await openDemoWorkspace('dataops_demopipe'));
  }, 240_000);
  afterAll(() => close?.());

  /** Calls a tool the way every surface does (validated and audited), as the local administrator. */
  async function call(name: string, args: Record<string, unknown>) {
    const tool = pipelineTools.find((t) => t.name === name)!;
    // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
    return (await runTool(tool as never, args, ws.ctx)) as Record<string, any>;
  }

  it('builds monthly contract spend by vendor, previews the rows a hand-written query gives, and runs twice', async () => {
    const { id } = await call('pipelines_create', { name: 'monthly contract spend by vendor' });
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'payments', type: 'source_dataset', config: { urn: demoUrn('contracts.payments') } });
    await add({ id: 'paid', type: 'filter', after: 'payments', config: { condition: "status = 'Paid'" } });
    await add({
      id: 'slim',
      type: 'select',
      after: 'paid',
      config: { columns: [{ column: 'contract_id' }, { column: 'paid_on' }, { column: 'amount' }] },
    });
    await add({ id: 'contracts', type: 'source_dataset', config: { urn: demoUrn('contracts.contracts') } });
    await add({ id: 'vendors', type: 'source_dataset', config: { urn: demoUrn('contracts.vendors') } });
    await add({ id: 'by_contract', type: 'join', config: { on: [{ left: 'contract_id', right: 'contract_id' }] } });
    await add({ id: 'by_vendor', type: 'join', config: { on: [{ left: 'vendor_id', right: 'vendor_id' }] } });
    for (const [source, target, targetHandle] of [
      ['slim', 'by_contract', 'left'],
      ['contracts', 'by_contract', 'right'],
      ['by_contract', 'by_vendor', 'left'],
      ['vendors', 'by_vendor', 'right'],
    ] as const) {
      await call('pipelines_connect', { pipeline: id, source, target, targetHandle });
    }
    await add({
      id: 'months',
      type: 'derive',
      after: 'by_vendor',
      config: {
        columns: [
          { name: 'year', expression: 'cast(extract(year from paid_on) as integer)' },
          { name: 'month', expression: 'cast(extract(month from paid_on) as integer)' },
        ],
      },
    });
    await add({
      id: 'spend',
      type: 'aggregate',
      after: 'months',
      config: {
        groupBy: ['vendor_id', 'legal_name', 'year', 'month'],
        measures: [{ name: 'spend', fn: 'sum', column: 'amount' }],
      },
    });
    const saved = await add({
      id: 'out',
      type: 'destination_table',
      after: 'spend',
      config: { schema: 'contracts', table: 'monthly_vendor_spend', mode: 'replace' },
    });
    expect(saved.issues).toEqual([]);

    const expected = await withSourceReader(ws.ctx, sourceId, (reader) =>
      reader.query<Record<string, unknown>>(handWritten),
    );
    const key = (r: Record<string, unknown>) => `${r.vendor_id}/${r.year}/${r.month}`;
    const byKey = new Map(expected.map((r) => [key(r), r]));
    const preview = await call('pipelines_preview', { pipeline: id, node: 'spend', limit: 100 });
    expect(preview.rows).toHaveLength(100);
    for (const row of preview.rows) {
      const want = byKey.get(key(row))!;
      expect(Number(row.spend)).toBeCloseTo(Number(want.spend), 2);
      expect(row.legal_name).toBe(want.legal_name);
    }

    let table = '';
    for (const attempt of [1, 2]) {
      const run = await call('pipelines_run', { pipeline: id });
      expect(run.status, `run ${attempt}: ${run.error}`).toBe('succeeded');
      expect(run.stats.destinations.out.rows).toBe(expected.length);
      table = run.stats.destinations.out.table;
    }
    // A run writes into dev unless asked for prod: the configured table suffixed `_dev`.
    expect(table).toBe('contracts.monthly_vendor_spend_dev');
    const [written] = await withSourceReader(ws.ctx, sourceId, (reader) =>
      reader.query<{ n: string | number; total: string | number }>(
        `select count(*) as n, sum(spend) as total from ${table}`,
      ),
    );
    expect(Number(written!.n)).toBe(expected.length);
    const total = expected.reduce((sum, r) => sum + Number(r.spend), 0);
    expect(Number(written!.total)).toBeCloseTo(total, 2);

    // To production: a pipeline test on rows of its own (read as the demo's types, domains included), then one
    // call deploys it on a schedule and writes the configured table.
    const tested = await call('pipelines_add_test', {
      pipeline: id,
      name: 'paid spend per vendor and month',
      inputs: {
        payments: [
          { payment_id: 1, contract_id: 10, paid_on: '2026-03-05', amount: 100, status: 'Paid' },
          { payment_id: 2, contract_id: 10, paid_on: '2026-03-20', amount: '50.50', status: 'Paid' },
          { payment_id: 3, contract_id: 10, paid_on: null, amount: 999, status: 'Pending' },
        ],
        contracts: [{ contract_id: 10, vendor_id: 7 }],
        vendors: [{ vendor_id: 7, legal_name: 'Acme Federal' }],
      },
      expect: { out: [{ vendor_id: 7, legal_name: 'Acme Federal', year: 2026, month: 3, spend: 150.5 }] },
    });
    expect(tested.results).toEqual([
      { name: 'paid spend per vendor and month', passed: true, problems: [], diffs: [] },
    ]);
    const deployed = await call('pipelines_deploy', {
      pipeline: id,
      schedule: { cron: '0 6 * * 1', timeZone: 'America/New_York' },
    });
    expect(deployed).toMatchObject({ environment: 'prod', schedule: '0 6 * * 1', timeZone: 'America/New_York' });
    expect(deployed.run.status, deployed.run.error).toBe('succeeded');
    expect(deployed.run.stats.destinations.out).toMatchObject({
      table: 'contracts.monthly_vendor_spend',
      rows: expected.length,
    });
  });
});
