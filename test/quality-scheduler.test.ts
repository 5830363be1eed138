import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Database, queryRows } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { createRule } from '../mcp-server/quality/rules.js';
import {
  claimDueJob,
  nextCronRun,
  runDueCycle,
  type SchedulerOptions,
  schedulerPrincipal,
} from '../mcp-server/scheduler/scheduler.js';
import { createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

const hour = 3_600_000;
const start = new Date('2026-11-23T09:00:00Z'); // a Monday, 09:00 UTC

describe('the quality scheduler', () => {
  let database: Database;
  let admin: ServiceContext;
  let source: Awaited<ReturnType<typeof createScratchDatabase>>;
  let system: ServiceContext;
  const at = (time: Date): ServiceContext => ({ ...system, clock: () => time });
  const instance = (id: string): SchedulerOptions => ({ instanceId: id, profileEveryHours: 24, leaseSeconds: 600 });
  const jobs = () =>
    queryRows<{ key: string; nextRunAt: Date; runs: number; lastError: string | null; leaseOwner: string | null }>(
      database.db,
      sql`select key, next_run_at as "nextRunAt", runs, last_error as "lastError", lease_owner as "leaseOwner"
          from scheduled_jobs order by key`,
    );

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    source = await createScratchDatabase(serverUrl, 'dataops_src_sched');
    const s = postgres(source.url, { max: 1, onnotice: () => {} });
    await s.unsafe(`
      create table depots (depot_id int primary key, name text not null);
      insert into depots select g, 'depot ' || g from generate_series(1, 20) g;
      create table shipments (shipment_id int primary key, depot_id int references depots, weight numeric);
      insert into shipments select g, 1 + g % 20, case when g % 10 = 0 then null else g * 1.5 end from generate_series(1, 500) g;
      create view heavy_shipments as select * from shipments where weight > 100;`);
    await s.end();
    await syncSource(admin, await createPostgresConnector({ url: source.url, name: 'ops' }).discover(), {
      connection: source.url,
    });
    await createRule(admin, 'urn:dataops:postgres:ops:public.shipments', {
      name: 'weight present',
      type: 'not_null',
      column: 'weight',
      severity: 'critical',
      schedule: '0 6 * * *',
    });
    system = { ...admin, principal: await schedulerPrincipal(database.db) };
  });
  afterAll(async () => {
    await database.close();
    await source.drop();
  });

  it('profiles and scores every table and view in the first cycle, and runs nothing twice', async () => {
    const first = await runDueCycle(at(start), instance('a'));
    expect(first).toMatchObject({ ran: 3, failed: [] });
    const covered = await queryRows<{ name: string; profiles: number; scores: number }>(
      database.db,
      sql`select a.name, (select count(*)::int from profiles p where p.asset_id = a.id) as profiles,
            (select count(*)::int from quality_scores q where q.asset_id = a.id) as scores
          from assets a where a.kind in ('table', 'view') order by a.name`,
    );
    expect(covered).toEqual([
      { name: 'depots', profiles: 1, scores: expect.any(Number) },
      { name: 'heavy_shipments', profiles: 1, scores: expect.any(Number) },
      { name: 'shipments', profiles: 1, scores: expect.any(Number) },
    ]);
    expect(covered.every((c) => c.scores >= 1)).toBe(true);
    const due = await jobs();
    expect(due.map((j) => j.key.split(':')[0])).toEqual(['asset', 'asset', 'asset', 'rule']);
    const assetJobs = due.filter((j) => j.key.startsWith('asset:'));
    expect(assetJobs.map((j) => [new Date(j.nextRunAt).toISOString(), j.runs])).toEqual(
      Array(3).fill([new Date(start.getTime() + 24 * hour).toISOString(), 1]),
    );
    // The rule is due at its own cron time, 06:00 the next morning.
    expect(new Date(due.find((j) => j.key.startsWith('rule:'))!.nextRunAt).toISOString()).toBe(
      '2026-11-24T06:00:00.000Z',
    );

    // Another cycle an hour later, and a restarted instance, find nothing due.
    expect(await runDueCycle(at(new Date(start.getTime() + hour)), instance('a'))).toMatchObject({ ran: 0 });
    expect(await runDueCycle(at(new Date(start.getTime() + 2 * hour)), instance('b-after-restart'))).toMatchObject({
      ran: 0,
    });
  });

  it('runs a scheduled rule at its cron time and opens an alert when a critical rule fails', async () => {
    const summary = await runDueCycle(at(new Date('2026-11-24T06:00:30Z')), instance('a'));
    expect(summary).toMatchObject({ ran: 1, failed: [], alerts: { opened: 1 } });
    const [result] = await queryRows<{ passed: boolean; failedRows: number }>(
      database.db,
      sql`select passed, failed_rows as "failedRows" from quality_results r join quality_rules q on q.id = r.rule_id
          where q.name = 'weight present'`,
    );
    expect(result).toEqual({ passed: false, failedRows: 50 });
    const [alert] = await queryRows<{ kind: string; severity: string; title: string }>(
      database.db,
      sql`select kind, severity, title from alerts`,
    );
    expect(alert).toMatchObject({ kind: 'rule', severity: 'critical' });
    expect(alert!.title).toContain('weight present');
    expect(new Date((await jobs()).find((j) => j.key.startsWith('rule:'))!.nextRunAt).toISOString()).toBe(
      '2026-11-25T06:00:00.000Z',
    );
  });

  it('after days down, runs each missed job once and keeps its time of day', async () => {
    const summary = await runDueCycle(at(new Date(start.getTime() + 72 * hour + 5 * 60_000)), instance('a'));
    expect(summary.ran).toBe(4);
    const assetJobs = (await jobs()).filter((j) => j.key.startsWith('asset:'));
    expect(assetJobs.map((j) => new Date(j.nextRunAt).toISOString())).toEqual(
      Array(3).fill(new Date(start.getTime() + 96 * hour).toISOString()),
    );
    expect(assetJobs.every((j) => j.runs === 2)).toBe(true);
  });

  it('a job claimed by an instance that died is taken over when its lease expires, not before', async () => {
    const due = new Date(start.getTime() + 96 * hour);
    const claimed = await claimDueJob(database.db, 'crashed', due, 600);
    expect(claimed).not.toBeNull();
    const others: string[] = [];
    for (
      let job = await claimDueJob(database.db, 'b', due, 600);
      job;
      job = await claimDueJob(database.db, 'b', due, 600)
    ) {
      others.push(job.key);
    }
    // Three asset jobs and the rule (due at 06:00 that day) are due; the crashed instance holds one.
    expect(others).toHaveLength(3);
    expect(others).not.toContain(claimed!.key);
    const taken = await claimDueJob(database.db, 'b', new Date(due.getTime() + 601_000), 600);
    expect(taken?.key).toBe(claimed!.key);
  });

  it('reads rule schedules in the configured time zone', () => {
    const after = new Date('2026-11-24T12:00:00Z');
    expect(nextCronRun('0 6 * * *', after, 'America/New_York')?.toISOString()).toBe('2026-11-25T11:00:00.000Z');
    expect(nextCronRun('0 6 * * *', after)?.toISOString()).toBe('2026-11-25T06:00:00.000Z');
  });
});

