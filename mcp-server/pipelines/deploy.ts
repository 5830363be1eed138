import { and, eq, sql } from 'drizzle-orm';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { type Db, queryRows, type Tx } from '../../db/create-db.js';
import { pipelineDeployments, pipelineRuns } from '../../db/schema/index.js';
import { withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { loadPrincipal } from '../governance/principals.js';
import { canonicalTimeZone, cronProblem, nextCronRun } from '../quality/cron.js';
import type { PipelineAnalysis } from './analysis.js';
import { describeResult, judge, listPipelineTests } from './pipeline-tests.js';
import { checkPublishable } from './publish/publish.js';
import { type Environment, environmentTable, type RunSummary, runPipeline } from './run.js';
import { sourceSqlUrns } from './source-sql.js';
import { datasetUrns, type LoadedPipeline, loadPipeline, rollbackPipeline, type SavedVersion } from './store.js';
import { uploadIds } from './uploads/upload-access.js';
import { analyzePipeline } from './validate.js';
import { cataloguedTables, tablesWrittenBy, takenTableProblem, writtenTables } from './written-tables.js';

/**
 * Deployment: a version that validates and passes the pipeline's tests is recorded as the one an environment
 * runs (prod writes the configured tables), optionally on a cron schedule the quality scheduler follows,
 * and run at once. Production needs at least one test, so nothing reaches it unchecked.
 */

export interface Schedule {
  cron: string;
  timeZone: string;
}

export interface Deployment {
  pipelineId: string;
  name: string;
  environment: Environment;
  version: number;
  semver: string;
  schedule: string | null;
  timeZone: string | null;
  /** When the scheduler runs it next; null without a schedule. */
  nextRunAt: string | null;
  deployedBy: string;
  deployedAt: string;
}

export interface DeployResult extends Deployment {
  tests: { name: string; passed: boolean }[];
  /** The run made right after deploying (runNow), or null. */
  run: RunSummary | null;
}

/** How long a run started by a deploy or the scheduler may take (within the scheduler's 15-minute lease). */
const runTimeoutSeconds = 600;

/** The key of a deployment's job in scheduled_jobs. */
export const pipelineJobKey = (pipelineId: string, environment: Environment) => `pipeline:${pipelineId}:${environment}`;

/** A schedule checked and with its zone spelt the IANA way; throws `invalid_input` saying what to change. */
export function checkSchedule(schedule: Schedule, now: Date): Schedule {
  const timeZone = canonicalTimeZone(schedule.timeZone);
  if (!timeZone) {
    throw new DataOpsError(
      'invalid_input',
      `time zone "${schedule.timeZone}" is not an IANA time zone; name one such as UTC, Europe/Berlin or America/New_York`,
    );
  }
  const problem = cronProblem(schedule.cron, now, timeZone);
  if (problem) throw new DataOpsError('invalid_input', `schedule "${schedule.cron}" ${problem}`);
  return { cron: schedule.cron, timeZone };
}

/**
 * Deploys a version (the current one by default) to an environment: it must validate and pass every pipeline
 * test (prod needs at least one). Recorded in pipeline_deployments and the audit log in one transaction,
 * with the schedule when one is given (a redeploy without one keeps the schedule it had); with `runNow`
 * the version then runs in that environment. Stewards and owners only, as for running.
 */
export async function deployPipeline(
  ctx: ServiceContext,
  ref: string,
  options: { environment: Environment; version?: number; schedule?: Schedule; runNow: boolean; trigger?: string },
): Promise<DeployResult> {
  const pipeline = await loadPipeline(ctx, ref, options.version);
  const { environment } = options;
  requireRole(ctx.principal, `deploy pipeline ${pipeline.name}`, 'steward', 'owner');
  const what = `deploy version ${pipeline.version} (${pipeline.semver}) of pipeline ${pipeline.name} to ${environment}`;
  const analysis = await analyzePipeline(ctx, pipeline.graph);
  if (analysis.issues.length) {
    throw new DataOpsError(
      'invalid_input',
      `cannot ${what}: it does not validate: ${analysis.issues.map((i) => i.message).join('; ')}`,
    );
  }
  const schedule = options.schedule ? checkSchedule(options.schedule, ctx.clock()) : undefined;
  const tests = await listPipelineTests(ctx, pipeline.id);
  if (environment === 'prod' && tests.length === 0) {
    throw new DataOpsError(
      'invalid_input',
      `cannot ${what}: production needs at least one pipeline test. Add one with pipelines_add_test: rows for each ` +
        'source node (inputs) and the rows a node must then produce (expect), then deploy again',
    );
  }
  const own = await tablesWrittenBy(ctx.db, pipeline.id);
  await refuseTakenTables(ctx, analysis, environment, own, what);
  // A prod run publishes its output: one its deployer could not publish is refused before anything is recorded.
  if (environment === 'prod')
    await checkPublishable(ctx, analysis, (config) => environmentTable(config, environment), own);
  const judged = await judge(ctx, pipeline, analysis, tests);
  if (judged.failed > 0) {
    const failures = judged.results.filter((r) => !r.passed).map(describeResult);
    throw new DataOpsError(
      'invalid_input',
      `cannot ${what}: ${judged.failed} of ${judged.results.length} pipeline tests fail; fix the pipeline (or the test ` +
        `with pipelines_add_test) and deploy again:\n${failures.join('\n')}`,
    );
  }
  const deployment = await ctx.db.transaction(async (tx) => {
    const now = ctx.clock();
    await tx
      .insert(pipelineDeployments)
      .values({
        pipelineId: pipeline.id,
        environment,
        version: pipeline.version,
        schedule: schedule?.cron ?? null,
        timeZone: schedule?.timeZone ?? null,
        deployedBy: ctx.principal.id,
        deployedAt: now,
      })
      .onConflictDoUpdate({
        target: [pipelineDeployments.pipelineId, pipelineDeployments.environment],
        set: {
          version: pipeline.version,
          deployedBy: ctx.principal.id,
          deployedAt: now,
          ...(schedule ? { schedule: schedule.cron, timeZone: schedule.timeZone } : {}),
        },
      });
    if (schedule) await scheduleJob(tx, pipeline.id, environment, schedule, now);
    await audit(tx, ctx, pipeline, 'pipeline.deploy', {
      environment,
      version: pipeline.version,
      semver: pipeline.semver,
      ...(schedule ? { schedule: schedule.cron, timeZone: schedule.timeZone } : {}),
      tests: judged.results.length,
    });
    return readDeployment(tx, pipeline, environment);
  });
  const run = options.runNow
    ? await runPipeline(ctx, pipeline.id, {
        trigger: options.trigger ?? 'deploy',
        environment,
        version: pipeline.version,
        timeoutSeconds: runTimeoutSeconds,
        nodeStats: true,
        // Production output is what the catalog lists as the pipeline's data product.
        publish: environment === 'prod',
      })
    : null;
  return { ...deployment!, tests: judged.results.map((r) => ({ name: r.name, passed: r.passed })), run };
}

/**
 * Refuses a deploy whose runs would be refused for writing a table that is taken (written-tables.ts), before
 * anything is recorded; each run checks again, as the source database may change in between.
 */
async function refuseTakenTables(
  ctx: ServiceContext,
  analysis: PipelineAnalysis,
  environment: Environment,
  own: Set<string>,
  what: string,
): Promise<void> {
  const tables = writtenTables(analysis, (placed) => environmentTable(placed, environment));
  const catalogued = await cataloguedTables(ctx.db, analysis.sourceId!, tables);
  const problems = await withSourceReader(ctx, analysis.sourceId!, async (reader) => {
    const found: string[] = [];
    for (const table of tables) {
      const problem = await takenTableProblem(reader, table, own, catalogued);
      if (problem) found.push(problem);
    }
    return found;
  });
  if (problems.length) throw new DataOpsError('invalid_input', `cannot ${what}: ${problems.join('; ')}`);
}

/**
 * Sets or clears the schedule of a deployment. The job's due time is worked out now, in the schedule's own
 * zone, and kept in scheduled_jobs, so a restart neither loses nor repeats a run.
 */
export async function schedulePipeline(
  ctx: ServiceContext,
  ref: string,
  options: { environment: Environment; schedule: Schedule | null },
): Promise<Deployment> {
  const pipeline = await loadPipeline(ctx, ref);
  requireRole(ctx.principal, `schedule pipeline ${pipeline.name}`, 'steward', 'owner');
  const schedule = options.schedule ? checkSchedule(options.schedule, ctx.clock()) : null;
  return ctx.db.transaction(async (tx) => {
    const changed = await tx
      .update(pipelineDeployments)
      .set({ schedule: schedule?.cron ?? null, timeZone: schedule?.timeZone ?? null })
      .where(
        and(eq(pipelineDeployments.pipelineId, pipeline.id), eq(pipelineDeployments.environment, options.environment)),
      )
      .returning({ version: pipelineDeployments.version });
    if (changed.length === 0) {
      throw new DataOpsError(
        'invalid_input',
        `pipeline ${pipeline.name} is not deployed to ${options.environment}: deploy it first with pipelines_deploy ` +
          '(it takes a schedule too)',
      );
    }
    if (schedule) await scheduleJob(tx, pipeline.id, options.environment, schedule, ctx.clock());
    else
      await tx.execute(sql`delete from scheduled_jobs where key = ${pipelineJobKey(pipeline.id, options.environment)}`);
    await audit(tx, ctx, pipeline, 'pipeline.schedule', {
      environment: options.environment,
      schedule: schedule?.cron ?? null,
      timeZone: schedule?.timeZone ?? null,
    });
    return (await readDeployment(tx, pipeline, options.environment))!;
  });
}

/**
 * Creates or updates the scheduler's job for a deployment. Its due time moves only when the schedule or
 * zone changed: redeploying a new version on the same schedule keeps the run that was due.
 */
async function scheduleJob(tx: Tx, pipelineId: string, environment: Environment, schedule: Schedule, now: Date) {
  const next = nextCronRun(schedule.cron, now, schedule.timeZone)!;
  await tx.execute(sql`insert into scheduled_jobs (key, kind, pipeline_id, schedule, time_zone, next_run_at)
    values (${pipelineJobKey(pipelineId, environment)}, 'pipeline', ${pipelineId}, ${schedule.cron},
      ${schedule.timeZone}, ${next.toISOString()}::timestamptz)
    on conflict (key) do update set schedule = excluded.schedule, time_zone = excluded.time_zone,
      next_run_at = excluded.next_run_at
    where scheduled_jobs.schedule is distinct from excluded.schedule
      or scheduled_jobs.time_zone is distinct from excluded.time_zone`);
}

/** Every deploy and schedule change in the audit log: the history of what ran where, and who put it there. */
async function audit(
  tx: Tx,
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  // Everything the pipeline reads is named (datasets, the tables its source queries read, its uploads), so that
  // a reader who may not see one of them does not see the entry either.
  const datasets = [...new Set([...datasetUrns(pipeline.graph), ...(await sourceSqlUrns(pipeline.graph))])];
  // Named `upload:<id>` as the audit log's reader looks them up.
  const uploads = uploadIds(pipeline.graph).map((id) => `upload:${id}`);
  await appendAudit(tx, {
    actorId: ctx.principal.id,
    action,
    targetUrn: null,
    details: { pipeline: pipeline.id, name: pipeline.name, datasets, uploads, ...details },
    at: ctx.clock(),
  });
}

async function readDeployment(
  tx: Db | Tx,
  pipeline: LoadedPipeline,
  environment: Environment,
): Promise<Deployment | undefined> {
  const [row] = await queryRows<{
    version: number;
    semver: string;
    schedule: string | null;
    timeZone: string | null;
    deployedBy: string;
    deployedAt: Date | string;
    nextRunAt: string | null;
  }>(
    tx,
    sql`select d.version, v.semver, d.schedule, d.time_zone as "timeZone", d.deployed_by as "deployedBy",
          d.deployed_at as "deployedAt",
          to_char(j.next_run_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "nextRunAt"
        from pipeline_deployments d
        join pipeline_versions v on v.pipeline_id = d.pipeline_id and v.version = d.version
        left join scheduled_jobs j on j.key = ${pipelineJobKey(pipeline.id, environment)}
        where d.pipeline_id = ${pipeline.id} and d.environment = ${environment}`,
  );
  if (!row) return undefined;
  return {
    pipelineId: pipeline.id,
    name: pipeline.name,
    environment,
    version: row.version,
    semver: row.semver,
    schedule: row.schedule,
    timeZone: row.timeZone,
    nextRunAt: row.schedule ? row.nextRunAt : null,
    deployedBy: row.deployedBy,
    deployedAt: new Date(row.deployedAt).toISOString(),
  };
}

/** The deployments of a pipeline already loaded for the caller (so one it may not see never gets here), prod first. */
export async function listDeployments(ctx: ServiceContext, pipeline: LoadedPipeline): Promise<Deployment[]> {
  const found: Deployment[] = [];
  for (const environment of ['prod', 'dev'] as const) {
    const deployment = await readDeployment(ctx.db, pipeline, environment);
    if (deployment) found.push(deployment);
  }
  return found;
}

/**
 * The scheduler's run of a deployment: the deployed version in its environment, with trigger `schedule`, run
 * as the principal who deployed it, read again from the principal store, so a scheduled run may do no more
 * than its deployer may now (roles, clearance and domains as they are today, not as they were at the deploy).
 * A failure is recorded on the run (a run refused before it started is recorded as a failed run too) and
 * thrown, so the job records it as well.
 */
export async function runScheduledDeployment(
  scheduler: ServiceContext,
  pipelineId: string,
  environment: Environment,
): Promise<RunSummary> {
  const [deployment] = await scheduler.db
    .select({ version: pipelineDeployments.version, deployedBy: pipelineDeployments.deployedBy })
    .from(pipelineDeployments)
    .where(and(eq(pipelineDeployments.pipelineId, pipelineId), eq(pipelineDeployments.environment, environment)));
  if (!deployment)
    throw new DataOpsError('not_found', `pipeline ${pipelineId} is no longer deployed to ${environment}`);
  let run: RunSummary;
  try {
    const ctx = { ...scheduler, principal: await deployerOf(scheduler, deployment.deployedBy) };
    run = await runPipeline(ctx, pipelineId, {
      trigger: 'schedule',
      environment,
      version: deployment.version,
      timeoutSeconds: runTimeoutSeconds,
      nodeStats: true,
      publish: environment === 'prod',
    });
  } catch (error) {
    if (!isDataOpsError(error)) throw error;
    const refusal = refusedAsDeployer(error, deployment.deployedBy, environment);
    // Refused before a run began (the deployer's rights or the catalog changed since): still a run that failed.
    const now = scheduler.clock();
    await scheduler.db.insert(pipelineRuns).values({
      pipelineId,
      version: deployment.version,
      status: 'failed',
      trigger: 'schedule',
      environment,
      error: refusal.message,
      stats: { nodes: {}, destinations: {}, totalMs: 0 },
      startedAt: now,
      finishedAt: now,
    });
    throw refusal;
  }
  if (run.status === 'failed') {
    throw new DataOpsError(
      'invalid_input',
      `run ${run.runId} of pipeline ${pipelineId} failed${run.stats.failedNode ? ` at node \`${run.stats.failedNode}\`` : ''}: ${run.error}`,
    );
  }
  return run;
}

/** The deployer as the principal store has it now; one removed or disabled runs nothing. */
async function deployerOf(ctx: ServiceContext, deployedBy: string) {
  try {
    return await loadPrincipal(ctx.db, deployedBy);
  } catch (error) {
    if (!isDataOpsError(error)) throw error;
    throw new DataOpsError('forbidden', `${deployedBy} no longer exists or is disabled`);
  }
}

/**
 * A refusal of a scheduled run worded for whoever reads the run or the job: who it ran as, and that a
 * redeploy by someone who may run the pipeline makes the schedule work again. Refusals about the
 * deployer's rights (its role, clearance or domains, which also make a pipeline it can no longer see
 * "not found") say so; other problems keep their own wording.
 */
function refusedAsDeployer(error: DataOpsError, deployedBy: string, environment: Environment): DataOpsError {
  if (!['forbidden', 'not_found', 'unauthenticated'].includes(error.code)) return error;
  return new DataOpsError(
    error.code,
    `the scheduled run was refused: it runs as ${deployedBy}, who deployed it, and ${error.message}. ` +
      `If ${deployedBy} may no longer run this pipeline, redeploy it to ${environment} with pipelines_deploy as a steward or owner who may`,
  );
}

export interface RollbackResult extends SavedVersion {
  /** The deploy of the rolled-back version to prod (with its run), when the pipeline was in prod. */
  deployment: DeployResult | null;
  /** Why the rolled-back version was saved but not deployed to prod, when it was refused. */
  notDeployed: string | null;
}

/**
 * Rolls back: the old graph becomes a new version, and when the pipeline is deployed to prod that version is
 * deployed there and run (its tests run as for any deploy), so the prod tables hold the old version's output
 * again. A deploy refused (a failing test) leaves the new version saved and says why.
 */
export async function rollbackAndRedeploy(ctx: ServiceContext, ref: string, version: number): Promise<RollbackResult> {
  const saved = await rollbackPipeline(ctx, ref, version);
  const [inProd] = await ctx.db
    .select({ version: pipelineDeployments.version })
    .from(pipelineDeployments)
    .where(and(eq(pipelineDeployments.pipelineId, saved.id), eq(pipelineDeployments.environment, 'prod')));
  if (!inProd) return { ...saved, deployment: null, notDeployed: null };
  try {
    const deployment = await deployPipeline(ctx, saved.id, {
      environment: 'prod',
      version: saved.version,
      runNow: true,
      trigger: 'rollback',
    });
    return { ...saved, deployment, notDeployed: null };
  } catch (error) {
    if (!isDataOpsError(error)) throw error;
    return { ...saved, deployment: null, notDeployed: error.message };
  }
}
