import { createHmac } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { type Db, queryRows } from '../../db/create-db.js';
import { pipelineRuns } from '../../db/schema/index.js';
import { type SourceTransaction, withSourceReader, withSourceWriter } from '../connectors/source-reader.js';
import type { Principal, ServiceContext } from '../context.js';
import { hasRole, requireRole } from '../governance/access.js';
import { type MaskingColumn, maskingPlan, maskingSalt, maskRows } from '../governance/masking.js';
import type { AnalyzedNode, PipelineAnalysis } from './analysis.js';
import { compileNode, compileQuarantinedRows, compileRuleFailures, quarantineColumns } from './compile.js';
import { type CompileOptions, postgresDialect } from './dialect.js';
import {
  commitFiles,
  discardFiles,
  environmentFile,
  requireOwnFile,
  type StagedFile,
  stageFile,
} from './file-output.js';
import { higher } from './governance-nodes.js';
import { devTableName, suffixedIdentifier } from './identifiers.js';
import { runningProcess } from './interrupted-runs.js';
import type { NodeConfig } from './nodes/index.js';
import type { PipelineIssue } from './nodes/node-module.js';
import { describeRule } from './nodes/validate-rules.js';
import { type NodeProfile, profileNodeRows } from './profile-node.js';
import { checkPublishable, type PublishedOutput, publishRun } from './publish/publish.js';
import { deployedVersion, loadPipeline } from './store.js';
import { analyzePipeline } from './validate.js';
import {
  cataloguedTables,
  tablesWrittenBy,
  takenTableProblem,
  type WrittenTable,
  writtenTables,
} from './written-tables.js';

const q = postgresDialect.quote;

/** Where a run writes: `prod` the destination tables as configured, `dev` the same names suffixed `_dev`. */
export const environments = ['dev', 'prod'] as const;
export type Environment = (typeof environments)[number];

/**
 * The table a destination node writes in an environment. A dev table sits beside the prod one (same schema,
 * `_dev` suffix), cut so the name stays within Postgres's 63 bytes instead of being truncated silently.
 */
export function environmentTable(
  config: Pick<NodeConfig<'destination_table'>, 'schema' | 'table'>,
  environment: Environment,
): { schema: string; table: string } {
  return environment === 'prod'
    ? { schema: config.schema, table: config.table }
    : { schema: config.schema, table: devTableName(config.table) };
}

/** The salt a pipeline's hash masks use: derived from the workspace's, so the workspace salt never reaches a source. */
export async function compileOptions(ctx: ServiceContext, pipelineId: string): Promise<CompileOptions> {
  const salt = createHmac('sha256', await maskingSalt(ctx.db))
    .update(`pipeline:${pipelineId}`)
    .digest('hex');
  return { dialect: postgresDialect, salt };
}

/** Refuses `what` while any of `issues` stands, listing them all so they can be fixed in one go. */
function refuseWhile(issues: PipelineIssue[], what: string): void {
  if (issues.length)
    throw new DataOpsError('invalid_input', `cannot ${what}: ${issues.map((i) => i.message).join('; ')}`);
}

/** JSON-safe values for a tool answer: dates as ISO text, big integers as text. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

/**
 * How long one statement of a preview or a pipeline test may run on the source: a limit on the rows shown does
 * not bound the work behind them (an aggregate over a huge table, a runaway join), so the database cancels it.
 */
export const pipelineReadTimeoutSeconds = 60;

/**
 * Sample rows and the schema at any node, read through the source's connection (read-only) and masked for
 * the caller by the catalog's policy. Only the node and what is upstream of it need to be sound.
 */
