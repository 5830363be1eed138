import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '../cli/workspace.js';
import { isDataOpsError } from '../core/errors.js';
import { queryRows } from '../db/create-db.js';
import { withSourceReader } from '../mcp-server/connectors/source-reader.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';

/** "Monthly contract spend by vendor", written by hand: paid invoices, by the vendor of their contract. */
const monthlySpend = `
  select c.vendor_id, v.legal_name, cast(date_trunc('month', p.paid_on) as date) as month, sum(p.amount) as spend
  from contracts.payments p
  join contracts.contracts c on c.contract_id = p.contract_id
  join contracts.vendors v on v.vendor_id = c.vendor_id
  where p.status = 'Paid'
  group by 1, 2, 3`;

/** "Combine contract data with vendor performance ratings", written by hand: every contract, its vendor's scorecard. */
const contractsWithRatings = `
  select c.*, s.legal_name, s.business_size, s.evaluations, s.avg_quality_score, s.avg_schedule_score,
    s.pct_recommended, s.last_signed_on, s.open_cars, s.lifetime_obligated_usd, s.tier
  from contracts.contracts c left join performance.vendor_scorecard s on s.vendor_id = c.vendor_id`;

type Row = Record<string, unknown>;

/** One spelling for values read through different drivers: dates as ISO text, everything else as text. */
function same(row: Row): Row {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v === null ? null : String(v)]),
  );
}

const day = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);

/**
 * pipelines_suggest on the demo workspace: a goal in words becomes a graph that validates, previews the rows a
 * hand-written query gives and runs, using only datasets (and columns) the caller may see.
 */