describe.skipIf(!process.env.DATAOPS_TEST_DATABASE_URL)('two scheduler instances on one server database', () => {
  it('claim disjoint jobs when they race for the same due work', async () => {
    const catalog = await createScratchDatabase(serverUrl, 'dataops_sched_race');
    const [one, two] = [await createDb({ target: catalog.url }), await createDb({ target: catalog.url })];
    try {
      await one.db.execute(sql`insert into sources (id, kind, name, location)
        values ('00000000-0000-4000-8000-000000000001', 'postgres', 'race', 'postgres://x/race')`);
      await one.db.execute(sql`insert into assets (urn, source_id, kind, name, qualified_name)
        select 'urn:race:' || g, '00000000-0000-4000-8000-000000000001', 'table', 't' || g, 'public.t' || g
        from generate_series(1, 60) g`);
      const now = new Date('2026-11-23T09:00:00Z');
      await one.db.execute(sql`insert into scheduled_jobs (key, kind, asset_id, next_run_at)
        select 'asset:' || id, 'asset', id, ${now.toISOString()}::timestamptz - interval '1 hour' from assets`);
      const drain = async (db: Database['db'], owner: string) => {
        const mine: string[] = [];
        for (let job = await claimDueJob(db, owner, now, 600); job; job = await claimDueJob(db, owner, now, 600)) {
          mine.push(job.key);
        }
        return mine;
      };
      const [a, b] = await Promise.all([drain(one.db, 'instance-a'), drain(two.db, 'instance-b')]);
      expect(a.length + b.length).toBe(60);
      expect(new Set([...a, ...b]).size).toBe(60);
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      const owners = await queryRows<{ owner: string; n: number }>(
        one.db,
        sql`select lease_owner as owner, count(*)::int as n from scheduled_jobs group by 1 order by 1`,
      );
      expect(owners).toEqual([
        { owner: 'instance-a', n: a.length },
        { owner: 'instance-b', n: b.length },
      ]);
    } finally {
      await one.close();
      await two.close();
      await catalog.drop();
    }
  });
});