export async function previewPipeline(
  ctx: ServiceContext,
  id: string,
  nodeId: string,
  limit: number,
  timeoutSeconds = pipelineReadTimeoutSeconds,
) {
  const pipeline = await loadPipeline(ctx, id);
  const analysis = await analyzePipeline(ctx, pipeline.graph);
  if (!pipeline.graph.nodes.some((n) => n.id === nodeId)) {
    throw new DataOpsError('invalid_input', `pipeline ${pipeline.name} has no node \`${nodeId}\``);
  }
  // Only what feeds the node matters: a pipeline still being built (no destination yet) can be previewed.
  const upstream = new Set(ancestorsInGraph(pipeline.graph.edges, nodeId));
  refuseWhile(
    analysis.issues.filter((i) => i.nodeId !== null && upstream.has(i.nodeId) && !analysis.unfinished.has(i)),
    `preview node \`${nodeId}\``,
  );
  const node = analysis.nodes.get(nodeId);
  if (!node || !analysis.sourceId) refuseWhile(analysis.issues, `preview node \`${nodeId}\``);
  const compiled = compileNode(analysis, nodeId, await compileOptions(ctx, pipeline.id), (quoted, columns) => {
    return `select ${columns} from ${quoted} ${postgresDialect.limit(limit)}`;
  });
  const timeout = { seconds: timeoutSeconds, what: `the preview of node \`${nodeId}\`` };
  const rows = await withSourceReader(ctx, analysis.sourceId!, (reader) => reader.query(compiled), timeout).catch(
    (error: unknown) => {
      if (isDataOpsError(error)) throw error;
      // Validation passed but the database refused the data (a type mismatch, a division by zero): say where.
      throw new DataOpsError('invalid_input', `previewing node \`${nodeId}\` failed: ${(error as Error).message}`, {
        cause: error,
      });
    },
  );
  const masked = await maskRows(ctx, node!.columns, rows.map(plain));
  const types = new Map(node!.columns.map((c) => [c.name, c.type]));
  return {
    nodeId,
    columns: masked.columns.map((c) => ({ name: c.name, type: types.get(c.name)!, treatment: c.treatment })),
    rows: masked.rows,
  };
}

function ancestorsInGraph(edges: { source: string; target: string }[], nodeId: string): string[] {
  const found = new Set<string>([nodeId]);
  const stack = [nodeId];
  while (stack.length) {
    const id = stack.pop()!;
    for (const e of edges) {
      if (e.target === id && !found.has(e.source)) {
        found.add(e.source);
        stack.push(e.source);
      }
    }
  }
  return [...found];
}

/** A failure inside a run, tied to the node whose step failed. */
class StepFailure extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
    readonly sqlstate: string | null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface RunStats {
  nodes: Record<string, { rows: number; ms: number }>;
  destinations: Record<string, { table: string; mode: string; rows: number; ms: number }>;
  quarantined?: Record<string, { rule: string; rows: number }[]>;
  /** Where each quarantining node appended the rows it left out. */
  quarantineTables?: Record<string, string>;
  /** What each profile node saw: rows, and per column nulls, distinct values, least and greatest. */
  profiles?: Record<string, NodeProfile>;
  /**
   * Each profile node's columns with their markings and sensitivity, kept so the least and greatest values
   * are shown to a reader only as the masking policy allows (never itself shown: see runStatsFor).
   */
  profileMarkings?: Record<string, MaskingColumn[]>;
  /** The run's time limit: a run still `running` well past it was cut off (see failStalePipelineRuns). */
  timeoutSeconds?: number;
  /** Set on a run closed as failed because the process running it ended before it finished. */
  abandoned?: boolean;
  /** Set when that was found at the next start (failInterruptedRuns), not after the time limit. */
  interrupted?: boolean;
  /** The host and pid of the process running it, so a later start can tell it is gone. */
  process?: { host: string; pid: number };
  /** Files written by file destinations, relative to the exports directory. */
  files?: Record<string, { path: string; format: string; rows: number; ms: number }>;
  failedNode?: string;
  sqlstate?: string | null;
  failures?: { rule: string; rows: number }[];
  /** The data products a publishing run registered in the catalog. */
  published?: PublishedOutput[];
  totalMs: number;
}

export interface RunSummary {
  runId: string;
  pipelineId: string;
  version: number;
  environment: Environment;
  status: 'succeeded' | 'failed';
  error: string | null;
  stats: RunStats;
}

export interface RunOptions {
  trigger: string;
  timeoutSeconds: number;
  nodeStats: boolean;
  /** Where the outputs go (default dev). */
  environment?: Environment;
  /** The version to run: by default the current one in dev, the deployed one in prod. */
  version?: number;
  /**
   * After a successful run, register each destination's table in the catalog as a data product (publish.ts).
   * A prod run always publishes, so the catalog never describes a prod table the run has just rewritten as it was.
   */
  publish?: boolean;
}

