import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import { releaseEmbedded } from '../mcp-server/connectors/source-reader.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { openDemoSource } from '../mcp-server/demo/demo-source.js';
import { nodeSelect } from '../mcp-server/pipelines/compile.js';
import { environmentTable, previewPipeline } from '../mcp-server/pipelines/run.js';
import { loadPipeline } from '../mcp-server/pipelines/store.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { analyzePipeline } from '../mcp-server/pipelines/validate.js';
import { runTool } from '../mcp-server/run-tool.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/**
 * The node palette beyond the basic transforms (cleanse, enrich, pivot, profile, source queries and file
 * destinations), built through the MCP tools on a small source database whose rows are few enough that every
 * expectation below is worked out by hand from the fixture.
 */
const fixture = `
  create table people (id int primary key, name text, email text, city text, joined date, score numeric(6,2));
  insert into people values
    (1, '  Ann   Lee ', 'ANN@ARMY.MIL', 'east', '2024-01-05', 10.50),
    (2, 'Bob', '', 'west', null, null),
    (3, 'cy  young', 'cy@navy.mil', null, '2024-02-10', 7.25),
    (4, 'Dee', null, 'east', '2024-03-01', 3.00);
  create table cities (city text, label text, population int);
  insert into cities values ('east', 'East B', 200), ('east', 'East A', 100), ('west', 'West End', 50),
    ('north', 'North', 10);
  create table sales (id int, person_id int, region text, quarter text, amount numeric(8,2));
  insert into sales values (1, 1, 'east', 'Q1', 10), (2, 1, 'east', 'Q2', 20), (3, 2, 'west', 'Q1', 5),
    (4, 2, 'west', 'Q1', 7), (5, 3, 'east', 'Q3', 1), (6, 4, 'north', 'Q1', 100);
  create sequence tickets;`;

const shop = (table: string) => assetUrn('postgres', 'nodeshop', 'public', table);

