import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/create-db.js';
import type { Principal, ServiceContext } from '../context.js';
import { lapseExpiredCertifications } from '../governance/certification.js';
import { runScheduledDeployment } from '../pipelines/deploy.js';
import { type Environment, failStalePipelineRuns } from '../pipelines/run.js';
import { type AlertChannel, type DispatchSummary, dispatchAlerts } from '../quality/alerts-dispatch.js';
import { evaluateAlerts } from '../quality/alerts-evaluate.js';
import { runChecks } from '../quality/checks.js';
import { nextCronRun } from '../quality/cron.js';
import { profileAsset } from '../quality/profile.js';

export { nextCronRun };

/**
 * The scheduler runs the jobs of several domains (quality checks and profiles, pipeline runs, certification
 * expiry), so it sits above them rather than inside one. Every table and view of a source whose data can
 * be read gets an `asset` job (checks of its unscheduled rules, a profile, a score, then alerts) on the
 * default cadence, due at once when the asset is new; every enabled rule with a cron `schedule` gets a `rule` job; every
 * pipeline deployment with a schedule gets a `pipeline` job (its cron read in its own time zone). Due times
 * live in `scheduled_jobs`, so a restart neither loses nor repeats work. Any number of server
 * instances may run cycles on one database: a job is claimed with `for update skip locked` and a lease,
 * so it never runs twice at once; a job whose instance died is taken over when its lease expires.
 */

export interface SchedulerOptions {
  /** Names this instance in leases, e.g. `host:pid:random`. */
  instanceId: string;
  /** Hours between an asset's profiles (default 24). */
  profileEveryHours?: number;
  /** IANA time zone rule schedules are read in (default UTC). */
  timeZone?: string;
  /** How long a claimed job is this instance's; a longer run may be taken over (default 15 min). */
  leaseSeconds?: number;
  /** Most jobs one cycle runs (default 500): the rest are due in the next cycle. */
  maxJobs?: number;
  /** Channels that deliver alerts at the end of a cycle. */
  channels?: AlertChannel[];
}

export interface ClaimedJob {
  key: string;
  kind: 'asset' | 'rule' | 'pipeline';
  assetId: string | null;
  ruleId: string | null;
  pipelineId: string | null;
  schedule: string | null;
  /** The zone a pipeline deployment's cron is read in; null: the scheduler's. */
  timeZone: string | null;
  nextRunAt: string;
}

export interface CycleSummary {
  ran: number;
  failed: { key: string; error: string }[];
  alerts: { opened: number; escalated: number; resolved: number };
  /** Certifications past their expiry, lapsed by this cycle. */
  lapsedCertifications: number;
  deliveries: DispatchSummary;
}

export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The principal scheduled work runs as: an administrator cleared for everything and a member of every
 * restricted domain. It never answers a person; what people learn is filtered when alerts fan out. Pipeline
 * jobs are the exception: they write and publish, so they run as whoever deployed them (deploy.ts).
 */
export async function schedulerPrincipal(db: Db): Promise<Principal> {
  const domains = await queryRows<{ id: string }>(db, sql`select id from domains where restricted`);
  return {
    id: 'dataops-scheduler',
    displayName: 'DataOps scheduler',
    clearance: 'TS',
    roles: ['admin'],
    domains: domains.map((d) => d.id),
    groups: [],
  };
}

/**
 * Creates jobs for new assets and scheduled rules, follows changed schedules, drops what left. Pipeline jobs
 * are written by pipelines_deploy and pipelines_schedule with the deployment; here only a job whose
 * deployment lost its schedule (or went) is dropped.
 */