/**
 * Runs a version where the data lives, in one transaction on the source database: each node's
 * rows are counted and timed in dependency order, unless `nodeStats` is off (validate nodes check their rules
 * here either way, before anything is written), then every destination is written, in the tables of the
 * run's environment, and its rows counted. A replaced table is built under a new name and swapped in, so
 * readers see the old output until the new one is complete, and a failure leaves it as it was. The run, its
 * environment, per-node stats and, on failure, the node that failed and why are kept in pipeline_runs.
 */
export async function runPipeline(ctx: ServiceContext, id: string, options: RunOptions): Promise<RunSummary> {
  const environment = options.environment ?? 'dev';
  const current = await loadPipeline(ctx, id);
  requireRole(ctx.principal, `run pipeline ${current.name}`, 'steward', 'owner');
  let version = options.version;
  if (version === undefined && environment === 'prod') {
    // Production only ever runs what a deploy put there (tests passed), never an edit saved since.
    const deployed = await deployedVersion(ctx, current.id, 'prod');
    if (deployed === null) {
      throw new DataOpsError(
        'invalid_input',
        `pipeline ${current.name} has no version in prod yet: deploy it first with pipelines_deploy`,
      );
    }
    version = deployed;
  }
  const pipeline =
    version === undefined || version === current.version ? current : await loadPipeline(ctx, id, version);
  const analysis = await analyzePipeline(ctx, pipeline.graph);
  refuseWhile(analysis.issues, `run pipeline ${pipeline.name}`);
  const compile = await compileOptions(ctx, pipeline.id);
  // A run of this pipeline and environment whose process died is closed first, so it does not look in progress.
  await failStalePipelineRuns(ctx.db, ctx.clock(), { pipelineId: pipeline.id, environment });
  // The tables it may write beyond new ones; a name the catalog holds is taken even where the table is gone.
  const guard = {
    own: await tablesWrittenBy(ctx.db, pipeline.id),
    catalogued: await cataloguedTables(
      ctx.db,
      analysis.sourceId!,
      writtenTables(analysis, (placed) => environmentTable(placed, environment)),
    ),
  };
  const tableOf = (config: NodeConfig<'destination_table'>) => environmentTable(config, environment);
  const publish = environment === 'prod' || options.publish === true;
  if (publish) await checkPublishable(ctx, analysis, tableOf, guard.own);
  const [run] = await ctx.db
    .insert(pipelineRuns)
    .values({
      pipelineId: pipeline.id,
      version: pipeline.version,
      status: 'running',
      trigger: options.trigger,
      environment,
      stats: { timeoutSeconds: options.timeoutSeconds, process: runningProcess() },
      startedAt: ctx.clock(),
    })
    .returning({ id: pipelineRuns.id });
  const stats: RunStats = { nodes: {}, destinations: {}, totalMs: 0, timeoutSeconds: options.timeoutSeconds };
  const started = performance.now();
  let error: string | null = null;
  const staged: StagedFile[] = [];
  try {
    await withSourceWriter(ctx, analysis.sourceId!, async (writer) => {
      await holdRunLock(writer, pipeline.id, environment);
      const tx = withDeadline(writer, started + options.timeoutSeconds * 1000, options.timeoutSeconds);
      for (const [nodeId, node] of analysis.nodes) {
        if (options.nodeStats) {
          const step = performance.now();
          const [counted] = await inStep(nodeId, () =>
            tx.query<{ n: string | number }>(
              compileNode(analysis, nodeId, compile, (quoted) => `select count(*) as n from ${quoted}`),
            ),
          );
          stats.nodes[nodeId] = { rows: Number(counted!.n), ms: Math.round(performance.now() - step) };
        }
        if (node.type === 'validate') {
          await checkRules(tx, analysis, nodeId, compile, stats, { runId: run!.id, environment, guard });
        }
        if (node.type === 'profile') {
          const profile = await inStep(nodeId, () => profileNodeRows(tx, analysis, nodeId, compile));
          stats.profiles = { ...stats.profiles, [nodeId]: profile };
          stats.profileMarkings = { ...stats.profileMarkings, [nodeId]: profileMarkings(node) };
        }
      }
      for (const [nodeId, node] of analysis.nodes) {
        if (node.type !== 'destination_file') continue;
        const step = performance.now();
        const config = node.config as NodeConfig<'destination_file'>;
        const file = environmentFile(config.path, environment);
        if (!ctx.exportsDir) {
          throw new StepFailure(
            nodeId,
            `node \`${nodeId}\` (destination_file) has nowhere to write: this workspace keeps no exports directory; run the pipeline through the dataops CLI or server, which keep one under the data directory`,
            null,
          );
        }
        const dir = ctx.exportsDir;
        await requireOwnFile(ctx, pipeline.id, file).catch((refusal: Error) => {
          throw new StepFailure(
            nodeId,
            `node \`${nodeId}\` (destination_file) may not write ${file}: ${refusal.message}`,
            null,
          );
        });
        // All rows are read into memory: file destinations are meant for extracts, not for tables of millions.
        const rows = await inStep(nodeId, () => tx.query(compileNode(analysis, nodeId, compile)));
        const written = await stageFile(dir, file, config.format, node.columns, rows).catch((failure: Error) => {
          // A file system error (a full disk, no permission) is the node's failure, not a database one.
          throw new StepFailure(
            nodeId,
            `node \`${nodeId}\` (destination_file) could not write ${file}: ${failure.message}`,
            null,
          );
        });
        staged.push(written);
        stats.files = {
          ...stats.files,
          [nodeId]: { path: file, format: config.format, rows: rows.length, ms: Math.round(performance.now() - step) },
        };
      }
      for (const [nodeId, node] of analysis.nodes) {
        if (node.type !== 'destination_table') continue;
        const step = performance.now();
        const config = node.config as NodeConfig<'destination_table'>;
        const target = environmentTable(config, environment);
        await refuseForeignTable(tx, guard, { nodeId, ...target, use: `${config.mode} table` });
        const rows = await inStep(nodeId, () => writeDestination(tx, analysis, nodeId, compile, target));
        stats.destinations[nodeId] = {
          table: `${target.schema}.${target.table}`,
          mode: config.mode,
          rows,
          ms: Math.round(performance.now() - step),
        };
      }
    });
    // Files go in place only once the tables are committed: a failed run changes neither.
    await commitFiles(staged);
  } catch (failure) {
    await discardFiles(staged);
    if (failure instanceof StepFailure) {
      error = failure.message;
      stats.failedNode = failure.nodeId;
      stats.sqlstate = failure.sqlstate;
      Object.assign(stats, failure.details);
    } else {
      // A connection that could not be opened, or a fault of our own: the run still ends as failed, not running.
      error = failure instanceof Error ? failure.message : String(failure);
      // A run refused because another holds the pipeline's lock is explained as Postgres's lock_not_available.
      stats.sqlstate = isDataOpsError(failure) && failure.code === 'conflict' ? '55P03' : null;
      if (!isDataOpsError(failure)) ctx.logger.error('pipeline run failed unexpectedly', { runId: run!.id, error });
    }
  }
  if (!error && publish) {
    ({ published: stats.published, error } = await publishRun(ctx, pipeline, analysis, stats.destinations, tableOf));
  }
  stats.totalMs = Math.round(performance.now() - started);
  const status = error ? 'failed' : 'succeeded';
  await ctx.db
    .update(pipelineRuns)
    .set({ status, stats: stats as unknown as Record<string, unknown>, error, finishedAt: ctx.clock() })
    .where(eq(pipelineRuns.id, run!.id));
  return {
    runId: run!.id,
    pipelineId: pipeline.id,
    version: pipeline.version,
    environment,
    status,
    error,
    stats: runStatsFor(ctx.principal, stats),
  };
}

