import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { readAuditLog } from '../mcp-server/governance/audit.js';
import { upsertPrincipal } from '../mcp-server/governance/principals.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import {
  claimDueJob,
  completeJob,
  nextDue,
  runDueCycle,
  type SchedulerOptions,
} from '../mcp-server/scheduler/scheduler.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/**
 * Tests, environments, deployment, schedules and rollback of a pipeline, through the tools as an assistant
 * calls them: "regional order totals" over a small shop database on the server, whose catalog is embedded
 * (or on the server, as the suite's second pass runs it).
 */
const shop = (table: string) => assetUrn('postgres', 'shop', 'public', table);
const start = new Date('2026-11-23T09:00:00Z'); // a Monday, 09:00 UTC

/** What the pipeline writes, by hand, for a minimum order amount. */
const handWritten = (above: number) => `
  select region, sum(amount) as total, count(*) as orders from orders where amount > ${above} group by region`;

// biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
type Answer = Record<string, any>;

describe('pipeline tests, environments, deployment, schedules and rollback', () => {
  let database: Database;
  let steward: ServiceContext;
  let analyst: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;
  let id: string;
  let firstVersion: number;

  const call = async (name: string, args: Record<string, unknown>, ctx: ServiceContext = steward) => {
    const tool = pipelineTools.find((t) => t.name === name)!;
    const answer = (await runTool(tool as never, args, ctx)) as Answer;
    // What an MCP client would check: the answer fits the tool's output schema, and renders as text.
    tool.output.parse(answer);
    expect(tool.render(answer as never)).toBeTypeOf('string');
    return answer;
  };
  const at = (ctx: ServiceContext, time: Date): ServiceContext => ({ ...ctx, clock: () => time });
  /** Rows of the table a run wrote, in a stable order, numbers as numbers. */
  const written = async (table: string) =>
    (
      await source.unsafe(`select region, total::float8 as total, orders::int as orders from ${table} order by region`)
    ).map((r) => ({ ...r }));
  const expected = async (above: number) =>
    (
      await source.unsafe(
        `select region, total::float8 as total, orders::int as orders from (${handWritten(above)}) h order by region`,
      )
    ).map((r) => ({ ...r }));
  const instance = (instanceId: string): SchedulerOptions => ({ instanceId, leaseSeconds: 600, maxJobs: 50 });
  const scheduledRuns = () =>
    queryRows<{ status: string; environment: string; version: number; error: string | null }>(
      database.db,
      sql`select status, environment, version, error from pipeline_runs where trigger = 'schedule' order by started_at`,
    );
  const job = async (environment: string) =>
    (
      await queryRows<{ nextRunAt: string; runs: number; lastError: string | null; timeZone: string }>(
        database.db,
        sql`select to_char(next_run_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "nextRunAt", runs,
              last_error as "lastError", time_zone as "timeZone"
            from scheduled_jobs where key = ${`pipeline:${id}:${environment}`}`,
      )
    )[0];

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_pipelines_deploy');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(`
      create table orders (id int primary key, region text not null, amount numeric(8,2) not null, placed_on date);
      insert into orders select g, (array['east', 'west', 'north'])[1 + g % 3], (g % 13) - 2 + 0.25, date '2026-01-01' + g
        from generate_series(1, 300) g;`);
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'shop' }).discover(), {
      connection: scratch.url,
    });
    steward = at(
      await contextAs(database, { id: 'sam', displayName: 'Sam Steward', clearance: 'S', roles: ['steward'] }),
      start,
    );
    analyst = await contextAs(database, { id: 'ana', displayName: 'Ana Analyst', clearance: 'U', roles: ['viewer'] });

    ({ id } = await call('pipelines_create', { name: 'regional order totals' }));
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'orders', type: 'source_dataset', config: { urn: shop('orders') } });
    await add({ id: 'positive', type: 'filter', after: 'orders', config: { condition: 'amount > 0' } });
    await add({
      id: 'totals',
      type: 'aggregate',
      after: 'positive',
      config: {
        groupBy: ['region'],
        measures: [
          { name: 'total', fn: 'sum', column: 'amount' },
          { name: 'orders', fn: 'count' },
        ],
      },
    });
    await add({
      id: 'ranked',
      type: 'sort',
      after: 'totals',
      config: { by: [{ column: 'total', direction: 'desc' }] },
    });
    const saved = await add({
      id: 'out',
      type: 'destination_table',
      after: 'ranked',
      config: { table: 'region_totals' },
    });
    expect(saved.issues).toEqual([]);
    firstVersion = saved.version;
  }, 120_000);

  afterAll(async () => {
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  const givenOrders = [
    { id: 1, region: 'east', amount: 10, placed_on: '2026-01-02' },
    { id: 2, region: 'east', amount: -5, placed_on: '2026-01-03' },
    { id: 3, region: 'west', amount: '7.50' },
  ];

  it('runs a pipeline test on given rows only: passes, or shows the rows missing, unexpected or out of order', async () => {
    await expect(call('pipelines_deploy', { pipeline: id })).rejects.toThrow(
      /production needs at least one pipeline test\. Add one with pipelines_add_test/,
    );
    const passing = await call('pipelines_add_test', {
      pipeline: id,
      name: 'positive orders only',
      inputs: { orders: givenOrders },
      expect: {
        // Any order at an aggregate; 10 and 10.00 are the same numeric.
        totals: [
          { region: 'west', total: 7.5, orders: 1 },
          { region: 'east', total: '10.00', orders: 1 },
        ],
        ranked: [
          { region: 'east', total: 10, orders: 1 },
          { region: 'west', total: 7.5, orders: 1 },
        ],
      },
    });
    expect(passing).toMatchObject({ passed: 1, failed: 0 });

    const failing = await call('pipelines_add_test', {
      pipeline: id,
      name: 'refunds count',
      inputs: { orders: givenOrders },
      expect: { totals: [{ region: 'east', total: 5, orders: 2 }] },
    });
    expect(failing.results[0]).toMatchObject({
      name: 'refunds count',
      passed: false,
      problems: [],
      diffs: [
        {
          nodeId: 'totals',
          missing: [{ region: 'east', total: 5, orders: 2 }],
          unexpected: expect.arrayContaining([
            { region: 'east', total: 10, orders: 1 },
            { region: 'west', total: 7.5, orders: 1 },
          ]),
        },
      ],
    });

    const reversed = await call('pipelines_add_test', {
      pipeline: id,
      name: 'ranked by total',
      inputs: { orders: givenOrders },
      expect: {
        ranked: [
          { region: 'west', total: 7.5, orders: 1 },
          { region: 'east', total: 10, orders: 1 },
        ],
      },
    });
    expect(reversed.results[0].diffs).toEqual([
      {
        nodeId: 'ranked',
        missing: [],
        unexpected: [],
        outOfOrder: {
          position: 1,
          expected: { region: 'west', total: 7.5, orders: 1 },
          actual: { region: 'east', total: 10, orders: 1 },
        },
      },
    ]);

    await expect(
      call('pipelines_add_test', {
        pipeline: id,
        name: 'typo',
        inputs: { orders: [{ id: 1, regoin: 'east', amount: 1 }] },
        expect: { totals: [] },
      }),
    ).rejects.toThrow('column `regoin` does not exist; did you mean `region`?');
    await expect(
      call('pipelines_add_test', { pipeline: id, name: 'no rows given', inputs: {}, expect: { totals: [] } }),
    ).rejects.toThrow('source node `orders` feeds `totals` but the test gives it no rows: add inputs.orders');

    // Deploying is refused while a test fails, and the refusal shows the diff.
    const refused = call('pipelines_deploy', { pipeline: id });
    await expect(refused).rejects.toThrow(/2 of 3 pipeline tests fail/);
    await expect(refused).rejects.toThrow(
      /refunds count\n.*at `totals` missing: \{"region":"east","total":5,"orders":2\}/,
    );
    await expect(refused).rejects.toThrow(/ranked by total\n.*row 1 is out of order/);

    // Replaced by name: fixed expectations, still three tests.
    await call('pipelines_add_test', {
      pipeline: id,
      name: 'refunds count',
      inputs: { orders: givenOrders },
      expect: {
        positive: [
          { id: 1, region: 'east', amount: 10, placed_on: '2026-01-02' },
          { id: 3, region: 'west', amount: 7.5, placed_on: null },
        ],
      },
    });
    await call('pipelines_add_test', {
      pipeline: id,
      name: 'ranked by total',
      inputs: { orders: givenOrders },
      expect: {
        ranked: [
          { region: 'east', total: 10, orders: 1 },
          { region: 'west', total: 7.5, orders: 1 },
        ],
      },
    });
    const all = await call('pipelines_test', { pipeline: id }, analyst);
    expect(all).toMatchObject({ passed: 3, failed: 0 });
    expect(all.results.map((r: Answer) => r.name)).toEqual([
      'positive orders only',
      'ranked by total',
      'refunds count',
    ]);

    // Nothing was written: tests read only their own rows.
    expect((await source.unsafe(`select to_regclass('public.region_totals') as t`))[0]!.t).toBeNull();
    expect(Number((await source.unsafe('select count(*) as n from orders'))[0]!.n)).toBe(300);
  });

  it('tests a source query by the rows it returns, compares json as json and floats within a tolerance', async () => {
    const { id: queried } = await call('pipelines_create', { name: 'order details by query' });
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: queried, ...args });
    await add({
      id: 'q',
      type: 'source_sql',
      config: {
        source: 'shop',
        query:
          "select region, amount::float8 as amount, json_build_object('id', id, 'region', region) as detail from orders",
      },
    });
    await add({
      id: 'averages',
      type: 'aggregate',
      after: 'q',
      config: { groupBy: ['region'], measures: [{ name: 'mean', fn: 'avg', column: 'amount' }] },
    });
    const saved = await add({
      id: 'out',
      type: 'destination_table',
      after: 'averages',
      config: { table: 'order_means' },
    });
    expect(saved.issues).toEqual([]);
    const given = [
      { region: 'east', amount: 0.1, detail: { id: 1, region: 'east' } },
      { region: 'east', amount: 0.2, detail: { id: 2, region: 'east' } },
    ];
    // avg(0.1, 0.2) is 0.15000000000000002 in floating point; 0.15 is what a person writes.
    const passing = await call('pipelines_add_test', {
      pipeline: queried,
      name: 'east mean',
      inputs: { q: given },
      expect: {
        averages: [{ region: 'east', mean: 0.15 }],
        q: [
          { region: 'east', amount: 0.1, detail: { region: 'east', id: 1 } },
          { region: 'east', amount: 0.2, detail: { id: 2, region: 'east' } },
        ],
      },
    });
    expect(passing.results[0]).toMatchObject({ passed: true, problems: [], diffs: [] });
    const wrong = await call('pipelines_add_test', {
      pipeline: queried,
      name: 'wrong mean',
      inputs: { q: given },
      expect: { averages: [{ region: 'east', mean: 0.1501 }], q: [{ ...given[0], detail: { id: 9 } }, given[1]] },
    });
    expect(wrong.results[0].diffs).toEqual([
      {
        nodeId: 'averages',
        missing: [{ region: 'east', mean: 0.1501 }],
        unexpected: [{ region: 'east', mean: 0.15000000000000002 }],
      },
      { nodeId: 'q', missing: [{ region: 'east', amount: 0.1, detail: { id: 9 } }], unexpected: [given[0]] },
    ]);
    await expect(
      call('pipelines_add_test', { pipeline: queried, name: 'no rows', inputs: {}, expect: { averages: [] } }),
    ).rejects.toThrow('source node `q` feeds `averages` but the test gives it no rows: add inputs.q');
    // Both stored tests run again on their own rows, never the real orders (whose means differ).
    expect(await call('pipelines_test', { pipeline: queried })).toMatchObject({ passed: 1, failed: 1 });
  });

  it('runs into dev by default and refuses prod until a version is deployed there', async () => {
    const dev = await call('pipelines_run', { pipeline: id });
    expect(dev).toMatchObject({ environment: 'dev', status: 'succeeded' });
    expect(dev.stats.destinations.out.table).toBe('public.region_totals_dev');
    expect(await written('region_totals_dev')).toEqual(await expected(0));
    await expect(call('pipelines_run', { pipeline: id, environment: 'prod' })).rejects.toThrow(
      'pipeline regional order totals has no version in prod yet: deploy it first with pipelines_deploy',
    );
  });

  it('refuses a deploy by someone who is neither steward nor owner, and a bad schedule', async () => {
    await expect(call('pipelines_deploy', { pipeline: id }, analyst)).rejects.toThrow(
      /ana may not deploy pipeline regional order totals: it needs the steward or owner role/,
    );
    await expect(call('pipelines_schedule', { pipeline: id, cron: '0 6 * * *' }, analyst)).rejects.toThrow(
      /ana may not schedule pipeline/,
    );
    await expect(
      call(
        'pipelines_add_test',
        { pipeline: id, name: 'mine', inputs: { orders: [] }, expect: { totals: [] } },
        analyst,
      ),
    ).rejects.toThrow(/ana may not add tests to pipeline regional order totals: only its owner \(sam\) or a steward/);
    await expect(
      call('pipelines_deploy', { pipeline: id, schedule: { cron: '0 6 * * *', timeZone: 'Mars/Olympus' } }),
    ).rejects.toThrow('time zone "Mars/Olympus" is not an IANA time zone');
    await expect(call('pipelines_deploy', { pipeline: id, schedule: { cron: 'every morning' } })).rejects.toThrow(
      /schedule "every morning" is not a cron expression/,
    );
    await expect(call('pipelines_schedule', { pipeline: id, cron: '0 6 * * *' })).rejects.toThrow(
      'pipeline regional order totals is not deployed to prod: deploy it first with pipelines_deploy',
    );
  });

  it('deploys to prod with a schedule in one call: tests pass, the configured table is written', async () => {
    const deployed = await call('pipelines_deploy', {
      pipeline: id,
      schedule: { cron: '0 6 * * *', timeZone: 'america/new_york' },
    });
    expect(deployed).toMatchObject({
      environment: 'prod',
      version: firstVersion,
      schedule: '0 6 * * *',
      timeZone: 'America/New_York',
      // 06:00 in New York in November is 11:00 UTC, the same morning.
      nextRunAt: '2026-11-23T11:00:00.000Z',
      deployedBy: 'sam',
    });
    expect(deployed.tests.map((t: Answer) => t.passed)).toEqual([true, true, true]);
    expect(deployed.run).toMatchObject({ environment: 'prod', status: 'succeeded', version: firstVersion });
    expect(deployed.run.stats.destinations.out.table).toBe('public.region_totals');
    expect(await written('region_totals')).toEqual(await expected(0));
    const shown = await call('pipelines_get', { pipeline: id }, analyst);
    expect(shown.deployments).toEqual([
      expect.objectContaining({ environment: 'prod', version: firstVersion, schedule: '0 6 * * *' }),
    ]);

    // An edit after the deploy runs in dev; prod keeps running what was deployed.
    await call('pipelines_update_node', { pipeline: id, id: 'positive', config: { condition: 'amount > 5' } });
    await call('pipelines_run', { pipeline: id });
    expect(await written('region_totals_dev')).toEqual(await expected(5));
    const prod = await call('pipelines_run', { pipeline: id, environment: 'prod' });
    expect(prod.version).toBe(firstVersion);
    expect(await written('region_totals')).toEqual(await expected(0));
    const audit = await queryRows<{ action: string; details: Record<string, unknown> }>(
      database.db,
      sql`select action, details from audit_log where action = 'pipeline.deploy'`,
    );
    expect(audit).toEqual([
      {
        action: 'pipeline.deploy',
        details: expect.objectContaining({ pipeline: id, environment: 'prod', version: firstVersion, tests: 3 }),
      },
    ]);
  });

  it('publishes on a manual prod run too, and a scheduler cycle closes a run left running past its time limit', async () => {
    const prod = await call('pipelines_run', { pipeline: id, environment: 'prod' });
    expect(prod.status).toBe('succeeded');
    // The catalog describes the prod table as this run left it, not as the deploy's run did.
    expect(prod.stats.published).toEqual([expect.objectContaining({ nodeId: 'out', created: false })]);

    const [stale] = await queryRows<{ id: string }>(
      database.db,
      sql`insert into pipeline_runs (pipeline_id, version, status, trigger, environment, stats, started_at)
          values (${id}::uuid, ${firstVersion}, 'running', 'manual', 'dev', '{"timeoutSeconds": 60}'::jsonb,
            '2026-11-22T09:00:00Z'::timestamptz) returning id`,
    );
    await runDueCycle(at(steward, new Date('2026-11-23T10:00:00Z')), instance('a'));
    const closed = await call('pipelines_get_run', { run: stale!.id });
    expect(closed).toMatchObject({ status: 'failed', finishedAt: '2026-11-23T10:00:00.000Z' });
    expect(closed.error).toMatch(/^the run stopped without finishing \(the process running it ended\)/);
  });

  it('the scheduler runs the deployment when due, once, and keeps the due time across a restart', async () => {
    const before = await runDueCycle(at(steward, new Date('2026-11-23T10:59:00Z')), instance('a'));
    expect(before.failed).toEqual([]);
    expect(await scheduledRuns()).toEqual([]);

    const due = await runDueCycle(at(steward, new Date('2026-11-23T11:00:30Z')), instance('a'));
    expect(due.failed).toEqual([]);
    expect(await scheduledRuns()).toEqual([
      { status: 'succeeded', environment: 'prod', version: firstVersion, error: null },
    ]);
    expect(await job('prod')).toMatchObject({
      nextRunAt: '2026-11-24T11:00:00Z',
      runs: 1,
      lastError: null,
      timeZone: 'America/New_York',
    });

    // A restarted instance, minutes later, finds nothing due: the due time was kept, not recomputed or lost.
    await runDueCycle(at(steward, new Date('2026-11-23T11:05:00Z')), instance('b-after-restart'));
    expect(await scheduledRuns()).toHaveLength(1);
    await runDueCycle(at(steward, new Date('2026-11-24T11:00:10Z')), instance('b-after-restart'));
    expect(await scheduledRuns()).toHaveLength(2);
  });

  it('reads the cron in the schedule’s time zone, and records a failed scheduled run on the run and the job', async () => {
    const kolkata = await call('pipelines_schedule', { pipeline: id, cron: '30 9 * * *', timeZone: 'Asia/Kolkata' });
    // 09:30 in Kolkata (UTC+05:30) is 04:00 UTC; the clock is 09:00 UTC, so the next is tomorrow.
    expect(kolkata).toMatchObject({ nextRunAt: '2026-11-24T04:00:00.000Z', timeZone: 'Asia/Kolkata' });
    expect((await job('prod'))!.nextRunAt).toBe('2026-11-24T04:00:00Z');

    await source.unsafe('alter table orders rename to orders_moved');
    try {
      const cycle = await runDueCycle(at(steward, new Date('2026-11-24T04:01:00Z')), instance('a'));
      expect(cycle.failed).toEqual([{ key: `pipeline:${id}:prod`, error: expect.stringMatching(/orders/) }]);
      const failed = (await scheduledRuns()).filter((r) => r.status === 'failed');
      expect(failed).toEqual([
        { status: 'failed', environment: 'prod', version: firstVersion, error: expect.stringMatching(/orders/) },
      ]);
      expect((await job('prod'))!.lastError).toMatch(/failed at node `orders`/);
    } finally {
      await source.unsafe('alter table orders_moved rename to orders');
    }

    const cleared = await call('pipelines_schedule', { pipeline: id, clear: true });
    expect(cleared).toMatchObject({ schedule: null, nextRunAt: null });
    expect(await job('prod')).toBeUndefined();
    await runDueCycle(at(steward, new Date('2026-11-30T04:01:00Z')), instance('a'));
    expect(await scheduledRuns()).toHaveLength(3);
  });

  it('rolls back in one call: the old graph becomes a new version, deployed to prod and run, restoring its output', async () => {
    // Deploy the edit (amount > 5): its tests still pass on their rows, and prod now holds its output.
    const edited = await call('pipelines_deploy', { pipeline: id });
    expect(edited.version).toBeGreaterThan(firstVersion);
    expect(await written('region_totals')).toEqual(await expected(5));

    const rolledBack = await call('pipelines_rollback', { pipeline: id, version: firstVersion });
    expect(rolledBack.version).toBe(edited.version + 1);
    expect(rolledBack.notDeployed).toBeNull();
    expect(rolledBack.deployment).toMatchObject({ environment: 'prod', version: rolledBack.version });
    expect(rolledBack.deployment.run).toMatchObject({
      status: 'succeeded',
      version: rolledBack.version,
      environment: 'prod',
    });
    expect(await written('region_totals')).toEqual(await expected(0));
    // The answer says what it did.
    const said = pipelineTools.find((t) => t.name === 'pipelines_rollback')!.render(rolledBack as never);
    expect(said).toContain(`Pipeline regional order totals is at version ${rolledBack.version}`);
    expect(said).toContain(
      `Prod restored too, in the same call: Pipeline «regional order totals» version ${rolledBack.version}`,
    );
    expect(said).toMatch(/out wrote \d+ rows to public\.region_totals/);
  });

  it('keeps the due time a schedule change set while its job was running', async () => {
    await call(
      'pipelines_schedule',
      { pipeline: id, cron: '0 3 * * *' },
      at(steward, new Date('2026-12-01T00:00:00Z')),
    );
    const due = new Date('2026-12-01T03:00:30Z');
    let claimed = await claimDueJob(database.db, 'busy', due, 600);
    while (claimed && claimed.key !== `pipeline:${id}:prod`) claimed = await claimDueJob(database.db, 'busy', due, 600);
    expect(claimed).toMatchObject({ kind: 'pipeline', pipelineId: id, schedule: '0 3 * * *', timeZone: 'UTC' });
    await call('pipelines_schedule', { pipeline: id, cron: '0 12 * * *' }, at(steward, due));
    const done = new Date('2026-12-01T03:01:00Z');
    await completeJob(database.db, claimed!, 'busy', done, nextDue(claimed!, done, instance('busy')), null);
    expect(await job('prod')).toMatchObject({ nextRunAt: '2026-12-01T12:00:00Z', lastError: null });
  });
  it('runs a schedule as its deployer as the principal store has it now: one who lost the role or is gone fails, saying to redeploy', async () => {
    await call(
      'pipelines_schedule',
      { pipeline: id, cron: '0 7 * * *' },
      at(steward, new Date('2026-12-02T00:00:00Z')),
    );
    const sam = { id: 'sam', displayName: 'Sam Steward', clearance: 'S' as const };
    const failedRuns = async () => (await scheduledRuns()).filter((r) => r.status === 'failed');
    const before = (await failedRuns()).length;
    try {
      // Sam deployed it; an admin since took the steward role away. The scheduler must not run it for Sam.
      await upsertPrincipal(database.db, { ...sam, roles: ['viewer'] });
      const demoted = await runDueCycle(at(steward, new Date('2026-12-02T07:00:30Z')), instance('a'));
      const refusal =
        /runs as sam, who deployed it, and sam may not run pipeline regional order totals: it needs the steward or owner role.*redeploy it to prod with pipelines_deploy/;
      expect(demoted.failed).toEqual([{ key: `pipeline:${id}:prod`, error: expect.stringMatching(refusal) }]);
      expect((await failedRuns()).slice(before)).toEqual([
        { status: 'failed', environment: 'prod', version: expect.any(Number), error: expect.stringMatching(refusal) },
      ]);
      expect((await job('prod'))!.lastError).toMatch(refusal);

      // Sam's account is then disabled: the next run fails too, saying so.
      await database.db.execute(sql`update principals set disabled = true where id = 'sam'`);
      const gone = await runDueCycle(at(steward, new Date('2026-12-03T07:00:30Z')), instance('a'));
      expect(gone.failed).toEqual([
        {
          key: `pipeline:${id}:prod`,
          error: expect.stringMatching(
            /runs as sam, who deployed it, and sam no longer exists or is disabled.*redeploy/,
          ),
        },
      ]);
    } finally {
      await database.db.execute(sql`update principals set disabled = false where id = 'sam'`);
      await upsertPrincipal(database.db, { ...sam, roles: ['steward'] });
    }
    // With the role back, the schedule runs again as Sam.
    const restored = await runDueCycle(at(steward, new Date('2026-12-04T07:00:30Z')), instance('a'));
    expect(restored.failed).toEqual([]);
    expect((await scheduledRuns()).at(-1)).toMatchObject({ status: 'succeeded', environment: 'prod' });
  });
  it('names the tables source queries read and the uploads in the deploy audit entry, so it is hidden with them', async () => {
    const { id: byQuery } = await call('pipelines_create', { name: 'orders by query' });
    await call('pipelines_add_node', {
      pipeline: byQuery,
      id: 'orders_sql',
      type: 'source_sql',
      config: { source: 'shop', query: 'select region, amount from orders' },
    });
    await call('pipelines_add_node', {
      pipeline: byQuery,
      id: 'out',
      type: 'destination_table',
      after: 'orders_sql',
      config: { table: 'orders_by_query' },
    });
    await call('pipelines_deploy', { pipeline: byQuery, environment: 'dev', runNow: false });
    const { id: byFile } = await call('pipelines_create', { name: 'regions from a file' });
    const upload = await call('pipelines_upload', {
      pipeline: byFile,
      name: 'regions.csv',
      content: 'region,target\neast,10\n',
      classification: 'S',
    });
    await call('pipelines_add_node', {
      pipeline: byFile,
      id: 'targets',
      type: 'source_upload',
      config: { upload: upload.uploadId },
    });
    await call('pipelines_add_node', {
      pipeline: byFile,
      id: 'out',
      type: 'destination_table',
      after: 'targets',
      config: { table: 'region_targets' },
    });
    // A pipeline runs inside a source database: the file goes alongside a table of it.
    await call('pipelines_add_node', {
      pipeline: byFile,
      id: 'orders',
      type: 'source_dataset',
      config: { urn: shop('orders') },
    });
    await call('pipelines_add_node', {
      pipeline: byFile,
      id: 'orders_out',
      type: 'destination_table',
      after: 'orders',
      config: { table: 'orders_beside_targets' },
    });
    await call('pipelines_deploy', { pipeline: byFile, environment: 'dev', runNow: false });

    const admins = async (clearance: 'C' | 'TS') => {
      const reader = await contextAs(database, {
        id: `audit-${clearance}`,
        displayName: `Auditor ${clearance}`,
        clearance,
        roles: ['admin'],
      });
      const entries = await readAuditLog(reader, { limit: 500 });
      return entries.filter((e) => e.action === 'pipeline.deploy').map((e) => e.details.name);
    };
    expect(await admins('TS')).toEqual(expect.arrayContaining(['orders by query', 'regions from a file']));
    // The file is marked S: its deploy is hidden from an administrator cleared C; the orders (U) are not.
    expect(await admins('C')).toContain('orders by query');
    expect(await admins('C')).not.toContain('regions from a file');
    const orders = shop('orders');
    await database.db.execute(sql`update assets set classification = 'S' where urn = ${orders}`);
    try {
      expect(await admins('C')).not.toContain('orders by query');
      expect(await admins('TS')).toContain('orders by query');
    } finally {
      await database.db.execute(sql`update assets set classification = 'U' where urn = ${orders}`);
    }
  });
});