export async function syncJobs(db: Db, now: Date, options: Pick<SchedulerOptions, 'timeZone'> = {}): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`insert into scheduled_jobs (key, kind, asset_id, next_run_at)
      select 'asset:' || a.id, 'asset', a.id, ${now.toISOString()}::timestamptz
      from assets a join sources s on s.id = a.source_id
      where a.status = 'active' and a.kind in ('table', 'view', 'materialized_view') and s.kind in ('postgres', 'mysql')
      on conflict (key) do nothing`);
    await tx.execute(sql`delete from scheduled_jobs j using assets a
      where j.kind = 'asset' and a.id = j.asset_id and a.status <> 'active'`);
    await tx.execute(sql`delete from scheduled_jobs j where j.kind = 'rule' and not exists (
      select 1 from quality_rules r where r.id = j.rule_id and r.enabled and r.schedule is not null)`);
    await tx.execute(sql`delete from scheduled_jobs j where j.kind = 'pipeline' and not exists (
      select 1 from pipeline_deployments d where j.key = 'pipeline:' || d.pipeline_id || ':' || d.environment
        and d.schedule is not null)`);
    const changed = await queryRows<{ id: string; assetId: string; schedule: string }>(
      tx,
      sql`select r.id::text, r.asset_id::text as "assetId", r.schedule from quality_rules r
          left join scheduled_jobs j on j.key = 'rule:' || r.id
          where r.enabled and r.schedule is not null and j.schedule is distinct from r.schedule`,
    );
    for (const rule of changed) {
      const next = nextCronRun(rule.schedule, now, options.timeZone);
      if (!next) continue;
      await tx.execute(sql`insert into scheduled_jobs (key, kind, asset_id, rule_id, schedule, next_run_at)
        values (${`rule:${rule.id}`}, 'rule', ${rule.assetId}, ${rule.id}, ${rule.schedule}, ${next.toISOString()}::timestamptz)
        on conflict (key) do update set schedule = excluded.schedule, next_run_at = excluded.next_run_at`);
    }
  });
}

/** Claims the most overdue job nobody holds, for `leaseSeconds`; null when nothing is due. */
export async function claimDueJob(db: Db, owner: string, now: Date, leaseSeconds: number): Promise<ClaimedJob | null> {
  const [job] = await queryRows<ClaimedJob>(
    db,
    sql`update scheduled_jobs j set lease_owner = ${owner},
          lease_expires_at = ${now.toISOString()}::timestamptz + make_interval(secs => ${leaseSeconds}),
          last_started_at = ${now.toISOString()}::timestamptz
        where j.key = (select key from scheduled_jobs
          where next_run_at <= ${now.toISOString()}::timestamptz
            and (lease_expires_at is null or lease_expires_at <= ${now.toISOString()}::timestamptz)
          order by next_run_at, key limit 1 for update skip locked)
        returning j.key, j.kind, j.asset_id::text as "assetId", j.rule_id::text as "ruleId",
          j.pipeline_id::text as "pipelineId", j.schedule, j.time_zone as "timeZone",
          to_char(j.next_run_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "nextRunAt"`,
  );
  return job ?? null;
}

/**
 * Records the run and the next due time; a job whose lease another instance took over is left to it. A
 * schedule changed while the job ran (pipelines_schedule, a rule's new cron) already set its own due time,
 * which the claimed job's old schedule must not overwrite.
 */
export async function completeJob(
  db: Db,
  job: ClaimedJob,
  owner: string,
  now: Date,
  next: Date,
  error: string | null,
): Promise<void> {
  await db.execute(sql`update scheduled_jobs set
      next_run_at = case when schedule is not distinct from ${job.schedule}
        and time_zone is not distinct from ${job.timeZone ?? null} then ${next.toISOString()}::timestamptz else next_run_at end,
      lease_owner = null, lease_expires_at = null, last_finished_at = ${now.toISOString()}::timestamptz,
      last_error = ${error}, runs = runs + 1
    where key = ${job.key} and lease_owner = ${owner}`);
}

/** The due time after a run: the next cron time, or the next step of the cadence after now (missed steps run once). */
export function nextDue(job: ClaimedJob, now: Date, options: SchedulerOptions): Date {
  if (job.schedule) {
    const zone = job.timeZone ?? options.timeZone;
    return nextCronRun(job.schedule, now, zone) ?? new Date(now.getTime() + 365 * 86_400_000);
  }
  const every = (options.profileEveryHours ?? 24) * 3_600_000;
  const due = new Date(job.nextRunAt).getTime();
  return new Date(due + Math.max(1, Math.ceil((now.getTime() - due + 1) / every)) * every);
}