/**
 * Takes the lock that lets one run of a pipeline in an environment write at a time (two would race on the same
 * tables); held until the writer's transaction ends. A second run fails at once rather than queueing behind it.
 */
async function holdRunLock(tx: SourceTransaction, pipelineId: string, environment: Environment): Promise<void> {
  const [lock] = await tx.query<{ taken: boolean }>(
    `select pg_try_advisory_xact_lock(hashtext('dataops.pipeline_run'), hashtext($1)) as taken`,
    [runLockKey(pipelineId, environment)],
  );
  if (!lock!.taken) {
    throw new DataOpsError(
      'conflict',
      `a run of this pipeline in ${environment} is in progress; try again when it ends (pipelines_get_run shows its status)`,
    );
  }
}

/** What the advisory lock of a pipeline's runs in an environment is keyed by (with `dataops.pipeline_run`). */
export function runLockKey(pipelineId: string, environment: Environment): string {
  return `${pipelineId}:${environment}`;
}

/**
 * Statements of `tx` bounded by one deadline for the whole run: each may take only the time left, so the run's
 * timeout is the run's, not each statement's, and a run never outlives it.
 */
function withDeadline(tx: SourceTransaction, endsAt: number, timeoutSeconds: number): SourceTransaction {
  const limit = async () => {
    const left = Math.floor(endsAt - performance.now());
    if (left <= 0) {
      // Worded and coded like Postgres's own cancellation, so the run is explained the same way.
      throw Object.assign(new Error(`the run passed its time limit of ${timeoutSeconds} s`), { code: '57014' });
    }
    await tx.query(`set local statement_timeout = ${left}`);
  };
  return {
    query: async <T>(statement: string, params?: unknown[]) => {
      await limit();
      return tx.query<T>(statement, params);
    },
    execute: async (statement: string, params?: unknown[]) => {
      await limit();
      return tx.execute(statement, params);
    },
  };
}

