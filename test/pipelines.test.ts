import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { pipelineRuns } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { runLockKey } from '../mcp-server/pipelines/run.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { loadSqlFile, sharedData } from './helpers/source-databases.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/**
 * "Monthly payment totals by customer" on Pagila, built through the MCP tools as an assistant would: add nodes,
 * catch a broken edit, preview, run, run again, fail and explain, diff and roll back. The pipeline writes into
 * its own copy of Pagila, so the shared sample databases stay as other tests expect them.
 */
const pagila = (table: string) => assetUrn('postgres', 'pagila', 'public', table);

/** The same result, written by hand: what every preview and run is compared with. */
const handWritten = `
  select p.customer_id, c.first_name || ' ' || c.last_name as customer_name, c.email,
         cast(extract(year from p.payment_date) as integer) as year,
         cast(extract(month from p.payment_date) as integer) as month,
         sum(p.amount) as total, count(*) as payments
  from payment p join customer c on c.customer_id = p.customer_id
  where p.amount > 0
  group by 1, 2, 3, 4, 5`;

interface ToolAnswer {
  // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field in the tests
  [key: string]: any;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const result = await client.callTool({ name, arguments: args });
  const text = (result.content as { text: string }[])[0]?.text ?? '';
  if (result.isError) throw new Error(text);
  return result.structuredContent as ToolAnswer;
}