/** Runs one job's work; returns the alert changes it caused. */
async function runJob(ctx: ServiceContext, job: ClaimedJob) {
  if (job.kind === 'pipeline') {
    // The deployed version, in the environment the key names, run as its deployer (not as this scheduler
    // principal); a failure is thrown to be kept on the job.
    await runScheduledDeployment(ctx, job.pipelineId!, job.key.split(':')[2] as Environment);
    return { opened: 0, escalated: 0, resolved: 0 };
  }
  const assetId = job.assetId!;
  if (job.kind === 'rule') {
    await runChecks(ctx, { assetId, ruleIds: [job.ruleId!] });
  } else {
    const [unscheduled] = await queryRows<{ n: number }>(
      ctx.db,
      sql`select count(*)::int as n from quality_rules where asset_id = ${assetId} and enabled and schedule is null`,
    );
    // Checks first, so the profile's score includes their results.
    if (unscheduled!.n > 0) {
      const ruleIds = await queryRows<{ id: string }>(
        ctx.db,
        sql`select id::text from quality_rules where asset_id = ${assetId} and enabled and schedule is null`,
      );
      await runChecks(ctx, { assetId, ruleIds: ruleIds.map((r) => r.id) });
    }
    await profileAsset(ctx, assetId);
  }
  return evaluateAlerts(ctx.db, assetId, ctx.clock());
}

/** One scheduler cycle, as the scheduler principal: sync jobs, run what is due (one claim at a time), then deliver alerts. */
export async function runDueCycle(context: ServiceContext, options: SchedulerOptions): Promise<CycleSummary> {
  // Looked up each cycle: a restricted domain created since the last one is covered too.
  const ctx = { ...context, principal: await schedulerPrincipal(context.db) };
  const leaseSeconds = options.leaseSeconds ?? 900;
  await syncJobs(ctx.db, ctx.clock(), options);
  // A pipeline run whose process died stays `running` until closed here, well past its time limit.
  await failStalePipelineRuns(ctx.db, ctx.clock());
  const summary: CycleSummary = {
    ran: 0,
    failed: [],
    alerts: { opened: 0, escalated: 0, resolved: 0 },
    lapsedCertifications: 0,
    deliveries: { sent: 0, retrying: 0, failed: 0 },
  };
  for (let i = 0; i < (options.maxJobs ?? 500); i++) {
    const job = await claimDueJob(ctx.db, options.instanceId, ctx.clock(), leaseSeconds);
    if (!job) break;
    let error: string | null = null;
    try {
      const alerts = await runJob(ctx, job);
      summary.alerts.opened += alerts.opened;
      summary.alerts.escalated += alerts.escalated;
      summary.alerts.resolved += alerts.resolved;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      summary.failed.push({ key: job.key, error });
      ctx.logger.warn('scheduled quality job failed', { job: job.key, error });
    }
    summary.ran++;
    const now = ctx.clock();
    await completeJob(ctx.db, job, options.instanceId, now, nextDue(job, now, options), error);
  }
  summary.lapsedCertifications = await lapseExpiredCertifications(ctx.db, ctx.clock());
  summary.deliveries = await dispatchAlerts(ctx.db, options.channels ?? [], { now: ctx.clock() });
  return summary;
}

/**
 * Runs a cycle now and then every `intervalMs` until stopped. `stop()` waits for the running cycle,
 * so the jobs it claimed are completed, not left to lease expiry.
 */
export function startScheduler(
  ctx: ServiceContext,
  options: SchedulerOptions & { intervalMs: number; onCycle?: (summary: CycleSummary) => void },
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const cycle = () => {
    running = runDueCycle(ctx, options)
      .then((summary) => options.onCycle?.(summary))
      .catch((error) => ctx.logger.error('quality scheduler cycle failed', { error: String(error) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(cycle, options.intervalMs);
      });
  };
  cycle();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