/** Beyond its time limit, what a run may still spend opening its connection and publishing to the catalog. */
const staleGraceSeconds = 300;

/**
 * Marks failed every run still `running` well past its time limit (by `now`): its process ended without
 * finishing it (a crash, a restart), so it would otherwise stay `running` for ever. Limited to one pipeline
 * and environment when given. Returns how many runs it closed.
 */
export async function failStalePipelineRuns(
  db: Db,
  now: Date,
  scope?: { pipelineId: string; environment: Environment },
): Promise<number> {
  const closed = await queryRows<{ id: string }>(
    db,
    sql`update pipeline_runs set status = 'failed', finished_at = ${now.toISOString()}::timestamptz,
          stats = stats || jsonb_build_object('sqlstate', null, 'abandoned', true),
          error = 'the run stopped without finishing (the process running it ended) and was marked failed once its time limit of '
            || coalesce(stats->>'timeoutSeconds', '86400') || ' s had passed; nothing it wrote was kept, run the pipeline again'
        where status = 'running'
          and started_at + make_interval(secs => coalesce((stats->>'timeoutSeconds')::double precision, 86400) + ${staleGraceSeconds}) < ${now.toISOString()}::timestamptz
          ${scope ? sql`and pipeline_id = ${scope.pipelineId}::uuid and environment = ${scope.environment}` : sql``}
        returning id`,
  );
  return closed.length;
}

/**
 * Refuses to write a table that is neither new nor this pipeline's own (written-tables.ts), whatever the mode:
 * a replace would drop a source table or another pipeline's output, an append or upsert would change it.
 */
async function refuseForeignTable(
  tx: SourceTransaction,
  guard: { own: Set<string>; catalogued: Set<string> },
  target: WrittenTable,
): Promise<void> {
  const problem = await inStep(target.nodeId, () => takenTableProblem(tx, target, guard.own, guard.catalogued));
  if (problem) throw new StepFailure(target.nodeId, problem, null);
}

/** Runs one step; a database error becomes a failure of that node, with Postgres's own words and SQLSTATE. */
async function inStep<T>(nodeId: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StepFailure || isDataOpsError(error)) throw error;
    const code = (error as { code?: unknown }).code;
    throw new StepFailure(nodeId, (error as Error).message, typeof code === 'string' ? code : null);
  }
}

async function checkRules(
  tx: SourceTransaction,
  analysis: PipelineAnalysis,
  nodeId: string,
  compile: CompileOptions,
  stats: RunStats,
  run: { runId: string; environment: Environment; guard: { own: Set<string>; catalogued: Set<string> } },
): Promise<void> {
  const node = analysis.nodes.get(nodeId)!;
  const config = node.config as NodeConfig<'validate'>;
  const [counts] = await inStep(nodeId, () =>
    tx.query<Record<string, string | number>>(compileRuleFailures(analysis, nodeId, compile)),
  );
  const broken = config.rules
    .map((rule, i) => ({ rule: describeRule(rule), rows: Number(counts![String(i)]) }))
    .filter((r) => r.rows > 0);
  if (broken.length === 0) return;
  if (config.onFail === 'quarantine') {
    const target = environmentTable(node.quarantine!, run.environment);
    await refuseForeignTable(tx, run.guard, { nodeId, ...target, use: 'quarantine table' });
    await inStep(nodeId, () => quarantineRows(tx, analysis, nodeId, compile, target, run.runId));
    // Now this run's own: another quarantining node that names the same table may append to it too.
    run.guard.own.add(`${target.schema}.${target.table}`);
    stats.quarantined = { ...stats.quarantined, [nodeId]: broken };
    stats.quarantineTables = { ...stats.quarantineTables, [nodeId]: `${target.schema}.${target.table}` };
    return;
  }
  const words = broken.map((b) => `${b.rows} rows break \`${b.rule}\``).join(', ');
  throw new StepFailure(nodeId, `node \`${nodeId}\` (validate) stopped the run: ${words}`, null, { failures: broken });
}