describe('pipelines built through MCP tools', () => {
  let database: Database;
  let steward: ServiceContext;
  let analyst: ServiceContext;
  let client: Client;
  let analystClient: Client;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;
  let id: string;
  /** The table the runs write, as the first run reports it (a dev run: the configured name suffixed `_dev`). */
  let output: string;

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_pipelines_pagila');
    loadSqlFile(scratch.url, path.join(sharedData, 'sql/pagila-schema.sql'), false);
    loadSqlFile(scratch.url, path.join(sharedData, 'sql/pagila-data.sql'), false);
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'pagila' }).discover(), {
      connection: scratch.url,
    });
    steward = await contextAs(database, { id: 'sam', displayName: 'Sam Steward', clearance: 'S', roles: ['steward'] });
    analyst = await contextAs(database, { id: 'ana', displayName: 'Ana Analyst', clearance: 'U', roles: ['viewer'] });
    client = await connectMcpClient(steward);
    analystClient = await connectMcpClient(analyst);
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await analystClient?.close();
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  /** The `n` of a one-row query on the source database. */
  const scalar = async (text: string) => Number((await source.unsafe(text))[0]!.n);
  const add = (args: Record<string, unknown>) => call(client, 'pipelines_add_node', { pipeline: id, ...args });

  it('builds the pipeline node by node, saying what is still missing until it validates', async () => {
    const created = await call(client, 'pipelines_create', {
      name: 'monthly payment totals by customer',
      description: 'What each customer paid per month',
    });
    id = created.id;
    expect(created).toMatchObject({ version: 1, semver: '0.1.0' });

    const first = await add({ id: 'payments', type: 'source_dataset', config: { urn: pagila('payment') } });
    expect(first.issues.map((i: { message: string }) => i.message)).toContain(
      'the pipeline has no destination; add a destination_table node',
    );
    await add({ id: 'customers', type: 'source_dataset', config: { urn: pagila('customer') } });
    await add({
      id: 'joined',
      type: 'join',
      config: { kind: 'inner', on: [{ left: 'customer_id', right: 'customer_id' }] },
    });
    await call(client, 'pipelines_connect', {
      pipeline: id,
      source: 'payments',
      target: 'joined',
      targetHandle: 'left',
    });
    await call(client, 'pipelines_connect', {
      pipeline: id,
      source: 'customers',
      target: 'joined',
      targetHandle: 'right',
    });
    await add({
      id: 'months',
      type: 'derive',
      after: 'joined',
      config: {
        columns: [
          { name: 'customer_name', expression: "first_name || ' ' || last_name" },
          { name: 'year', expression: 'cast(extract(year from payment_date) as integer)' },
          { name: 'month', expression: 'cast(extract(month from payment_date) as integer)' },
        ],
      },
    });
    await add({ id: 'paid', type: 'filter', after: 'months', config: { condition: 'amount > 0' } });
    await add({
      id: 'checked',
      type: 'validate',
      after: 'paid',
      config: {
        rules: [
          { check: 'not_null', column: 'customer_id' },
          { check: 'range', column: 'amount', min: 0 },
        ],
        onFail: 'stop',
      },
    });
    await add({
      id: 'totals',
      type: 'aggregate',
      after: 'checked',
      config: {
        groupBy: ['customer_id', 'customer_name', 'email', 'year', 'month'],
        measures: [
          { name: 'total', fn: 'sum', column: 'amount' },
          { name: 'payments', fn: 'count' },
        ],
      },
    });
    const done = await add({
      id: 'out',
      type: 'destination_table',
      after: 'totals',
      config: { table: 'monthly_customer_payments', mode: 'replace' },
    });
    expect(done.issues).toEqual([]);

    const validated = await call(client, 'pipelines_validate', { pipeline: 'monthly payment totals by customer' });
    expect(validated.valid).toBe(true);
    expect(validated.outputs.out).toEqual([
      { name: 'customer_id', type: 'smallint' },
      { name: 'customer_name', type: 'text' },
      { name: 'email', type: 'character varying(50)' },
      { name: 'year', type: 'integer' },
      { name: 'month', type: 'integer' },
      { name: 'total', type: 'numeric' },
      { name: 'payments', type: 'bigint' },
    ]);
  });

  it('catches a broken edit, naming the node and the column it meant', async () => {
    const broken = await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'paid',
      config: { condition: 'amout > 0' },
    });
    expect(broken.issues).toEqual([
      { nodeId: 'paid', message: 'node `paid` (filter): column `amout` does not exist; did you mean `amount`?' },
    ]);
    await expect(call(client, 'pipelines_run', { pipeline: id })).rejects.toThrow(
      /cannot run pipeline .*node `paid` \(filter\): column `amout` does not exist/,
    );
    const subquery = await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'paid',
      config: { condition: 'amount > (select 0)' },
    });
    expect(subquery.issues[0].message).toMatch(/node `paid` \(filter\): .*subqueries are not allowed/);
    await expect(
      call(client, 'pipelines_connect', { pipeline: id, source: 'totals', target: 'months' }),
    ).rejects.toThrow(
      'node `months` (derive) already takes its input from `joined`; disconnect that first, or combine both in a union node',
    );
    await call(client, 'pipelines_disconnect', { pipeline: id, source: 'joined', target: 'months' });
    const cycle = await call(client, 'pipelines_connect', { pipeline: id, source: 'totals', target: 'months' });
    expect(cycle.issues).toContainEqual({
      nodeId: 'months',
      message: "node `months` (derive) is on a cycle; a pipeline flows one way, so remove one of the cycle's edges",
    });
    await call(client, 'pipelines_disconnect', { pipeline: id, source: 'totals', target: 'months' });
    await call(client, 'pipelines_connect', { pipeline: id, source: 'joined', target: 'months' });
    await expect(
      call(client, 'pipelines_connect', { pipeline: id, source: 'payments', target: 'nowhere' }),
    ).rejects.toThrow(/no node `nowhere`/);
    const fixed = await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'paid',
      config: { condition: 'amount > 0' },
    });
    expect(fixed.issues).toEqual([]);
  });

  it('previews the rows at a node, equal to the hand-written query, masked for a viewer', async () => {
    const preview = await call(client, 'pipelines_preview', { pipeline: id, node: 'totals', limit: 200 });
    expect(preview.rows).toHaveLength(200);
    const expected = new Map(
      (await source.unsafe(handWritten)).map((r) => [`${r.customer_id}/${r.year}/${r.month}`, r]),
    );
    for (const row of preview.rows) {
      const want = expected.get(`${row.customer_id}/${row.year}/${row.month}`)!;
      expect(row).toEqual({ ...want });
    }
    expect(preview.columns.find((c: { name: string }) => c.name === 'email')).toMatchObject({ treatment: 'shown' });

    const upstream = await call(client, 'pipelines_preview', { pipeline: id, node: 'months', limit: 3 });
    expect(upstream.columns.map((c: { name: string }) => c.name)).toContain('customer_name');

    const masked = await call(analystClient, 'pipelines_preview', { pipeline: id, node: 'totals', limit: 5 });
    const email = masked.columns.find((c: { name: string }) => c.name === 'email');
    expect(email.treatment).not.toBe('shown');
    for (const row of masked.rows) expect(row.email).not.toMatch(/^[A-Z.]+@sakilacustomer\.org$/);
  });

  it('runs: writes the hand-written result, with rows and timings per node; only stewards and owners run', async () => {
    await expect(call(analystClient, 'pipelines_run', { pipeline: id })).rejects.toThrow(
      /ana may not run pipeline .*steward or owner/,
    );
    const run = await call(client, 'pipelines_run', { pipeline: id });
    expect(run.status).toBe('succeeded');
    const expectedRows = await scalar(`select count(*)::int as n from (${handWritten}) h`);
    const payments = await scalar('select count(*)::int as n from payment where amount > 0');
    expect(run.stats.nodes.totals.rows).toBe(expectedRows);
    expect(run.stats.nodes.paid.rows).toBe(payments);
    expect(run).toMatchObject({ environment: 'dev' });
    expect(run.stats.destinations.out).toMatchObject({
      table: 'public.monthly_customer_payments_dev',
      rows: expectedRows,
    });
    output = run.stats.destinations.out.table;
    expect(typeof run.stats.nodes.joined.ms).toBe('number');
    const difference = async () =>
      (
        await source.unsafe(`select count(*)::int as n from (
          (select * from ${output} except all ${handWritten})
          union all (${handWritten} except all select * from ${output})) d`)
      )[0]!.n;
    expect(await difference()).toBe(0);

    const again = await call(client, 'pipelines_run', { pipeline: id });
    expect(again.status).toBe('succeeded');
    expect(await difference()).toBe(0);
    const lean = await call(client, 'pipelines_run', { pipeline: id, nodeStats: false });
    expect(lean.stats.nodes).toEqual({});
    expect(lean.stats.destinations.out.rows).toBe(expectedRows);
    expect(await difference()).toBe(0);
    // Two runs at once never write together: one that finds the other writing fails at once, saying so.
    const together = await Promise.all([1, 2].map(() => call(client, 'pipelines_run', { pipeline: id })));
    expect(together.some((r) => r.status === 'succeeded')).toBe(true);
    for (const r of together.filter((t) => t.status === 'failed'))
      expect(r.error).toMatch(/^a run of this pipeline in dev is in progress/);
    expect(await difference()).toBe(0);
    const fetched = await call(client, 'pipelines_get_run', { run: again.runId });
    expect(fetched).toMatchObject({ status: 'succeeded', version: run.version, trigger: 'manual' });
  });

  it('keeps the old output when a run fails, and explains the failure with its node and a fix', async () => {
    const before = (await call(client, 'pipelines_get', { pipeline: id })).version;
    await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'paid',
      config: { condition: 'amount / (amount - amount) > 0' },
    });
    const failed = await call(client, 'pipelines_run', { pipeline: id });
    expect(failed.status).toBe('failed');
    expect(failed.stats.failedNode).toBe('paid');
    expect(failed.error).toMatch(/division by zero/);
    const explained = await call(client, 'pipelines_explain_run', { run: failed.runId });
    expect(explained.failedNode).toBe('paid');
    expect(explained.summary).toMatch(/failed at node `paid` \(filter\): an expression divided by zero/);
    expect(explained.fix).toMatch(/nullif/);
    const n = await scalar(`select count(*)::int as n from ${output}`);
    const expected = await scalar(`select count(*)::int as n from (${handWritten}) h`);
    expect(n).toBe(expected);

    await call(client, 'pipelines_update_node', { pipeline: id, id: 'paid', config: { condition: 'last_name > 5' } });
    await expect(call(client, 'pipelines_preview', { pipeline: id, node: 'paid', limit: 5 })).rejects.toThrow(
      /previewing node `paid` failed: operator does not exist: character varying > integer/,
    );
    const mistyped = await call(client, 'pipelines_run', { pipeline: id });
    expect(mistyped.stats).toMatchObject({ failedNode: 'paid', sqlstate: '42883' });
    const mistypedWhy = await call(client, 'pipelines_explain_run', { run: mistyped.runId });
    expect(mistypedWhy.cause).toMatch(/operator or function was applied to a type it does not take/);
    expect(mistypedWhy.fix).toMatch(/cast the column/);

    const rolledBack = await call(client, 'pipelines_rollback', { pipeline: id, version: before });
    expect(rolledBack.issues).toEqual([]);
    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
  });

  it('stops a run on rows that break a validate rule, or quarantines them', async () => {
    await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'checked',
      config: { rules: [{ check: 'range', column: 'amount', max: 10 }] },
    });
    const stopped = await call(client, 'pipelines_run', { pipeline: id });
    const over = await scalar('select count(*)::int as n from payment where amount > 10');
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toBe(
      `node \`checked\` (validate) stopped the run: ${over} rows break \`amount between -∞ and 10\``,
    );
    const explained = await call(client, 'pipelines_explain_run', { run: stopped.runId });
    expect(explained.fix).toMatch(/quarantine/);

    await call(client, 'pipelines_update_node', { pipeline: id, id: 'checked', config: { onFail: 'quarantine' } });
    const quarantined = await call(client, 'pipelines_run', { pipeline: id });
    expect(quarantined.status).toBe('succeeded');
    expect(quarantined.stats.quarantined.checked).toEqual([{ rule: 'amount between -∞ and 10', rows: over }]);
    const kept = await scalar(`select sum(payments)::int as n from ${quarantined.stats.destinations.out.table}`);
    const small = await scalar('select count(*)::int as n from payment where amount > 0 and amount <= 10');
    expect(kept).toBe(small);

    // The rows left out are kept beside the output, each with the rule it broke and its run.
    const quarantine = quarantined.stats.quarantineTables.checked as string;
    expect(quarantine).toBe('public.monthly_customer_payments_quarantine_dev');
    const leftOut = await source.unsafe(
      `select count(*)::int as n, min(dataops_failed_rules::text) as rules, count(distinct dataops_run_id)::int as runs, min(dataops_run_id::text) as run, min(amount) > 10 as all_over from ${quarantine}`,
    );
    expect(leftOut[0]).toEqual({
      n: over,
      rules: '{"amount between -∞ and 10"}',
      runs: 1,
      run: quarantined.runId,
      all_over: true,
    });
    // A second run appends its own, so earlier quarantines stay to be looked at.
    const again = await call(client, 'pipelines_run', { pipeline: id });
    expect(await scalar(`select count(*)::int as n from ${quarantine} where dataops_run_id = '${again.runId}'`)).toBe(
      over,
    );
    expect(await scalar(`select count(*)::int as n from ${quarantine}`)).toBe(2 * over);
  });

  it('versions every change semantically, diffs versions and rolls back', async () => {
    const start = await call(client, 'pipelines_get', { pipeline: id });
    const [major] = start.semver.split('.').map(Number);
    const added = await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'totals',
      config: {
        measures: [
          { name: 'total', fn: 'sum', column: 'amount' },
          { name: 'payments', fn: 'count' },
          { name: 'largest', fn: 'max', column: 'amount' },
        ],
      },
    });
    expect(added.semver).toMatch(new RegExp(`^${major}\\.\\d+\\.0$`));
    expect(added.semver).not.toBe(start.semver);
    const removed = await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'totals',
      config: { measures: [{ name: 'total', fn: 'sum', column: 'amount' }] },
    });
    expect(removed.semver).toBe(`${major + 1}.0.0`);
    const relabelled = await call(client, 'pipelines_update_node', { pipeline: id, id: 'totals', label: 'Totals' });
    expect(relabelled.semver).toBe(`${major + 1}.0.1`);

    const diff = await call(client, 'pipelines_diff', { pipeline: id, from: start.version, to: removed.version });
    expect(diff.nodesChanged).toEqual([{ id: 'totals', fields: ['config.measures'] }]);
    expect(diff.schema).toEqual([{ output: 'out', column: 'payments', change: 'removed' }]);

    const back = await call(client, 'pipelines_rollback', { pipeline: id, version: start.version });
    const now = await call(client, 'pipelines_get', { pipeline: id });
    expect(now.version).toBe(back.version);
    expect(now.nodes.find((n: { id: string }) => n.id === 'totals').data.config).toEqual(
      start.nodes.find((n: { id: string }) => n.id === 'totals').data.config,
    );
    expect(now.versions[0].note).toBe(`rollback to version ${start.version} (${start.semver})`);
    expect(back.semver).toBe(`${major + 1}.1.0`);
  });

  it('explains an upsert into a table without a key, and upserts idempotently into a new one', async () => {
    await call(client, 'pipelines_update_node', {
      pipeline: id,
      id: 'out',
      config: { mode: 'upsert', key: ['customer_id', 'year', 'month'] },
    });
    const failed = await call(client, 'pipelines_run', { pipeline: id });
    expect(failed.stats.failedNode).toBe('out');
    const explained = await call(client, 'pipelines_explain_run', { run: failed.runId });
    expect(explained.cause).toMatch(/no unique index on the upsert key/);

    await call(client, 'pipelines_update_node', { pipeline: id, id: 'out', config: { table: 'customer_months' } });
    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
    const second = await call(client, 'pipelines_run', { pipeline: id });
    expect(second.status).toBe('succeeded');
    const n = await scalar(`select count(*)::int as n from ${second.stats.destinations.out.table}`);
    expect(n).toBe(second.stats.nodes.totals.rows);
  });

  it('hides a pipeline that reads an asset the caller may not see, exactly like one that does not exist', async () => {
    await database.db.execute(sql`update assets set classification = 'S' where urn = ${pagila('customer')}`);
    const ghost = '00000000-0000-4000-8000-000000000000';
    const hidden = call(analystClient, 'pipelines_get', { pipeline: id });
    await expect(hidden).rejects.toThrow(`no pipeline ${id}: list the pipelines you can see with pipelines_list`);
    await expect(call(analystClient, 'pipelines_get', { pipeline: ghost })).rejects.toThrow(
      `no pipeline ${ghost}: list the pipelines you can see with pipelines_list`,
    );
    expect((await call(analystClient, 'pipelines_list', {})).pipelines).toEqual([]);
    expect((await call(client, 'pipelines_list', {})).pipelines.map((p: { id: string }) => p.id)).toEqual([id]);
    const mine = await call(analystClient, 'pipelines_create', { name: 'analyst draft' });
    const addSource = (urn: string) =>
      call(analystClient, 'pipelines_add_node', { pipeline: mine.id, type: 'source_dataset', config: { urn } });
    await expect(addSource(pagila('customer'))).rejects.toThrow(
      `no asset ${pagila('customer')}: search the catalog with catalog_search to find its URN`,
    );
    await expect(addSource(pagila('no_such_table'))).rejects.toThrow(
      `no asset ${pagila('no_such_table')}: search the catalog with catalog_search to find its URN`,
    );
    expect((await call(analystClient, 'pipelines_get', { pipeline: mine.id })).nodes).toEqual([]);
    await database.db.execute(sql`update assets set classification = 'U' where urn = ${pagila('customer')}`);
  });
});