describe('pipelines_suggest on the demo workspace', () => {
  let ws: Workspace;
  let close: () => Promise<void>;
  let sourceId: string;
  let analyst: ServiceContext;

  beforeAll(async () => {
    ({ ws, sourceId, close } = await openDemoWorkspace('dataops_suggest'));
    // A budget analyst cleared for U: performance scorecards and evaluations (C) are not for her.
    analyst = await ws.contextFor('a.chen');
  }, 240_000);
  afterAll(() => close?.());

  async function call(name: string, args: Record<string, unknown>, ctx: ServiceContext = ws.ctx) {
    const tool = pipelineTools.find((t) => t.name === name)!;
    // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
    return (await runTool(tool as never, args, ctx)) as Record<string, any>;
  }

  const handWritten = (query: string) => withSourceReader(ws.ctx, sourceId, (reader) => reader.query<Row>(query));
  // biome-ignore lint/suspicious/noExplicitAny: a tool answer, as `call` returns it
  const nodeOf = (s: Record<string, any>, type: string): string[] =>
    s.nodes.filter((n: { type: string }) => n.type === type).map((n: { id: string }) => n.id);

  it('proposes monthly contract spend by vendor over paid payments, and it previews and runs as the hand-written query', async () => {
    const suggested = await call('pipelines_suggest', { goal: 'monthly contract spend by vendor' });
    expect(suggested.issues).toEqual([]);
    expect(suggested.pipeline).toMatchObject({ version: 1, semver: '0.1.0' });
    expect(suggested.datasets.map((d: { urn: string }) => d.urn)).toEqual([
      demoUrn('contracts.payments'),
      demoUrn('contracts.contracts'),
      demoUrn('contracts.vendors'),
    ]);
    const said = suggested.explanation.join('\n');
    expect(said).toMatch(/`status` is «Paid»/);
    expect(said).toMatch(/first day of the month of `paid_on`/);
    expect(said).toMatch(/payments\.contract_id = contracts\.contract_id \(foreign key fk_payments_contract_id\)/);
    expect(said).toMatch(/contracts\.vendor_id = vendors\.vendor_id \(foreign key fk_contracts_vendor_id\)/);
    expect(said).toMatch(/group by the key of vendors, `vendor_id` and its name `legal_name`/);
    // Laid out left to right: every edge goes from a node further left to one further right.
    const x = new Map<string, number>(
      suggested.nodes.map((n: { id: string; position: { x: number } }) => [n.id, n.position.x]),
    );
    for (const e of suggested.edges) expect(x.get(e.source)!).toBeLessThan(x.get(e.target)!);

    const id = suggested.pipeline.id;
    const validated = await call('pipelines_validate', { pipeline: id });
    expect(validated.valid).toBe(true);
    const [output] = nodeOf(suggested, 'destination_table');
    expect(validated.outputs[output!]).toEqual([
      { name: 'vendor_id', type: 'integer' },
      { name: 'legal_name', type: 'text' },
      { name: 'month', type: 'date' },
      { name: 'spend', type: 'numeric' },
    ]);

    const expected = await handWritten(monthlySpend);
    const key = (r: Row) => `${r.vendor_id}/${day(r.month)}`;
    const byKey = new Map(expected.map((r) => [key(r), r]));
    const [sorted] = nodeOf(suggested, 'sort');
    const preview = await call('pipelines_preview', { pipeline: id, node: sorted, limit: 300 });
    expect(preview.rows).toHaveLength(300);
    for (const row of preview.rows) {
      const want = byKey.get(key(row));
      expect(want, key(row)).toBeDefined();
      expect(row.legal_name).toBe(want!.legal_name);
      expect(Number(row.spend)).toBeCloseTo(Number(want!.spend), 2);
    }
    // The earliest months come first, vendors by name within a month.
    const order = preview.rows.map((r: Row) => `${day(r.month)} ${r.legal_name}`);
    expect(order).toEqual([...order].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const firstMonth = expected.map((r) => day(r.month)).sort()[0];
    expect(day(preview.rows[0].month)).toBe(firstMonth);

    const run = await call('pipelines_run', { pipeline: id });
    expect(run.status, run.error).toBe('succeeded');
    const written = run.stats.destinations[output!];
    expect(written.rows).toBe(expected.length);
    const [table] = await withSourceReader(ws.ctx, sourceId, (reader) =>
      reader.query<{ n: string | number; total: string | number }>(
        `select count(*) as n, sum(spend) as total from ${written.table}`,
      ),
    );
    expect(Number(table!.n)).toBe(expected.length);
    expect(Number(table!.total)).toBeCloseTo(
      expected.reduce((sum, r) => sum + Number(r.spend), 0),
      2,
    );
  });

  it('combines contract data with vendor performance ratings: every contract, with its vendor’s scorecard', async () => {
    const suggested = await call('pipelines_suggest', {
      goal: 'combine contract data with vendor performance ratings',
    });
    expect(suggested.issues).toEqual([]);
    expect(suggested.datasets.map((d: { urn: string }) => d.urn)).toEqual([
      demoUrn('contracts.contracts'),
      demoUrn('performance.vendor_scorecard'),
    ]);
    expect(nodeOf(suggested, 'aggregate')).toEqual([]);
    const said = suggested.explanation.join('\n');
    expect(said).toMatch(
      /Left join performance\.vendor_scorecard on contracts\.vendor_id = vendor_scorecard\.vendor_id/,
    );
    expect(said).toMatch(/both hold vendors\.vendor_id/);

    const id = suggested.pipeline.id;
    expect((await call('pipelines_validate', { pipeline: id })).valid).toBe(true);
    const expected = await handWritten(contractsWithRatings);
    const byContract = new Map(expected.map((r) => [String(r.contract_id), same(r)]));
    const [joined] = nodeOf(suggested, 'join');
    const preview = await call('pipelines_preview', { pipeline: id, node: joined, limit: 500 });
    // The same columns, once each (the scorecard's vendor_id is the contract's).
    expect(preview.columns.map((c: { name: string }) => c.name)).toEqual(Object.keys(expected[0]!));
    const shown = preview.columns
      .filter((c: { treatment: string }) => c.treatment === 'shown')
      .map((c: { name: string }) => c.name);
    expect(shown).toContain('avg_quality_score');
    expect(preview.rows).toHaveLength(500);
    for (const row of preview.rows) {
      const want = byContract.get(String(row.contract_id))!;
      const got = same(row);
      for (const column of shown) expect(got[column], `${column} of contract ${row.contract_id}`).toBe(want[column]);
    }

    const run = await call('pipelines_run', { pipeline: id });
    expect(run.status, run.error).toBe('succeeded');
    const [output] = nodeOf(suggested, 'destination_table');
    expect(run.stats.destinations[output!].rows).toBe(expected.length);
  });

  it('says what it searched and how to name datasets when nothing matches the goal', async () => {
    const refused = await call('pipelines_suggest', { goal: 'quarterly zebra migrations by herd' }).catch((e) => e);
    expect(isDataOpsError(refused)).toBe(true);
    expect(refused.code).toBe('not_found');
    expect(refused.message).toMatch(/no table or view you may see fits the goal "quarterly zebra migrations by herd"/);
    expect(refused.message).toMatch(/searched the catalog for "zebra migration", "herd"/);
    expect(refused.message).toMatch(/Name the datasets to use with `datasets`/);
  });

  it('uses named datasets, and never a dataset or column the caller may not see', async () => {
    const named = await call('pipelines_suggest', {
      goal: 'monthly spend by vendor',
      datasets: [demoUrn('contracts.obligations')],
      create: false,
    });
    expect(named.pipeline).toBeNull();
    expect(named.issues).toEqual([]);
    expect(named.datasets[0].urn).toBe(demoUrn('contracts.obligations'));
    expect(named.explanation.join('\n')).toMatch(/month of `action_date`/);

    // The analyst may not see the scorecard or the evaluations (C): the ratings come from what she may see.
    const hidden = ['performance.vendor_scorecard', 'performance.evaluations', 'performance.vendor_responses'];
    const forAnalyst = await call(
      'pipelines_suggest',
      { goal: 'combine contract data with vendor performance ratings', create: false },
      analyst,
    );
    expect(forAnalyst.issues).toEqual([]);
    const text = JSON.stringify(forAnalyst);
    for (const name of hidden) expect(text).not.toContain(name.split('.')[1]);
    for (const { urn } of forAnalyst.datasets) {
      const [visible] = await queryRows<{ classification: string }>(
        ws.database.db,
        sql`select classification::text from assets where urn = ${urn}`,
      );
      expect(visible!.classification).toBe('U');
    }

    // Naming a hidden dataset gets the answer a dataset that does not exist gets.
    const refuse = (urn: string) =>
      call('pipelines_suggest', { goal: 'vendor ratings', datasets: [urn], create: false }, analyst).catch(
        (e: Error & { code: string }) => `${e.code}: ${e.message.replace(urn, '<urn>')}`,
      );
    expect(await refuse(demoUrn('performance.vendor_scorecard'))).toBe(
      await refuse(demoUrn('performance.no_such_scorecard')),
    );

    // A column marked above her clearance (programs.is_special_access, S) is left out, not carried along.
    const programs = await call(
      'pipelines_suggest',
      { goal: 'acquisition programs', datasets: [demoUrn('contracts.programs')], create: false },
      analyst,
    );
    expect(programs.issues).toEqual([]);
    expect(JSON.stringify(programs)).not.toContain('is_special_access');
    expect(nodeOf(programs, 'select')).toHaveLength(1);
  });
});