/**
 * Appends the rows a validate node leaves out to its quarantine table, with the rules each broke, the run
 * and the time, creating the table on first use: a person can look at them, fix the source and run again.
 */
async function quarantineRows(
  tx: SourceTransaction,
  analysis: PipelineAnalysis,
  nodeId: string,
  compile: CompileOptions,
  target: { schema: string; table: string },
  runId: string,
): Promise<void> {
  const table = `${q(target.schema)}.${q(target.table)}`;
  const rows = compileQuarantinedRows(analysis, nodeId, compile);
  const shape = `select r.*, null::uuid as ${q(quarantineColumns.runId)}, null::timestamptz as ${q(quarantineColumns.at)} from (${rows}) as r`;
  await tx.query(`create table if not exists ${table} as ${shape} with no data`);
  await addMissingColumns(tx, table, shape);
  const columns = [
    ...analysis.nodes.get(nodeId)!.columns.map((c) => c.name),
    quarantineColumns.failedRules,
    quarantineColumns.runId,
    quarantineColumns.at,
  ];
  await tx.query(
    `insert into ${table} (${columns.map(q).join(', ')}) select r.*, $1::uuid, now() from (${rows}) as r`,
    [runId],
  );
}

/**
 * Adds to `table` the columns `shape` (a query) yields that it lacks: a later version may pass more columns on
 * to a quarantining node than the table was made with, and its rows must still fit. The types are the ones
 * Postgres gives the query's columns (read back from an empty temporary table), never text of our own.
 */