describe('the pipeline node palette on a small database', () => {
  let database: Database;
  let admin: ServiceContext;
  let analyst: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;
  let exportsDir: string;

  beforeAll(async () => {
    database = await createTestDb();
    exportsDir = await mkdtemp(path.join(tmpdir(), 'dataops-exports-'));
    admin = { ...(await createTestContext(database)), exportsDir };
    analyst = await contextAs(database, { id: 'una', displayName: 'Una Analyst', clearance: 'U', roles: ['steward'] });
    scratch = await createScratchDatabase(serverUrl, 'dataops_pipeline_nodes');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(fixture);
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'nodeshop' }).discover(), {
      connection: scratch.url,
    });
  }, 60_000);

  afterAll(async () => {
    await source?.end();
    await database?.close();
    await scratch?.drop();
    if (exportsDir) await rm(exportsDir, { recursive: true, force: true });
  });

  // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
  async function call(name: string, args: Record<string, unknown>, ctx = admin): Promise<Record<string, any>> {
    const tool = pipelineTools.find((t) => t.name === name)!;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    return (await runTool(tool as never, args, ctx)) as Record<string, any>;
  }

  /** A new pipeline and an `add` that adds nodes to it. */
  async function pipeline(name: string, ctx = admin) {
    const { id } = await call('pipelines_create', { name }, ctx);
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: id, ...args }, ctx);
    const connect = (sourceNode: string, target: string, targetHandle?: string) =>
      call(
        'pipelines_connect',
        { pipeline: id, source: sourceNode, target, ...(targetHandle ? { targetHandle } : {}) },
        ctx,
      );
    const preview = async (node: string) =>
      (await call('pipelines_preview', { pipeline: id, node, limit: 100 }, ctx)) as {
        columns: { name: string; type: string }[];
        rows: Record<string, unknown>[];
      };
    const update = (node: string, config: Record<string, unknown>) =>
      call('pipelines_update_node', { pipeline: id, id: node, config }, ctx);
    return { id, add, connect, preview, update };
  }

  /** The issues at a node, leaving out that a node still being built leads nowhere yet. */
  const issuesAt = (saved: Record<string, unknown>, node: string) =>
    (saved.issues as { nodeId: string; message: string }[]).filter(
      (i) => i.nodeId === node && !i.message.includes('leads nowhere'),
    );

  const byId = (rows: Record<string, unknown>[]) =>
    [...rows].sort((a, b) => Number(a.id) - Number(b.id) || String(a.region).localeCompare(String(b.region)));

  it('cleanses text, fills nulls and casts, with the output types following each operation', async () => {
    const p = await pipeline('cleanse people');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    const saved = await p.add({
      id: 'clean',
      type: 'cleanse',
      after: 'people',
      config: {
        columns: [
          { column: 'name', operations: [{ op: 'trim' }, { op: 'collapse_whitespace' }, { op: 'lower' }] },
          {
            column: 'email',
            operations: [{ op: 'empty_to_null' }, { op: 'lower' }, { op: 'replace', from: '.mil', to: '.gov' }],
          },
          { column: 'city', operations: [{ op: 'fill_null', value: 'unknown' }, { op: 'upper' }] },
          {
            column: 'joined',
            operations: [
              { op: 'fill_null', value: '2000-01-01' },
              { op: 'cast', to: 'text' },
            ],
          },
          { column: 'score', operations: [{ op: 'fill_null', value: 0 }] },
        ],
      },
    });
    expect(issuesAt(saved, 'clean')).toEqual([]);
    const rows = await p.preview('clean');
    expect(rows.columns).toEqual([
      { name: 'id', type: 'integer', treatment: 'shown' },
      { name: 'name', type: 'text', treatment: 'shown' },
      { name: 'email', type: 'text', treatment: 'shown' },
      { name: 'city', type: 'text', treatment: 'shown' },
      { name: 'joined', type: 'text', treatment: 'shown' },
      { name: 'score', type: 'numeric(6,2)', treatment: 'shown' },
    ]);
    expect(byId(rows.rows)).toEqual([
      { id: 1, name: 'ann lee', email: 'ann@army.gov', city: 'EAST', joined: '2024-01-05', score: '10.50' },
      { id: 2, name: 'bob', email: null, city: 'WEST', joined: '2000-01-01', score: '0' },
      { id: 3, name: 'cy young', email: 'cy@navy.gov', city: 'UNKNOWN', joined: '2024-02-10', score: '7.25' },
      { id: 4, name: 'dee', email: null, city: 'EAST', joined: '2024-03-01', score: '3.00' },
    ]);

    const wrong = await p.update('clean', {
      columns: [
        { column: 'score', operations: [{ op: 'trim' }] },
        { column: 'joined', operations: [{ op: 'fill_null', value: 'soon' }] },
        { column: 'id', operations: [{ op: 'fill_null', value: 1.5 }] },
      ],
    });
    expect(issuesAt(wrong, 'clean')).toEqual([
      {
        nodeId: 'clean',
        message:
          "node `clean` (cleanse): column `score`: trim works on text but the column is numeric(6,2) here; cast it to text first ({op: 'cast', to: 'text'})",
      },
      {
        nodeId: 'clean',
        message:
          'node `clean` (cleanse): column `joined`: fill_null "soon" does not fit: the column is date, so write the value as text like 2024-01-31 or 2024-01-31 12:00:00',
      },
      {
        nodeId: 'clean',
        message:
          'node `clean` (cleanse): column `id`: fill_null 1.5 does not fit: the column is integer, so give a whole number',
      },
    ]);
    await expect(
      p.update('clean', {
        columns: [{ column: 'score', operations: [{ op: 'cast', to: 'money; drop table people' }] }],
      }),
    ).rejects.toThrow(/node `clean` \(cleanse\): its config is not right: columns\.0\.operations\.0\.to/);
  });

  it('enriches rows from a lookup without ever multiplying them, taking the first lookup row by its values', async () => {
    const p = await pipeline('enrich people');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({ id: 'cities', type: 'source_dataset', config: { urn: shop('cities') } });
    await p.add({
      id: 'placed',
      type: 'enrich',
      config: {
        on: [{ left: 'city', right: 'city' }],
        columns: [{ column: 'label', as: 'city_label' }, { column: 'population' }],
      },
    });
    const half = await p.connect('people', 'placed', 'input');
    expect(half.issues).toContainEqual({
      nodeId: 'placed',
      message: 'node `placed` (enrich): it needs an input on the input handle and the lookup handle; connect one',
    });
    await p.connect('cities', 'placed', 'lookup');
    const rows = await p.preview('placed');
    expect(rows.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'id integer',
      'name text',
      'email text',
      'city text',
      'joined date',
      'score numeric(6,2)',
      'city_label text',
      'population integer',
    ]);
    // Two lookup rows say `east`: still one output row per person, with the lookup row whose label sorts first.
    expect(byId(rows.rows).map((r) => [r.id, r.city, r.city_label, r.population])).toEqual([
      [1, 'east', 'East A', 100],
      [2, 'west', 'West End', 50],
      [3, null, null, null],
      [4, 'east', 'East A', 100],
    ]);

    const misspelt = await p.update('placed', { on: [{ left: 'city', right: 'cty' }] });
    expect(misspelt.issues).toContainEqual({
      nodeId: 'placed',
      message: 'node `placed` (enrich): lookup key column `cty` does not exist; did you mean `city`?',
    });
    const clash = await p.update('placed', { on: [{ left: 'city', right: 'city' }], columns: [{ column: 'city' }] });
    expect(clash.issues).toContainEqual({
      nodeId: 'placed',
      message:
        'node `placed` (enrich): column `city` appears twice in its output; name the looked-up column another way with `as`',
    });
  });

  it('pivots listed values into columns with sanitised, unique names, and checks the values fit the column', async () => {
    const p = await pipeline('pivot sales');
    await p.add({ id: 'sales', type: 'source_dataset', config: { urn: shop('sales') } });
    await p.add({
      id: 'quarters',
      type: 'pivot',
      after: 'sales',
      config: {
        rowKeys: ['region'],
        column: 'quarter',
        values: ['Q1', 'Q2', 'Q3', 'Q 4'],
        measure: { fn: 'sum', column: 'amount' },
      },
    });
    const rows = await p.preview('quarters');
    expect(rows.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'region text',
      'q1 numeric',
      'q2 numeric',
      'q3 numeric',
      'q_4 numeric',
    ]);
    expect(byId(rows.rows)).toEqual([
      { region: 'east', q1: '10.00', q2: '20.00', q3: '1.00', q_4: null },
      { region: 'north', q1: '100.00', q2: null, q3: null, q_4: null },
      { region: 'west', q1: '12.00', q2: null, q3: null, q_4: null },
    ]);

    await p.update('quarters', { rowKeys: [], values: ['Q1', 'q1'], measure: { fn: 'count' } });
    const counted = await p.preview('quarters');
    // Counts are bigint, which the Postgres driver hands over as text.
    expect(counted.rows).toEqual([{ q1: '4', q1_2: '0' }]);

    const mistyped = await p.update('quarters', { values: ['Q1', 2] });
    expect(mistyped.issues).toContainEqual({
      nodeId: 'quarters',
      message: 'node `quarters` (pivot): value 2 cannot be a value of `quarter`: the column is text, so give text',
    });
    const wrongMeasure = await p.update('quarters', { values: ['Q1'], measure: { fn: 'sum', column: 'region' } });
    expect(wrongMeasure.issues).toContainEqual({
      nodeId: 'quarters',
      message: 'node `quarters` (pivot): the measure sum needs numbers but `region` is text',
    });
  });

  it('C1: limits names to 63 bytes, and keeps the dev, replace and quarantine tables of a 63-byte name off its prod table', async () => {
    const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
    // 21 characters, 63 bytes: a name cut by characters to fit 63 would be cut by Postgres back to this one.
    const monthly = '月次売上集計表'.repeat(3);
    const p = await pipeline('c1 long names');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({
      id: 'checked',
      type: 'validate',
      after: 'people',
      config: { rules: [{ check: 'range', column: 'score', max: 5 }], onFail: 'quarantine' },
    });
    const saved = await p.add({ id: 'out', type: 'destination_table', after: 'checked', config: { table: monthly } });
    expect(saved.issues).toEqual([]);
    await expect(p.update('out', { table: `${monthly}x` })).rejects.toThrow(
      /its config is not right: table: is longer than 63 bytes \(UTF-8\), the most Postgres keeps of a name; shorten it/,
    );

    const dev = environmentTable({ schema: 'public', table: monthly }, 'dev');
    expect(dev.table).not.toBe(monthly);
    expect(dev.table.endsWith('_dev')).toBe(true);
    expect(bytes(dev.table)).toBeLessThanOrEqual(63);
    // Replace runs twice: the second builds beside the first under a temporary name and swaps it in.
    for (const _ of [1, 2]) {
      const run = await call('pipelines_run', { pipeline: p.id });
      expect(run.status).toBe('succeeded');
      expect(run.stats.destinations.out.table).toBe(`public.${dev.table}`);
      const quarantine = run.stats.quarantineTables.checked as string;
      expect(quarantine).not.toBe(`public.${dev.table}`);
      expect(bytes(quarantine.slice('public.'.length))).toBeLessThanOrEqual(63);
    }
    const [counts] = await source.unsafe(
      `select (select count(*)::int from public."${dev.table}") as written, to_regclass('public."${monthly}"') is null as prod_untouched`,
    );
    // Rows 1 and 3 score above 5 and are quarantined; 2 (no score) and 4 are written.
    expect(counts).toEqual({ written: 2, prod_untouched: true });
  });

  it('C1: refuses a dev or quarantine table that is another output’s table', async () => {
    const p = await pipeline('c1 clashing names');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({ id: 'out', type: 'destination_table', after: 'people', config: { table: 'c1_totals' } });
    const clash = await p.add({
      id: 'other',
      type: 'destination_table',
      after: 'people',
      config: { table: 'c1_totals_dev' },
    });
    expect(clash.issues).toEqual([
      {
        nodeId: 'out',
        message:
          'node `out` (destination_table): its dev table public.c1_totals_dev is also the table of node `other`, so a run would write over it; name one of them another way',
      },
    ]);
    await p.update('other', { table: 'c1_others' });
    await p.add({
      id: 'checked',
      type: 'validate',
      after: 'people',
      config: { rules: [{ check: 'not_null', column: 'email' }] },
    });
    const quarantined = await p.update('checked', {
      onFail: 'quarantine',
      quarantineTable: { schema: 'public', table: 'c1_totals' },
    });
    expect(quarantined.issues).toContainEqual({
      nodeId: 'checked',
      message:
        'node `checked` (validate): its quarantine table public.c1_totals is also the table of node `out`, so a run would write over it; name one of them another way',
    });
    await expect(call('pipelines_run', { pipeline: p.id })).rejects.toThrow(/its quarantine table public\.c1_totals/);
  });

  it('C8: gives two quarantining nodes one table only when both name it and pass on the same columns', async () => {
    const p = await pipeline('c8 two quarantines');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({
      id: 'v1',
      type: 'validate',
      after: 'people',
      config: { rules: [{ check: 'not_null', column: 'email' }], onFail: 'quarantine' },
    });
    await p.add({
      id: 'v2',
      type: 'validate',
      after: 'v1',
      config: { rules: [{ check: 'range', column: 'score', max: 5 }], onFail: 'quarantine' },
    });
    const both = await p.add({ id: 'out', type: 'destination_table', after: 'v2', config: { table: 'c8_people' } });
    expect(both.issues).toEqual([
      {
        nodeId: 'v2',
        message:
          'node `v2` (validate): its quarantine table public.c8_people_quarantine is also the quarantine table of node `v1`; give each quarantining node its own config.quarantineTable (two may share one only when both name it and pass on the same columns)',
      },
    ]);
    const shared = { schema: 'public', table: 'c8_rejects' };
    await p.update('v1', { quarantineTable: shared });
    expect((await p.update('v2', { quarantineTable: shared })).issues).toEqual([]);
    const run = await call('pipelines_run', { pipeline: p.id });
    expect(run.error).toBeNull();
    expect(run.stats.quarantineTables).toEqual({ v1: 'public.c8_rejects_dev', v2: 'public.c8_rejects_dev' });
    const rejected = await source.unsafe('select id from public.c8_rejects_dev order by id');
    expect(rejected.map((r) => r.id)).toEqual([1, 3, 4]);

    const narrowed = await pipeline('c8 different columns');
    await narrowed.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await narrowed.add({
      id: 'v1',
      type: 'validate',
      after: 'people',
      config: { rules: [{ check: 'not_null', column: 'email' }], onFail: 'quarantine', quarantineTable: shared },
    });
    await narrowed.add({
      id: 'few',
      type: 'select',
      after: 'v1',
      config: { columns: [{ column: 'id' }, { column: 'score' }] },
    });
    await narrowed.add({
      id: 'v2',
      type: 'validate',
      after: 'few',
      config: { rules: [{ check: 'range', column: 'score', max: 5 }], onFail: 'quarantine', quarantineTable: shared },
    });
    const different = await narrowed.add({
      id: 'out',
      type: 'destination_table',
      after: 'v2',
      config: { table: 'c8_few' },
    });
    expect(issuesAt(different, 'v2').map((i) => i.message)).toEqual([
      expect.stringContaining('its quarantine table public.c8_rejects is also the quarantine table of node `v1`'),
    ]);
  });

  it('C8: adds the columns a later version passes on to an existing quarantine table', async () => {
    const p = await pipeline('c8 growing quarantine');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({
      id: 'few',
      type: 'select',
      after: 'people',
      config: { columns: [{ column: 'id' }, { column: 'score' }] },
    });
    await p.add({
      id: 'checked',
      type: 'validate',
      after: 'few',
      config: { rules: [{ check: 'range', column: 'score', max: 5 }], onFail: 'quarantine' },
    });
    await p.add({ id: 'out', type: 'destination_table', after: 'checked', config: { table: 'c8_grow' } });
    const first = await call('pipelines_run', { pipeline: p.id });
    expect(first.status).toBe('succeeded');
    await p.update('few', { columns: [{ column: 'id' }, { column: 'score' }, { column: 'name' }] });
    const second = await call('pipelines_run', { pipeline: p.id });
    expect(second.error).toBeNull();
    const rows = await source.unsafe(
      `select id, name, dataops_run_id::text as run from public.c8_grow_quarantine_dev order by dataops_run_id = '${first.runId}' desc, id`,
    );
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, name: null, run: first.runId },
      { id: 3, name: null, run: first.runId },
      { id: 1, name: '  Ann   Lee ', run: second.runId },
      { id: 3, name: 'cy  young', run: second.runId },
    ]);
  });

  it('C12: fills nulls with a value of the column’s own type, as the output schema says', async () => {
    const p = await pipeline('c12 fill keeps type');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({
      id: 'clean',
      type: 'cleanse',
      after: 'people',
      config: {
        columns: [
          {
            column: 'id',
            operations: [
              { op: 'cast', to: 'smallint' },
              { op: 'fill_null', value: 5 },
            ],
          },
        ],
      },
    });
    await p.add({ id: 'out', type: 'destination_table', after: 'clean', config: { table: 'c12_people' } });
    const run = await call('pipelines_run', { pipeline: p.id });
    expect(run.status).toBe('succeeded');
    const [column] = await source.unsafe(
      `select data_type from information_schema.columns where table_name = 'c12_people_dev' and column_name = 'id'`,
    );
    expect(column!.data_type).toBe('smallint');
  });

  it('C13: refuses a pivot row key listed twice or that is the pivoted column', async () => {
    const p = await pipeline('c13 pivot keys');
    await p.add({ id: 'sales', type: 'source_dataset', config: { urn: shop('sales') } });
    const twice = await p.add({
      id: 'quarters',
      type: 'pivot',
      after: 'sales',
      config: { rowKeys: ['region', 'region'], column: 'quarter', values: ['Q1'], measure: { fn: 'count' } },
    });
    expect(issuesAt(twice, 'quarters')).toEqual([
      {
        nodeId: 'quarters',
        message: 'node `quarters` (pivot): row key `region` is listed twice; list each row key once',
      },
    ]);
    const itself = await p.update('quarters', { rowKeys: ['quarter'] });
    expect(issuesAt(itself, 'quarters')).toEqual([
      {
        nodeId: 'quarters',
        message:
          'node `quarters` (pivot): row key `quarter` is also the column whose values become columns; pivot another column or leave it out of rowKeys',
      },
    ]);
  });

  it('C6: keeps the semantic version’s major when an edit breaks a node upstream of an output, and when it is fixed', async () => {
    const p = await pipeline('c6 semver');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({ id: 'kept', type: 'filter', after: 'people', config: { condition: 'score > 1' } });
    const built = await p.add({ id: 'out', type: 'destination_table', after: 'kept', config: { table: 'c6_people' } });
    const [major, minor] = (built.semver as string).split('.').map(Number);
    const typo = await p.update('kept', { condition: 'scroe > 1' });
    expect(typo.issues.map((i: { nodeId: string }) => i.nodeId)).toEqual(['kept']);
    expect(typo.semver).toMatch(new RegExp(`^${major}\\.${minor}\\.`));
    const fixed = await p.update('kept', { condition: 'score > 1' });
    expect(fixed.issues).toEqual([]);
    expect(fixed.semver).toMatch(new RegExp(`^${major}\\.${minor}\\.`));
  });

  it('records a profile of the rows at a profile node in the run, and passes them on unchanged', async () => {
    const p = await pipeline('profile people');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({ id: 'seen', type: 'profile', after: 'people', config: { columns: ['email', 'joined', 'score'] } });
    await p.add({ id: 'out', type: 'destination_table', after: 'seen', config: { table: 'profiled_people' } });
    const run = await call('pipelines_run', { pipeline: p.id });
    expect(run.status).toBe('succeeded');
    expect(run.stats.profiles.seen).toEqual({
      rows: 4,
      columns: {
        email: { nulls: 1, distinct: 3, min: '', max: 'cy@navy.mil' },
        joined: { nulls: 1, distinct: 3, min: '2024-01-05', max: '2024-03-01' },
        score: { nulls: 1, distinct: 3, min: '3.00', max: '10.50' },
      },
    });
    const [written] = await source.unsafe(`select count(*)::int as n from ${run.stats.destinations.out.table}`);
    expect(written!.n).toBe(4);
    const misspelt = await p.update('seen', { columns: ['emial'] });
    expect(misspelt.issues).toEqual([
      { nodeId: 'seen', message: 'node `seen` (profile): column `emial` does not exist; did you mean `email`?' },
    ]);
  });

  it('reads a source query over catalog tables, typed by the database, and runs it', async () => {
    const p = await pipeline('big sales');
    const saved = await p.add({
      id: 'q',
      type: 'source_sql',
      config: {
        source: 'nodeshop',
        query:
          'with big as (select person_id, amount from sales where amount > 6)\n' +
          'select p.name, b.amount, b.amount * 2 as doubled from public.people p join big b on b.person_id = p.id -- big ones\n;',
      },
    });
    expect(issuesAt(saved, 'q')).toEqual([]);
    const rows = await p.preview('q');
    expect(rows.columns.map((c) => `${c.name} ${c.type}`)).toEqual(['name text', 'amount numeric', 'doubled numeric']);
    expect(rows.rows.map((r) => [r.name, r.amount]).sort()).toEqual([
      ['  Ann   Lee ', '10.00'],
      ['  Ann   Lee ', '20.00'],
      ['Bob', '7.00'],
      ['Dee', '100.00'],
    ]);
    await p.add({ id: 'out', type: 'destination_table', after: 'q', config: { table: 'big_sales' } });
    const run = await call('pipelines_run', { pipeline: p.id });
    expect(run.status).toBe('succeeded');
    const [total] = await source.unsafe(`select sum(doubled)::text as n from ${run.stats.destinations.out.table}`);
    expect(total!.n).toBe('274.00');

    // The output is marked as high as the most classified table it reads.
    await database.db.execute(sql`update assets set classification = 'C' where urn = ${shop('people')}`);
    const analysis = await analyzePipeline(admin, (await loadPipeline(admin, p.id)).graph);
    expect(analysis.nodes.get('q')!.marking).toBe('C');
    // An export names the tables its own way (dbt's source()); CTE names stay as they are.
    const exported = nodeSelect(analysis, 'q', {
      salt: 's',
      table: (schema, name) => `{{ source('${schema}', '${name}') }}`,
    });
    expect(exported).toContain("from {{ source('public', 'people') }} p join big b");
    expect(exported).toContain("from {{ source('public', 'sales') }} where amount > 6");
    await database.db.execute(sql`update assets set classification = 'U' where urn = ${shop('people')}`);
  });

  it('cancels a preview that runs longer than its bound and says to add a filter or a limit upstream', async () => {
    const p = await pipeline('endless count');
    // A preview's row limit does not bound an aggregate: this counts a trillion rows before showing one.
    const saved = await p.add({
      id: 'huge',
      type: 'source_sql',
      config: {
        source: 'nodeshop',
        query: 'select count(*) as n from sales cross join generate_series(1::bigint, 1000000000000::bigint)',
      },
    });
    expect(issuesAt(saved, 'huge')).toEqual([]);
    await expect(previewPipeline(admin, p.id, 'huge', 10, 1)).rejects.toThrow(
      'the preview of node `huge` took longer than 1 s; add a filter or a limit upstream',
    );
  });

  it('refuses source queries that write, read outside the catalog or the caller’s clearance, or call volatile functions', async () => {
    const p = await pipeline('bad queries');
    const issueFor = async (query: string) => {
      const saved = await p.update('q', { query });
      return issuesAt(saved, 'q')[0]?.message;
    };
    await p.add({ id: 'q', type: 'source_sql', config: { source: 'nodeshop', query: 'select 1 as one' } });
    expect(await issueFor('delete from people')).toBe(
      'node `q` (source_sql): the query is a DELETE statement; a source query is one SELECT, which only reads',
    );
    expect(await issueFor('select 1 as a; select 2 as b')).toBe(
      'node `q` (source_sql): the query holds 2 statements; write exactly one SELECT',
    );
    expect(await issueFor('with gone as (delete from people returning id) select id from gone')).toBe(
      'node `q` (source_sql): the query writes (a DELETE inside it); a source query only reads',
    );
    expect(await issueFor("select nextval('tickets') as n")).toBe(
      'node `q` (source_sql): the query calls nextval(), which may change data (a volatile function); a source query only reads',
    );
    expect(await issueFor('select name, name from people')).toBe(
      "node `q` (source_sql): column `name` appears twice in the query's output; rename one with `as`",
    );
    expect(await issueFor('select from people')).toBe(
      'node `q` (source_sql): the query returns no columns; select the columns the pipeline needs',
    );
    expect(await issueFor('select id from people for update')).toBe(
      'node `q` (source_sql): FOR UPDATE/SHARE locks rows; a source query only reads',
    );
    // The database's own catalogs are not catalog assets: refused before the edit is saved.
    await expect(
      p.update('q', { query: 'with a as (select * from pg_catalog.pg_class) select 1 as one from a' }),
    ).rejects.toThrow(
      'no asset urn:dataops:postgres:nodeshop:pg_catalog.pg_class: search the catalog with catalog_search to find its URN',
    );

    // A table above the caller's clearance is refused in the same words as one that does not exist.
    await database.db.execute(sql`update assets set classification = 'TS' where urn = ${shop('cities')}`);
    const mine = await pipeline('analyst query', analyst);
    const hidden = mine.add({
      id: 'q',
      type: 'source_sql',
      config: { source: 'nodeshop', query: 'select city from cities' },
    });
    await expect(hidden).rejects.toThrow(
      `no asset ${shop('cities')}: search the catalog with catalog_search to find its URN`,
    );
    const absent = mine.add({
      id: 'q',
      type: 'source_sql',
      config: { source: 'nodeshop', query: 'select city from towns' },
    });
    await expect(absent).rejects.toThrow(
      `no asset ${shop('towns')}: search the catalog with catalog_search to find its URN`,
    );
    // The administrator's pipeline reading it is as unknown to the analyst as a pipeline that does not exist.
    await p.update('q', { query: 'select city from cities' });
    await expect(call('pipelines_get', { pipeline: p.id }, analyst)).rejects.toThrow(`no pipeline ${p.id}`);
    await database.db.execute(sql`update assets set classification = 'U' where urn = ${shop('cities')}`);
  });

  it('keeps columns above the caller’s clearance out of source queries by every route, worded as a missing column', async () => {
    const setColumn = (table: string, column: string, classification: string | null, sensitivity: string | null) =>
      database.db.execute(sql`update columns set classification = ${classification}, sensitivity = ${sensitivity}
        where name = ${column} and asset_id = (select id from assets where urn = ${shop(table)})`);
    await setColumn('people', 'email', 'C', 'pii');
    try {
      const mine = await pipeline('analyst reach', analyst);
      await mine.add({ id: 'q', type: 'source_sql', config: { source: 'nodeshop', query: 'select id from people' } });
      const issueFor = async (query: string) => issuesAt(await mine.update('q', { query }), 'q')[0]?.message;
      // Named, the U-cleared analyst hears what a misspelt column gets: the C column is not there for it.
      expect(await issueFor('select id, emial from people')).toBe(
        'node `q` (source_sql): the source refused the query: column "emial" does not exist',
      );
      expect(await issueFor('select id, email from people')).toBe(
        'node `q` (source_sql): the source refused the query: column "email" does not exist',
      );
      expect(await issueFor("select id, case when email like '%mil' then 1 end as mil from people")).toBe(
        'node `q` (source_sql): the source refused the query: column "email" does not exist',
      );
      expect(await issueFor('select count(*) as n from people a join people b using (email)')).toBe(
        'node `q` (source_sql): the source refused the query: column "email" does not exist',
      );
      // Routes that take every column without naming it are refused while the table has such a column.
      const whole = (how: string) =>
        `node \`q\` (source_sql): the query ${how}, but public.people has columns that are not available to you; name the columns the query needs`;
      expect(await issueFor('select * from people')).toBe(whole('takes whole rows of it (*)'));
      expect(await issueFor('select p.* from people p')).toBe(whole('takes whole rows of it (p.*)'));
      expect(await issueFor('select id, row_to_json(p)::text as j from people p')).toBe(
        whole('takes whole rows of it (p)'),
      );
      expect(await issueFor('select c as leaked from people as x(a, b, c)')).toBe(
        whole('renames its columns by position'),
      );
      expect(await issueFor('select count(*) as n from people natural join people')).toBe(
        whole('joins it NATURAL (on every column the tables share)'),
      );
      // A table without such columns is read whole as before.
      expect(await issueFor('select * from cities')).toBeUndefined();

      // Cleared for it, the administrator reads it; what the lineage cannot trace to a column (a whole row,
      // a constant chosen by a CASE on the column) carries the highest marking and sensitivity read.
      const p = await pipeline('traced markings');
      const saved = await p.add({
        id: 'q',
        type: 'source_sql',
        config: {
          source: 'nodeshop',
          query:
            "select id, row_to_json(p)::text as j, case when email like '%mil' then 1 end as mil, name,\n" +
            '  case when email is null then name end as unreachable from people p',
        },
      });
      expect(issuesAt(saved, 'q')).toEqual([]);
      const analysis = await analyzePipeline(admin, (await loadPipeline(admin, p.id)).graph);
      const marked = Object.fromEntries(
        analysis.nodes.get('q')!.columns.map((c) => [c.name, `${c.classification} ${c.sensitivity}`]),
      );
      expect(marked).toEqual({ id: 'U null', j: 'C pii', mil: 'C pii', name: 'U null', unreachable: 'C pii' });
    } finally {
      await setColumn('people', 'email', null, null);
    }
  });

  it('calls only Postgres’s own functions, none that look up the database’s catalog by name', async () => {
    await source.unsafe(`create function peek() returns int language sql stable as 'select 1'`);
    const p = await pipeline('function calls');
    await p.add({ id: 'q', type: 'source_sql', config: { source: 'nodeshop', query: 'select id from people' } });
    const issueFor = async (query: string) => issuesAt(await p.update('q', { query }), 'q')[0]?.message;
    expect(await issueFor('select peek() as n')).toBe(
      "node `q` (source_sql): the query calls peek(), which is not a built-in function; a source query calls only Postgres's own functions",
    );
    expect(await issueFor('select public.peek() as n')).toBe(
      "node `q` (source_sql): the query calls public.peek(), which is not a built-in function; a source query calls only Postgres's own functions",
    );
    expect(await issueFor("select to_regclass('public.people')::text as found")).toBe(
      'node `q` (source_sql): the query calls to_regclass(), which a source query may not use',
    );
    expect(await issueFor("select col_description('people'::regclass, 3) as note")).toBe(
      'node `q` (source_sql): the query calls col_description(), which a source query may not use',
    );
    await source.unsafe(
      `create function peek_eq(text, text) returns boolean language sql stable as 'select true';
       create operator === (leftarg = text, rightarg = text, function = peek_eq)`,
    );
    expect(await issueFor("select id from people where name === 'Bob'")).toBe(
      "node `q` (source_sql): the query uses operator ===, which is not a built-in operator; a source query uses only Postgres's own operators",
    );
    expect(await issueFor("select 'public.people'::regclass::oid::int as found")).toBe(
      "node `q` (source_sql): the query casts to regclass, which looks names up in the database's catalog; a source query may not",
    );
    // Built-in functions and operators, also those SQL syntax stands for (trim, extract, between), stay available.
    expect(
      await issueFor(
        "select upper(trim(both ' ' from name)) as n, extract(year from joined) as y from people\n" +
          "where id between 1 and 3 and city in ('east', 'west') and name ilike '%a%' and score is distinct from 1",
      ),
    ).toBeUndefined();
  });

  it('reads the tables a source query names, whatever the pipeline’s nodes are called', async () => {
    const p = await pipeline('named like a table');
    // A node called `sales` beside a query reading the table sales: the query still reads the table.
    await p.add({ id: 'sales', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({ id: 'ids', type: 'select', after: 'sales', config: { columns: [{ column: 'id' }] } });
    await p.add({ id: 'q', type: 'source_sql', config: { source: 'nodeshop', query: 'select id from sales' } });
    await p.add({ id: 'both', type: 'union', after: 'ids', config: {} });
    await p.connect('q', 'both');
    const rows = await p.preview('both');
    // Four people and six sales, not the four people twice.
    expect(rows.rows).toHaveLength(10);
    const analysis = await analyzePipeline(admin, (await loadPipeline(admin, p.id)).graph);
    // Run as a projection of the columns the caller may see, named "public"."sales" whatever the nodes are called.
    expect(nodeSelect(analysis, 'q', { salt: 's' })).toMatch(
      /select id from \(select "id", .* from "public"\."sales"\) as "sales"/,
    );
  });

  it('reads uploaded CSV, JSON and Parquet files, typed by the files connector, beside the source tables', async () => {
    const p = await pipeline('targets by region');
    const csv = 'region,target,starts\neast,"$1,000.50",2024-01-01\nwest,NA,2024-02-01\nnorth,250,\n';
    const uploaded = await call('pipelines_upload', { pipeline: p.id, name: 'targets.csv', content: csv });
    expect(uploaded).toMatchObject({ format: 'csv', rows: 3, classification: 'U' });
    expect(uploaded.columns.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toEqual([
      'region text',
      'target numeric',
      'starts date',
    ]);
    const lonely = await p.add({ id: 'targets', type: 'source_upload', config: { upload: uploaded.uploadId } });
    expect(issuesAt(lonely, 'targets')).toEqual([
      {
        nodeId: 'targets',
        message:
          'node `targets` (source_upload): a pipeline runs inside a source database and this one reads none yet; add a source_dataset or source_sql node (the upload is joined or combined with it there)',
      },
    ]);
    await p.add({ id: 'sales', type: 'source_dataset', config: { urn: shop('sales') } });
    await p.add({
      id: 'totals',
      type: 'aggregate',
      after: 'sales',
      config: { groupBy: ['region'], measures: [{ name: 'total', fn: 'sum', column: 'amount' }] },
    });
    await p.add({
      id: 'versus',
      type: 'enrich',
      config: { on: [{ left: 'region', right: 'region' }], columns: [{ column: 'target' }, { column: 'starts' }] },
    });
    await p.connect('totals', 'versus', 'input');
    await p.connect('targets', 'versus', 'lookup');
    const rows = await p.preview('versus');
    expect(rows.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'region text',
      'total numeric',
      'target numeric',
      'starts date',
    ]);
    expect(byId(rows.rows)).toEqual([
      { region: 'east', total: '31.00', target: '1000.50', starts: '2024-01-01T00:00:00.000Z' },
      { region: 'north', total: '100.00', target: '250', starts: null },
      { region: 'west', total: '12.00', target: null, starts: '2024-02-01T00:00:00.000Z' },
    ]);

    const json = await call('pipelines_upload', {
      pipeline: p.id,
      name: 'flags.json',
      content: JSON.stringify([
        { code: 'east', tags: ['a', 'b'], active: true },
        { code: 'west', tags: [], active: false },
      ]),
    });
    expect(json.columns).toEqual([
      { name: 'code', type: 'text' },
      { name: 'tags', type: 'json' },
      { name: 'active', type: 'boolean' },
    ]);
    await p.add({ id: 'flags', type: 'source_upload', config: { upload: json.uploadId } });
    expect((await p.preview('flags')).rows).toEqual([
      { code: 'east', tags: ['a', 'b'], active: true },
      { code: 'west', tags: [], active: false },
    ]);
    // A json column has no order of its own; an enrich still picks its lookup row deterministically.
    await p.add({
      id: 'tagged',
      type: 'enrich',
      config: { on: [{ left: 'region', right: 'code' }], columns: [{ column: 'tags' }] },
    });
    await p.connect('totals', 'tagged', 'input');
    await p.connect('flags', 'tagged', 'lookup');
    expect(byId((await p.preview('tagged')).rows)).toEqual([
      { region: 'east', total: '31.00', tags: ['a', 'b'] },
      { region: 'north', total: '100.00', tags: null },
      { region: 'west', total: '12.00', tags: [] },
    ]);

    const parquet = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: [1, 2, 3], type: 'INT32' },
        { name: 'label', data: ['one', null, 'three'], type: 'STRING' },
      ],
    });
    const columnar = await call('pipelines_upload', {
      pipeline: p.id,
      name: 'labels.parquet',
      content: Buffer.from(parquet).toString('base64'),
      encoding: 'base64',
    });
    expect(columnar.columns).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'label', type: 'text' },
    ]);
    await p.add({ id: 'labels', type: 'source_upload', config: { upload: columnar.uploadId } });
    expect((await p.preview('labels')).rows).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: null },
      { id: 3, label: 'three' },
    ]);

    await expect(
      call('pipelines_upload', { pipeline: p.id, name: 'big.csv', content: `a\n${'x\n'.repeat(550_000)}` }),
    ).rejects.toThrow(/big\.csv is 1100002 bytes; an upload holds at most 1000000/);
  });

  it('keeps an upload from those not cleared for its marking, as if it did not exist', async () => {
    const p = await pipeline('secret targets');
    await p.add({ id: 'sales', type: 'source_dataset', config: { urn: shop('sales') } });
    const secret = await call('pipelines_upload', {
      pipeline: p.id,
      name: 'secret.csv',
      content: 'region,target\neast,5\n',
      classification: 'S',
    });
    await p.add({ id: 'targets', type: 'source_upload', config: { upload: secret.uploadId } });
    await expect(call('pipelines_get', { pipeline: p.id }, analyst)).rejects.toThrow(`no pipeline ${p.id}`);
    expect((await call('pipelines_list', {}, analyst)).pipelines.map((x: { id: string }) => x.id)).not.toContain(p.id);

    const mine = await pipeline('analyst uploads', analyst);
    await mine.add({ id: 'sales', type: 'source_dataset', config: { urn: shop('sales') } });
    await expect(
      call('pipelines_upload', { pipeline: mine.id, name: 'x.csv', content: 'a\n1\n', classification: 'S' }, analyst),
    ).rejects.toThrow('una is cleared to U and may not mark an upload S');
    const ghost = '00000000-0000-4000-8000-000000000000';
    for (const upload of [secret.uploadId, ghost]) {
      await expect(mine.add({ id: 'stolen', type: 'source_upload', config: { upload } })).rejects.toThrow(
        `no upload ${upload}: upload the file with pipelines_upload and use the id it returns`,
      );
    }
  });

  it('refuses a Parquet upload whose footer declares more rows than an upload holds, before reading them', async () => {
    const p = await pipeline('parquet bomb');
    // Three rows written, then the footer's row count raised to 3,000,000: a few hundred bytes that would
    // otherwise be read row by row.
    const file = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32' }] }));
    const footerLength = new DataView(file.buffer).getUint32(file.length - 8, true);
    const footer = file.subarray(file.length - 8 - footerLength, file.length - 8);
    // FileMetaData field 3 (num_rows, i64) follows the schema list: header 0x16, zigzag varint 6 for 3 rows.
    const at = footer.findIndex((b, i) => b === 0x16 && footer[i + 1] === 0x06 && footer[i + 2] === 0x19);
    expect(at).toBeGreaterThan(0);
    const varint: number[] = [];
    for (let v = 3_000_000 * 2; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        varint.push(v);
        break;
      }
      varint.push((v % 128) | 128);
    }
    const patched = Buffer.concat([footer.subarray(0, at + 1), Buffer.from(varint), footer.subarray(at + 2)]);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(patched.length);
    const bomb = Buffer.concat([
      file.subarray(0, file.length - 8 - footerLength),
      patched,
      length,
      Buffer.from('PAR1'),
    ]);
    await expect(
      call('pipelines_upload', {
        pipeline: p.id,
        name: 'bomb.parquet',
        content: bomb.toString('base64'),
        encoding: 'base64',
      }),
    ).rejects.toThrow(
      'bomb.parquet has 3000000 rows; an upload holds at most 20000: cut it down, or ingest it as a files source',
    );
  });

  it('writes a file only inside the exports directory, never through a symbolic link, nor over another pipeline’s file', async () => {
    const filePipeline = async (name: string, filePath: string) => {
      const p = await pipeline(name);
      await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
      await p.add({ id: 'slim', type: 'select', after: 'people', config: { columns: [{ column: 'id' }] } });
      await p.add({ id: 'csv', type: 'destination_file', after: 'slim', config: { format: 'csv', path: filePath } });
      return p;
    };
    const first = await filePipeline('first extract', 'shared/ids.csv');
    expect((await call('pipelines_run', { pipeline: first.id })).status).toBe('succeeded');
    const written = await readFile(path.join(exportsDir, 'shared/ids_dev.csv'), 'utf8');
    // Another pipeline naming the same file is refused, and the first one's file stays; the first runs again.
    const second = await filePipeline('second extract', 'shared/ids.csv');
    await second.update('slim', { columns: [{ column: 'name' }] });
    const refused = await call('pipelines_run', { pipeline: second.id });
    expect(refused).toMatchObject({ status: 'failed', stats: { failedNode: 'csv' } });
    expect(refused.error).toBe(
      'node `csv` (destination_file) may not write shared/ids_dev.csv: pipeline "first extract" wrote it in an earlier run; give this node a path of its own',
    );
    expect(await readFile(path.join(exportsDir, 'shared/ids_dev.csv'), 'utf8')).toBe(written);
    expect((await call('pipelines_run', { pipeline: first.id })).status).toBe('succeeded');

    // A symbolic link inside the exports directory leading out of it is not followed.
    const outside = await mkdtemp(path.join(tmpdir(), 'dataops-outside-'));
    await symlink(outside, path.join(exportsDir, 'escape'));
    const escaping = await filePipeline('escaping extract', 'escape/deeper/ids.csv');
    const run = await call('pipelines_run', { pipeline: escaping.id });
    expect(run.status).toBe('failed');
    expect(run.error).toBe(
      'node `csv` (destination_file) could not write escape/deeper/ids_dev.csv: path escape/deeper/ids_dev.csv leaves the exports directory (through a symbolic link or ..); give a path inside it',
    );
    expect(await readdir(outside)).toEqual([]);
    await rm(outside, { recursive: true, force: true });
  });

  it('writes CSV, JSON and Parquet files atomically under the exports directory', async () => {
    const p = await pipeline('people files');
    await p.add({ id: 'people', type: 'source_dataset', config: { urn: shop('people') } });
    await p.add({
      id: 'slim',
      type: 'select',
      after: 'people',
      config: { columns: [{ column: 'id' }, { column: 'name' }, { column: 'joined' }, { column: 'score' }] },
    });
    await p.add({ id: 'sorted', type: 'sort', after: 'slim', config: { by: [{ column: 'id' }] } });
    await p.add({
      id: 'csv',
      type: 'destination_file',
      after: 'sorted',
      config: { format: 'csv', path: 'people/all.csv' },
    });
    await p.add({ id: 'json', type: 'destination_file', config: { format: 'json', path: 'people/all.json' } });
    await p.add({ id: 'parquet', type: 'destination_file', config: { format: 'parquet', path: 'people/all.parquet' } });
    await p.connect('sorted', 'json');
    const saved = await p.connect('sorted', 'parquet');
    expect(saved.issues).toEqual([]);

    const run = await call('pipelines_run', { pipeline: p.id });
    expect(run.status).toBe('succeeded');
    expect(run.stats.files.csv).toMatchObject({ path: 'people/all_dev.csv', format: 'csv', rows: 4 });
    const csv = await readFile(path.join(exportsDir, run.stats.files.csv.path), 'utf8');
    expect(csv).toBe(
      'id,name,joined,score\r\n1,"  Ann   Lee ",2024-01-05,10.50\r\n2,Bob,,\r\n3,cy  young,2024-02-10,7.25\r\n4,Dee,2024-03-01,3.00\r\n',
    );
    const json = JSON.parse(await readFile(path.join(exportsDir, run.stats.files.json.path), 'utf8'));
    expect(json[1]).toEqual({ id: 2, name: 'Bob', joined: null, score: null });
    expect(json[0]).toEqual({ id: 1, name: '  Ann   Lee ', joined: '2024-01-05', score: '10.50' });
    const bytes = await readFile(path.join(exportsDir, run.stats.files.parquet.path));
    const parquet = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    });
    expect(parquet.map((r) => [r.id, r.name, r.joined, r.score])).toEqual([
      [1, '  Ann   Lee ', '2024-01-05', '10.50'],
      [2, 'Bob', null, null],
      [3, 'cy  young', '2024-02-10', '7.25'],
      [4, 'Dee', '2024-03-01', '3.00'],
    ]);

    // A run that fails after the files were staged (at a table written after them) leaves the old files and
    // no temporary ones behind.
    await p.add({ id: 'broken', type: 'filter', after: 'sorted', config: { condition: 'id / (id - id) > 0' } });
    await p.add({ id: 'table', type: 'destination_table', after: 'broken', config: { table: 'never_written' } });
    await p.update('slim', {
      columns: [{ column: 'id' }, { column: 'name' }, { column: 'joined' }, { column: 'score' }, { column: 'city' }],
    });
    const failed = await call('pipelines_run', { pipeline: p.id, nodeStats: false });
    expect(failed.status).toBe('failed');
    expect(failed.stats.failedNode).toBe('table');
    expect(await readFile(path.join(exportsDir, 'people/all_dev.csv'), 'utf8')).toBe(csv);
    expect((await readdir(path.join(exportsDir, 'people'))).sort()).toEqual([
      'all_dev.csv',
      'all_dev.json',
      'all_dev.parquet',
    ]);

    // An exports directory that cannot be written (here: a file stands where it should be) fails the node.
    const blocked = { ...admin, exportsDir: path.join(exportsDir, 'people', 'all_dev.csv') };
    const unwritable = await call('pipelines_run', { pipeline: p.id, nodeStats: false }, blocked);
    expect(unwritable.stats.failedNode).toBe('csv');
    expect(unwritable.error).toMatch(/^node `csv` \(destination_file\) could not write people\/all_dev\.csv: ENOTDIR/);
    expect(await readFile(path.join(exportsDir, 'people/all_dev.csv'), 'utf8')).toBe(csv);

    const escaping = await p.update('csv', { path: '../outside.csv' });
    expect(escaping.issues).toContainEqual({
      nodeId: 'csv',
      message:
        'node `csv` (destination_file): path ../outside.csv must stay inside the exports directory: no empty, . or .. parts',
    });
    const mismatched = await p.update('csv', { path: 'people/all.json' });
    expect(mismatched.issues).toContainEqual({
      nodeId: 'csv',
      message: 'node `csv` (destination_file): path people/all.json holds csv, so end it with .csv',
    });
  });
});