describe('every transform on a small database, against hand-written SQL', () => {
  let database: Database;
  let client: Client;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;
  const shop = (table: string) => assetUrn('postgres', 'shop', 'public', table);

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_pipelines_shop');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(`
      create table orders (id int, customer text, email text, amount numeric(8,2), region text);
      create table archived_orders (id int, customer text, email text, amount numeric(8,2), region text);
      create table regions (region text primary key, name text);
      insert into orders values (1, 'ann', 'ann@army.mil', 10.00, 'east'), (2, 'bob', 'bob@navy.mil', 25.50, 'west'),
        (3, 'cy', 'cy@army.mil', 7.25, 'east');
      insert into archived_orders values (3, 'cy', 'cy@army.mil', 9.75, 'east'), (4, 'dee', 'dee@usmc.mil', 40.00, 'north');
      insert into regions values ('east', 'East'), ('west', 'West'), ('south', 'South');`);
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'shop' }).discover(), {
      connection: scratch.url,
    });
    client = await connectMcpClient(admin);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  it('unions, deduplicates, renames, full-joins, masks, sorts and limits, then appends', async () => {
    const { id } = await call(client, 'pipelines_create', { name: 'top orders' });
    const add = (args: Record<string, unknown>) => call(client, 'pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'live', type: 'source_dataset', config: { urn: shop('orders') } });
    await add({ id: 'old', type: 'source_dataset', config: { urn: shop('archived_orders') } });
    await add({ id: 'regions', type: 'source_dataset', config: { urn: shop('regions') } });
    await add({ id: 'all', type: 'union', after: 'live', config: {} });
    await call(client, 'pipelines_connect', { pipeline: id, source: 'old', target: 'all' });
    await add({
      id: 'latest',
      type: 'deduplicate',
      after: 'all',
      config: { columns: ['id'], keep: [{ column: 'amount', direction: 'desc' }] },
    });
    await add({
      id: 'named',
      type: 'select',
      after: 'latest',
      config: {
        columns: [
          { column: 'id' },
          { column: 'customer', as: 'buyer' },
          { column: 'email' },
          { column: 'amount' },
          { column: 'region' },
        ],
      },
    });
    await add({ id: 'placed', type: 'join', config: { kind: 'full', on: [{ left: 'region', right: 'region' }] } });
    await call(client, 'pipelines_connect', { pipeline: id, source: 'named', target: 'placed', targetHandle: 'left' });
    await call(client, 'pipelines_connect', {
      pipeline: id,
      source: 'regions',
      target: 'placed',
      targetHandle: 'right',
    });
    await add({ id: 'hidden', type: 'mask', after: 'placed', config: { columns: ['email'], method: 'hash' } });
    await add({
      id: 'top',
      type: 'sort',
      after: 'hidden',
      config: { by: [{ column: 'amount', direction: 'desc' }], limit: 3 },
    });
    const saved = await add({
      id: 'out',
      type: 'destination_table',
      after: 'top',
      config: { table: 'top_orders', mode: 'append' },
    });
    expect(saved.issues).toEqual([]);

    const deduplicated = await call(client, 'pipelines_preview', { pipeline: id, node: 'latest', limit: 10 });
    expect(deduplicated.rows.map((r: { id: number; amount: string }) => [r.id, r.amount]).sort()).toEqual([
      [1, '10.00'],
      [2, '25.50'],
      [3, '9.75'],
      [4, '40.00'],
    ]);

    // A mask with no columns masks what the catalog (or the name) says is personal; a node still being built
    // (it leads nowhere yet) can be previewed.
    const draft = await add({ id: 'draft', type: 'mask', after: 'named', config: {} });
    expect(draft.issues).toEqual([
      { nodeId: 'draft', message: 'node `draft` (mask) leads nowhere; connect its output or remove it' },
    ]);
    const redacted = await call(client, 'pipelines_preview', { pipeline: id, node: 'draft', limit: 10 });
    expect(redacted.rows.map((r: { email: string }) => r.email)).toEqual(Array(4).fill('[redacted]'));
    expect(redacted.rows.map((r: { buyer: string }) => r.buyer).sort()).toEqual(['ann', 'bob', 'cy', 'dee']);
    await call(client, 'pipelines_remove_node', { pipeline: id, id: 'draft' });

    const run = await call(client, 'pipelines_run', { pipeline: id });
    expect(run.status).toBe('succeeded');
    expect(run.stats.nodes.all.rows).toBe(5);
    expect(run.stats.nodes.placed.rows).toBe(5);
    const expected = `
      select d.id, d.buyer, d.amount, coalesce(d.region, r.region) as region, r.name
      from (select distinct on (id) id, customer as buyer, amount, region
            from (select * from orders union all select * from archived_orders) u order by id, amount desc) d
      full join regions r on r.region = d.region
      order by amount desc limit 3`;
    const table = run.stats.destinations.out.table;
    const written = `select id, buyer, amount, region, name from ${table}`;
    const difference = async () =>
      Number(
        (
          await source.unsafe(`select count(*) as n from (((${written}) except all (${expected}))
            union all ((${expected}) except all (${written}))) d`)
        )[0]!.n,
      );
    expect(await difference()).toBe(0);
    const emails = await source.unsafe<{ id: number | null; email: string | null }[]>(`select id, email from ${table}`);
    for (const row of emails.filter((r) => r.email !== null)) expect(row.email).toMatch(/^hash:[0-9a-f]{16}$/);

    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
    expect(Number((await source.unsafe(`select count(*) as n from ${table}`))[0]!.n)).toBe(6);
  });

  it('says what is wrong with a union of different columns and a join whose sides share a column', async () => {
    const { id } = await call(client, 'pipelines_create', { name: 'broken shapes' });
    const add = (args: Record<string, unknown>) => call(client, 'pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'live', type: 'source_dataset', config: { urn: shop('orders') } });
    await add({ id: 'regions', type: 'source_dataset', config: { urn: shop('regions') } });
    await add({ id: 'both', type: 'union', after: 'live', config: {} });
    await call(client, 'pipelines_connect', { pipeline: id, source: 'regions', target: 'both' });
    await add({ id: 'out', type: 'destination_table', after: 'both', config: { table: 'nowhere' } });
    const { issues } = await call(client, 'pipelines_validate', { pipeline: id });
    expect(issues).toEqual([
      {
        nodeId: 'both',
        message:
          'node `both` (union): input `regions` has columns name, region but `live` has amount, customer, email, id, region; a union needs the same columns (select or rename them first)',
      },
    ]);
    await call(client, 'pipelines_remove_node', { pipeline: id, id: 'both' });
    const keyless = await add({
      id: 'once',
      type: 'deduplicate',
      after: 'live',
      config: { keep: [{ column: 'amount' }] },
    });
    expect(keyless.issues).toContainEqual({
      nodeId: 'once',
      message:
        'node `once` (deduplicate): `keep` picks one row per key, but no key is set; name the key columns in `columns`',
    });
    await call(client, 'pipelines_remove_node', { pipeline: id, id: 'once' });
    await add({ id: 'joined', type: 'join', config: { on: [{ left: 'region', right: 'name' }] } });
    await call(client, 'pipelines_connect', { pipeline: id, source: 'live', target: 'joined', targetHandle: 'left' });
    await call(client, 'pipelines_connect', {
      pipeline: id,
      source: 'regions',
      target: 'joined',
      targetHandle: 'right',
    });
    const joined = await call(client, 'pipelines_connect', { pipeline: id, source: 'joined', target: 'out' });
    expect(joined.issues).toEqual([
      {
        nodeId: 'joined',
        message:
          'node `joined` (join): column `region` appears twice in its output; rename it on one side with a select node before the join',
      },
    ]);
  });
});

describe('runs that keep to their own tables, one at a time, and tell each reader only what it may know', () => {
  let database: Database;
  let steward: ServiceContext;
  let client: Client;
  /** Vic owns a pipeline but is only a viewer cleared to C; Una is a viewer cleared to U who owns nothing. */
  let vicClient: Client;
  let unaClient: Client;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;
  const guard = (table: string) => assetUrn('postgres', 'guard', 'public', table);

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_pipelines_guard');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(`
      create table orders (id int, email text, amount numeric(8,2), secret text);
      create table intel (id int, amount numeric(8,2));
      create table keep_dev (id int);
      insert into orders values (1, 'ann@army.mil', 10.00, 'alpha'), (2, 'bob@navy.mil', 25.50, 'bravo');
      insert into intel values (7, 99.00);
      insert into keep_dev values (42);`);
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'guard' }).discover(), {
      connection: scratch.url,
    });
    await database.db.execute(sql`update columns set classification = 'S' where name = 'secret'
      and asset_id = (select id from assets where urn = ${guard('orders')})`);
    await database.db.execute(sql`update assets set classification = 'S' where urn = ${guard('intel')}`);
    steward = await contextAs(database, { id: 'sam', displayName: 'Sam Steward', clearance: 'S', roles: ['steward'] });
    const vic = await contextAs(database, { id: 'vic', displayName: 'Vic Viewer', clearance: 'C', roles: ['viewer'] });
    const una = await contextAs(database, { id: 'una', displayName: 'Una Viewer', clearance: 'U', roles: ['viewer'] });
    client = await connectMcpClient(steward);
    vicClient = await connectMcpClient(vic);
    unaClient = await connectMcpClient(una);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await vicClient?.close();
    await unaClient?.close();
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  /** A pipeline of `owner`'s reading `urn` through the nodes `between`, one after another, into `table` (replace). */
  async function pipelineInto(
    owner: Client,
    name: string,
    urn: string,
    table: string,
    between: { id: string; type: string; config: Record<string, unknown> }[] = [],
  ) {
    const { id } = await call(owner, 'pipelines_create', { name });
    await call(owner, 'pipelines_add_node', { pipeline: id, id: 'in', type: 'source_dataset', config: { urn } });
    let last = 'in';
    for (const node of between) {
      await call(owner, 'pipelines_add_node', { pipeline: id, ...node, after: last });
      last = node.id;
    }
    await call(owner, 'pipelines_add_node', {
      pipeline: id,
      id: 'out',
      type: 'destination_table',
      after: last,
      config: { table, mode: 'replace' },
    });
    return id as string;
  }
  const keptRows = async () => (await source.unsafe('select id from keep_dev')).map((r) => r.id);

  it('replaces, creates or quarantines into only a table that is new or that the pipeline wrote before', async () => {
    const id = await pipelineInto(client, 'into keep', guard('orders'), 'keep');
    const refused = await call(client, 'pipelines_run', { pipeline: id });
    expect(refused.status).toBe('failed');
    expect(refused.stats.failedNode).toBe('out');
    expect(refused.error).toBe(
      "node `out` may not use public.keep_dev as its replace table: the table exists and this pipeline did not write it in an earlier successful run (it may be a source table or another pipeline's output); write to a table that does not exist yet: the pipeline creates it, and later runs may replace, append or upsert into it",
    );
    expect(await keptRows()).toEqual([42]);

    await call(client, 'pipelines_update_node', { pipeline: id, id: 'out', config: { table: 'kept_orders' } });
    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
    // Its own table, from an earlier successful run, it replaces again.
    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
    // Another pipeline may not replace it.
    const other = await pipelineInto(client, 'same table', guard('orders'), 'kept_orders');
    const clash = await call(client, 'pipelines_run', { pipeline: other });
    expect(clash.error).toMatch(/^node `out` may not use public\.kept_orders_dev as its replace table/);

    const quarantine = await pipelineInto(client, 'quarantine into keep', guard('orders'), 'checked_orders', [
      {
        id: 'checked',
        type: 'validate',
        config: {
          rules: [{ check: 'range', column: 'amount', max: 20 }],
          onFail: 'quarantine',
          quarantineTable: { schema: 'public', table: 'keep' },
        },
      },
    ]);
    const quarantining = await call(client, 'pipelines_run', { pipeline: quarantine });
    expect(quarantining.stats.failedNode).toBe('checked');
    expect(quarantining.error).toMatch(
      /^node `checked` may not use public\.keep_dev as its quarantine table: .*; name a table that does not exist yet in the node’s quarantineTable$/,
    );
    expect(await keptRows()).toEqual([42]);
  });

  it('fails a second run of a pipeline in an environment at once while one holds it, and closes runs left running', async () => {
    const id = await pipelineInto(client, 'one at a time', guard('orders'), 'one_at_a_time');
    const [stale] = await database.db
      .insert(pipelineRuns)
      .values({
        pipelineId: id,
        version: 1,
        status: 'running',
        trigger: 'manual',
        environment: 'dev',
        stats: { timeoutSeconds: 60 },
        startedAt: new Date(Date.now() - 2 * 86_400_000),
      })
      .returning({ id: pipelineRuns.id });
    await source.begin(async (tx) => {
      await tx.unsafe(`select pg_advisory_xact_lock(hashtext('dataops.pipeline_run'), hashtext($1))`, [
        runLockKey(id, 'dev'),
      ]);
      const second = await call(client, 'pipelines_run', { pipeline: id });
      expect(second.status).toBe('failed');
      expect(second.error).toMatch(/^a run of this pipeline in dev is in progress; try again when it ends/);
      const why = await call(client, 'pipelines_explain_run', { run: second.runId });
      expect(why.cause).toMatch(/another run of this pipeline in the same environment/);
    });
    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
    const closed = await call(client, 'pipelines_get_run', { run: stale!.id });
    expect(closed.status).toBe('failed');
    expect(closed.error).toMatch(/^the run stopped without finishing .* time limit of 60 s had passed/);
    expect(closed.finishedAt).not.toBeNull();
    const closedWhy = await call(client, 'pipelines_explain_run', { run: stale!.id });
    expect(closedWhy.cause).toMatch(/^the process running it ended \(a crash or a restart\) before the run finished/);
  });

  it('shows profile values, database messages and figures only to those who may see them', async () => {
    // Vic (a viewer cleared to C) owns the pipeline; Sam, a steward, runs it.
    const id = await pipelineInto(vicClient, 'profiled orders', guard('orders'), 'profiled_orders', [
      { id: 'seen', type: 'profile', config: {} },
    ]);
    const run = await call(client, 'pipelines_run', { pipeline: id });
    expect(run.status).toBe('succeeded');
    expect(run.stats.profiles.seen.columns.secret).toMatchObject({ min: 'alpha', max: 'bravo' });
    expect(run.stats.profiles.seen.columns.email).toMatchObject({ min: 'ann@army.mil' });
    expect(run.stats.profileMarkings).toBeUndefined();

    const asOwner = await call(vicClient, 'pipelines_get_run', { run: run.runId });
    const columns = asOwner.stats.profiles.seen.columns;
    expect(Object.keys(columns).sort()).toEqual(['amount', 'email', 'id']);
    expect(columns.amount).toMatchObject({ min: '10.00', max: '25.50' });
    expect(columns.email).toMatchObject({ nulls: 0, distinct: 2, min: null, max: null });

    // Una may see the pipeline but not what the run read: no figures, no database words.
    const asOther = await call(unaClient, 'pipelines_get_run', { run: run.runId });
    expect(asOther.stats).toEqual({ nodes: {}, destinations: {}, totalMs: expect.any(Number) });
    const why = await call(unaClient, 'pipelines_explain_run', { run: run.runId });
    expect(why.summary).toBe(`Run ${run.runId} succeeded; there is no failure to explain.`);

    const broken = await pipelineInto(vicClient, 'broken orders', guard('orders'), 'broken_orders', [
      { id: 'broken', type: 'filter', config: { condition: 'amount / (amount - amount) > 0' } },
    ]);
    const failed = await call(client, 'pipelines_run', { pipeline: broken });
    expect(failed.error).toMatch(/division by zero/);
    const told = await call(unaClient, 'pipelines_get_run', { run: failed.runId });
    expect(told.error).toBe(
      "the run failed at node `broken`; pipelines_explain_run says why and what to do (the database's own message is shown to stewards, owners and the pipeline's owner)",
    );
    expect(told.stats).toEqual({ nodes: {}, destinations: {}, totalMs: expect.any(Number), failedNode: 'broken' });
    const explained = await call(unaClient, 'pipelines_explain_run', { run: failed.runId });
    expect(explained.cause).toMatch(/divided by zero/);
    expect(explained.summary).not.toMatch(/division by zero/);
    expect((await call(vicClient, 'pipelines_explain_run', { run: failed.runId })).summary).toMatch(
      /The database said: division by zero/,
    );
  });

  it("checks a run against the version that ran, not the pipeline's current one", async () => {
    const id = await pipelineInto(client, 'was secret', guard('intel'), 'was_secret');
    const secretRun = await call(client, 'pipelines_run', { pipeline: id });
    expect(secretRun.status).toBe('succeeded');
    // A table with no column above Una's clearance (orders has one, and an output naming it hides the pipeline).
    await call(client, 'pipelines_update_node', { pipeline: id, id: 'in', config: { urn: guard('keep_dev') } });
    const openRun = await call(client, 'pipelines_run', { pipeline: id });
    // Una may see the pipeline as it is now, and its runs of this version, but not the run of the secret one.
    expect((await call(unaClient, 'pipelines_get', { pipeline: id })).id).toBe(id);
    expect((await call(unaClient, 'pipelines_get_run', { run: openRun.runId })).status).toBe('succeeded');
    await expect(call(unaClient, 'pipelines_get_run', { run: secretRun.runId })).rejects.toThrow(
      `no pipeline run ${secretRun.runId}`,
    );
    await expect(call(unaClient, 'pipelines_explain_run', { run: secretRun.runId })).rejects.toThrow(
      `no pipeline run ${secretRun.runId}`,
    );
  });

  it('reads one snapshot through a whole run: a row added while it runs reaches none of its outputs', async () => {
    const id = await pipelineInto(client, 'one snapshot', guard('orders'), 'snapshot_a');
    await call(client, 'pipelines_add_node', {
      pipeline: id,
      id: 'second',
      type: 'destination_table',
      after: 'in',
      config: { table: 'snapshot_b', mode: 'replace' },
    });
    expect((await call(client, 'pipelines_run', { pipeline: id })).status).toBe('succeeded');
    const before = Number((await source.unsafe('select count(*)::int as n from orders'))[0]!.n);
    const other = postgres(scratch.url, { max: 1, onnotice: () => {} });
    try {
      let run: Promise<ToolAnswer> | undefined;
      // Both outputs are held, so the run waits at its first swap, after it began reading and before its second
      // output reads the orders; a row is added meanwhile.
      await source.begin(async (tx) => {
        await tx.unsafe('lock table snapshot_a_dev, snapshot_b_dev in access exclusive mode');
        run = call(client, 'pipelines_run', { pipeline: id });
        for (;;) {
          const [waiting] = await other.unsafe(
            `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike 'drop table%'`,
          );
          if (waiting!.n > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await other.unsafe(`insert into orders values (3, 'cat@army.mil', 15.00, 'charlie')`);
      });
      const done = await run!;
      expect(done.status).toBe('succeeded');
      expect(done.stats.nodes.in.rows).toBe(before);
      expect(done.stats.destinations.out.rows).toBe(before);
      expect(done.stats.destinations.second.rows).toBe(before);
    } finally {
      await other.end();
    }
  });
});