async function addMissingColumns(tx: SourceTransaction, table: string, shape: string): Promise<void> {
  const probe = 'pg_temp.dataops_quarantine_shape';
  await tx.query(`drop table if exists ${probe}`);
  await tx.query(`create temporary table dataops_quarantine_shape as ${shape} with no data`);
  const missing = await tx.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
        and a.attname not in (select attname from pg_attribute where attrelid = to_regclass($2) and attnum > 0 and not attisdropped)
      order by a.attnum`,
    [probe, table],
  );
  for (const column of missing)
    await tx.query(`alter table ${table} add column if not exists ${q(column.name)} ${column.type}`);
  await tx.query(`drop table ${probe}`);
}

async function writeDestination(
  tx: SourceTransaction,
  analysis: PipelineAnalysis,
  nodeId: string,
  compile: CompileOptions,
  target: { schema: string; table: string },
): Promise<number> {
  const node = analysis.nodes.get(nodeId)!;
  const config = node.config as NodeConfig<'destination_table'>;
  const select = compileNode(analysis, nodeId, compile);
  const table = `${q(target.schema)}.${q(target.table)}`;
  const columns = node.columns.map((c) => q(c.name)).join(', ');
  const [existing] = await tx.query<{ found: boolean }>('select to_regclass($1) is not null as found', [table]);
  if (config.mode === 'create' || !existing!.found) {
    await tx.query(`create table ${table} as ${select}`);
    if (config.mode === 'upsert')
      await tx.query(`alter table ${table} add primary key (${config.key.map(q).join(', ')})`);
    return countRows(tx, table);
  }
  switch (config.mode) {
    case 'replace': {
      // Built beside the old table and swapped in; the old one serves readers until the commit.
      const fresh = suffixedIdentifier(target.table, '__dataops_new');
      await tx.query(`drop table if exists ${q(target.schema)}.${q(fresh)}`);
      await tx.query(`create table ${q(target.schema)}.${q(fresh)} as ${select}`);
      await tx.query(`drop table ${table}`);
      await tx.query(`alter table ${q(target.schema)}.${q(fresh)} rename to ${q(target.table)}`);
      return countRows(tx, table);
    }
    case 'append':
      return tx.execute(`insert into ${table} (${columns}) ${select}`);
    case 'upsert': {
      const others = node.columns.filter((c) => !config.key.includes(c.name));
      const action = others.length
        ? `do update set ${others.map((c) => `${q(c.name)} = excluded.${q(c.name)}`).join(', ')}`
        : 'do nothing';
      return tx.execute(
        `insert into ${table} (${columns}) ${select} on conflict (${config.key.map(q).join(', ')}) ${action}`,
      );
    }
  }
}

/** Rows of a table just created (not every driver reports the row count of `create table … as`). */
async function countRows(tx: SourceTransaction, table: string): Promise<number> {
  const [counted] = await tx.query<{ n: string | number }>(`select count(*) as n from ${table}`);
  return Number(counted!.n);
}

/**
 * A run and the version of its pipeline that ran, if the caller may see that version (a run of an old version
 * that read what the caller may not see is "not found", as is a run that does not exist), and whether the
 * caller may read what the database said and the run's figures: stewards, owners and the pipeline's owner.
 */
export async function loadVisibleRun(ctx: ServiceContext, runId: string) {
  const notFound = new DataOpsError('not_found', `no pipeline run ${runId}`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(runId)) throw notFound;
  const [run] = await ctx.db.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId));
  if (!run) throw notFound;
  try {
    const pipeline = await loadPipeline(ctx, run.pipelineId, run.version);
    const privileged = hasRole(ctx.principal, 'steward', 'owner') || pipeline.owner === ctx.principal.id;
    return { run: { ...run, stats: run.stats as unknown as RunStats }, pipeline, privileged };
  } catch (error) {
    if (isDataOpsError(error) && error.code === 'not_found') throw notFound;
    throw error;
  }
}

/** A run of a pipeline the caller may see; its figures and the database's words only for those who may read them. */
export async function getRun(ctx: ServiceContext, runId: string) {
  const { run, privileged } = await loadVisibleRun(ctx, runId);
  const failedNode = run.stats.failedNode;
  return {
    runId: run.id,
    pipelineId: run.pipelineId,
    version: run.version,
    environment: run.environment,
    status: run.status,
    trigger: run.trigger,
    error: privileged || run.error === null ? run.error : withheldError(failedNode),
    stats: privileged
      ? runStatsFor(ctx.principal, run.stats)
      : { nodes: {}, destinations: {}, totalMs: run.stats.totalMs ?? 0, ...(failedNode ? { failedNode } : {}) },
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

/** What a reader who may not read the database's words learns of a failure: where, and where to ask why. */
export function withheldError(failedNode: string | undefined): string {
  return `the run failed${failedNode ? ` at node \`${failedNode}\`` : ''}; pipelines_explain_run says why and what to do (the database's own message is shown to stewards, owners and the pipeline's owner)`;
}

/** A profile node's columns as masking needs them, each at least as marked as the node's output. */
function profileMarkings(node: AnalyzedNode): MaskingColumn[] {
  return node.columns.map((c) => ({
    name: c.name,
    sensitivity: c.sensitivity,
    classification: higher(c.classification, node.marking),
    tags: c.tags,
  }));
}

/**
 * A run's figures as `principal` may see them: a profile's least and greatest values only where the masking
 * policy shows the column's values as they are, a column above the reader's clearance (or of a run that kept
 * no markings) left out altogether, and the markings themselves never shown.
 */
export function runStatsFor(principal: Principal, stats: RunStats): RunStats {
  // Which host and pid ran it is for the startup sweep, not for readers.
  const { profileMarkings: markings, profiles, process: _runner, ...rest } = stats;
  if (!profiles) return rest;
  const shown: Record<string, NodeProfile> = {};
  for (const [nodeId, profile] of Object.entries(profiles)) {
    const plan = new Map(maskingPlan(principal, markings?.[nodeId] ?? []).map((p) => [p.name, p.treatment]));
    const columns: NodeProfile['columns'] = {};
    for (const [name, column] of Object.entries(profile.columns)) {
      const treatment = plan.get(name);
      if (treatment === undefined || treatment === 'withheld') continue;
      columns[name] = treatment === 'shown' ? column : { ...column, min: null, max: null };
    }
    shown[nodeId] = { ...profile, columns };
  }
  return { ...rest, profiles: shown };
}