describe('source queries and file destinations on an embedded source database', () => {
  let database: Database;
  let admin: ServiceContext;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDb();
    dataDir = await mkdtemp(path.join(tmpdir(), 'dataops-embedded-'));
    admin = { ...(await createTestContext(database)), exportsDir: path.join(dataDir, 'exports') };
    // The embedded database the demo uses, served on a loopback port while the connector reads its catalog.
    const embedded = await openDemoSource({ catalog: 'memory://', dataDir });
    try {
      await embedded.load(fixture.split(';').filter((statement) => statement.trim()));
      await syncSource(admin, await createPostgresConnector({ url: embedded.url, name: 'embeddedshop' }).discover(), {
        connection: embedded.connection,
      });
    } finally {
      await embedded.close();
    }
  }, 60_000);

  afterAll(async () => {
    await database?.close();
    await releaseEmbedded(path.join(dataDir, 'demo'));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('describes a source query through the embedded driver and writes its rows to a file', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
    const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, any>> =>
      // biome-ignore lint/suspicious/noExplicitAny: as above
      (await runTool(pipelineTools.find((t) => t.name === name)! as never, args, admin)) as Record<string, any>;
    const { id } = await call('pipelines_create', { name: 'embedded totals' });
    await call('pipelines_add_node', {
      pipeline: id,
      id: 'totals',
      type: 'source_sql',
      config: {
        source: 'embeddedshop',
        query: 'select region, count(*) as sales, sum(amount) as total from sales group by region order by region',
      },
    });
    await call('pipelines_add_node', { pipeline: id, id: 'seen', type: 'profile', after: 'totals', config: {} });
    const saved = await call('pipelines_add_node', {
      pipeline: id,
      id: 'file',
      type: 'destination_file',
      after: 'seen',
      config: { format: 'json', path: 'totals.json' },
    });
    expect(saved.issues).toEqual([]);
    const validated = await call('pipelines_validate', { pipeline: id });
    expect(validated.schemas.totals).toEqual([
      { name: 'region', type: 'text' },
      { name: 'sales', type: 'bigint' },
      { name: 'total', type: 'numeric' },
    ]);
    const run = await call('pipelines_run', { pipeline: id });
    expect(run.status).toBe('succeeded');
    expect(run.stats.profiles.seen.rows).toBe(3);
    expect(run.stats.profiles.seen.columns.total).toEqual({ nulls: 0, distinct: 3, min: '12.00', max: '100.00' });
    const written = JSON.parse(await readFile(path.join(admin.exportsDir!, run.stats.files.file.path), 'utf8'));
    expect(
      written.map((r: { region: string; sales: unknown; total: unknown }) => [r.region, String(r.sales), r.total]),
    ).toEqual([
      ['east', '3', '31.00'],
      ['north', '1', '100.00'],
      ['west', '2', '12.00'],
    ]);
  });
});
