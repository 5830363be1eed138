import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { pipelineTests } from '../../db/schema/index.js';
import { withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import type { AnalyzedNode, PipelineAnalysis } from './analysis.js';
import { ancestors, compileNode, compileRuleFailures } from './compile.js';
import { postgresDialect } from './dialect.js';
import { unknownColumn } from './expressions.js';
import { nodeIdSchema } from './graph.js';
import type { NodeConfig } from './nodes/index.js';
import { describeRule } from './nodes/validate-rules.js';
import { compileOptions, pipelineReadTimeoutSeconds } from './run.js';
import { type LoadedPipeline, loadPipeline, requireCanChange } from './store.js';
import { analyzePipeline } from './validate.js';

/**
 * Pipeline tests: expected rows at chosen nodes for given input rows. A test replaces every source node with
 * the rows it gives (a dataset's table through the compiler's `table` seam; a source query as a whole, by the
 * rows it would return), compiles the same SQL a run executes, and runs it on the pipeline's source database
 * in a read-only transaction, so nothing reads or touches the real tables.
 */

/** Node types a test gives rows to: what reads the source database. */
const fedTypes = new Set(['source_dataset', 'source_sql']);

const row = z.record(z.string(), z.unknown());
const rows = z.array(row).max(1000);

export const pipelineTestInput = z
  .object({
    name: z.string().min(1).max(200).describe('A name unique in the pipeline; a test of the same name is replaced'),
    inputs: z
      .record(nodeIdSchema, rows)
      .describe(
        'Rows standing in for each source node’s data, by source node id: {"payments": [{"amount": 5}]}; for a source_sql node, the rows its query returns',
      ),
    expect: z
      .record(nodeIdSchema, rows)
      .refine((e) => Object.keys(e).length > 0, 'name at least one node whose rows to check')
      .describe(
        'The rows chosen nodes must produce, by node id. Order matters only at a sort node; columns left out are null',
      ),
  })
  .strict();
export type PipelineTestInput = z.infer<typeof pipelineTestInput>;

export interface NodeDiff {
  nodeId: string;
  /** Expected rows the node did not produce. */
  missing: Record<string, unknown>[];
  /** Rows the node produced that were not expected. */
  unexpected: Record<string, unknown>[];
  /** At a sort node with the right rows in the wrong order: the first position (from 1) that differs. */
  outOfOrder?: { position: number; expected: Record<string, unknown>; actual: Record<string, unknown> };
}

export interface TestResult {
  name: string;
  passed: boolean;
  /** Why the test could not be judged, or a validate node that would stop the run on the given rows. */
  problems: string[];
  /** Nodes whose rows differ from what was expected. */
  diffs: NodeDiff[];
}

export interface TestRun {
  pipelineId: string;
  name: string;
  version: number;
  semver: string;
  passed: number;
  failed: number;
  results: TestResult[];
}

type StoredTest = PipelineTestInput;

/**
 * Adds a test to a pipeline, or replaces the one of the same name, then runs it on the current version so
 * the answer says at once whether the pipeline passes it. Only the pipeline's owner or a steward may.
 */
export async function addPipelineTest(ctx: ServiceContext, ref: string, input: PipelineTestInput): Promise<TestRun> {
  const test = pipelineTestInput.parse(input);
  const pipeline = await loadPipeline(ctx, ref);
  requireCanChange(ctx, pipeline, 'add tests to');
  const analysis = await analyzePipeline(ctx, pipeline.graph);
  // A test that cannot fit the pipeline as it is now is refused, not stored to fail later.
  const problems = fitProblems(pipeline, analysis, test);
  if (problems.length) throw new DataOpsError('invalid_input', `test "${test.name}": ${problems.join('; ')}`);
  await ctx.db
    .insert(pipelineTests)
    .values({
      pipelineId: pipeline.id,
      name: test.name,
      inputs: test.inputs,
      expect: test.expect,
      createdBy: ctx.principal.id,
      updatedAt: ctx.clock(),
    })
    .onConflictDoUpdate({
      target: [pipelineTests.pipelineId, pipelineTests.name],
      set: {
        inputs: test.inputs,
        expect: test.expect,
        createdBy: ctx.principal.id,
        updatedAt: ctx.clock(),
      },
    });
  return judge(ctx, pipeline, analysis, [test]);
}

/** The stored tests of a pipeline, by name. */
export async function listPipelineTests(ctx: ServiceContext, pipelineId: string): Promise<StoredTest[]> {
  const found = await ctx.db
    .select({ name: pipelineTests.name, inputs: pipelineTests.inputs, expect: pipelineTests.expect })
    .from(pipelineTests)
    .where(eq(pipelineTests.pipelineId, pipelineId))
    .orderBy(asc(pipelineTests.name));
  return found;
}

/** Runs every test of a pipeline against a version (the current one by default). */
export async function runPipelineTests(ctx: ServiceContext, ref: string, version?: number): Promise<TestRun> {
  const pipeline = await loadPipeline(ctx, ref, version);
  const tests = await listPipelineTests(ctx, pipeline.id);
  return judge(ctx, pipeline, await analyzePipeline(ctx, pipeline.graph), tests);
}

/** Runs tests against an already loaded version (a deploy has it at hand). */
export async function judge(
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  analysis: PipelineAnalysis,
  tests: StoredTest[],
): Promise<TestRun> {
  const results: TestResult[] = [];
  for (const test of tests) results.push(await judgeOne(ctx, pipeline, analysis, test));
  const passed = results.filter((r) => r.passed).length;
  return {
    pipelineId: pipeline.id,
    name: pipeline.name,
    version: pipeline.version,
    semver: pipeline.semver,
    passed,
    failed: results.length - passed,
    results,
  };
}

/** What keeps a test from being judged against this version, in words that say what to change. */
function fitProblems(pipeline: LoadedPipeline, analysis: PipelineAnalysis, test: StoredTest): string[] {
  const problems: string[] = [];
  const byId = new Map(pipeline.graph.nodes.map((n) => [n.id, n]));
  const where = `version ${pipeline.version} of pipeline ${pipeline.name}`;
  for (const nodeId of Object.keys(test.inputs)) {
    const node = byId.get(nodeId);
    if (!node) problems.push(`${where} has no node \`${nodeId}\` to give rows to`);
    else if (!fedTypes.has(node.type))
      problems.push(`node \`${nodeId}\` is a ${node.type} node; give rows to source_dataset and source_sql nodes only`);
    else {
      const columns = analysis.nodes.get(nodeId)?.columns.map((c) => c.name);
      if (columns) problems.push(...strayColumns(test.inputs[nodeId]!, columns, `the rows given to \`${nodeId}\``));
    }
  }
  for (const nodeId of Object.keys(test.expect)) {
    if (!byId.has(nodeId)) {
      problems.push(`${where} has no node \`${nodeId}\` to check`);
      continue;
    }
    for (const source of upstreamSources(pipeline, nodeId)) {
      if (!test.inputs[source])
        problems.push(
          `source node \`${source}\` feeds \`${nodeId}\` but the test gives it no rows: add inputs.${source}`,
        );
    }
    const node = analysis.nodes.get(nodeId);
    if (!node) {
      const issue = analysis.issues.find((i) => i.nodeId !== null && upstreamIds(pipeline, nodeId).has(i.nodeId));
      problems.push(
        `node \`${nodeId}\` cannot be computed yet${issue ? `: ${issue.message}` : '; validate the pipeline and fix its issues'}`,
      );
      continue;
    }
    problems.push(
      ...strayColumns(
        test.expect[nodeId]!,
        node.columns.map((c) => c.name),
        `the rows expected at \`${nodeId}\``,
      ),
    );
  }
  return problems;
}

function strayColumns(given: Record<string, unknown>[], columns: string[], what: string): string[] {
  const stray = [...new Set(given.flatMap((r) => Object.keys(r)))].filter((k) => !columns.includes(k));
  return stray.map((k) => `${what} name ${unknownColumn(k, columns)}`);
}

/** Node ids upstream of (and including) `nodeId`, from the graph's edges (a broken node still has edges). */
function upstreamIds(pipeline: LoadedPipeline, nodeId: string): Set<string> {
  const found = new Set([nodeId]);
  const stack = [nodeId];
  while (stack.length) {
    const id = stack.pop()!;
    for (const e of pipeline.graph.edges) {
      if (e.target === id && !found.has(e.source)) {
        found.add(e.source);
        stack.push(e.source);
      }
    }
  }
  return found;
}

function upstreamSources(pipeline: LoadedPipeline, nodeId: string): string[] {
  const ids = upstreamIds(pipeline, nodeId);
  return pipeline.graph.nodes.filter((n) => ids.has(n.id) && fedTypes.has(n.type)).map((n) => n.id);
}

const q = postgresDialect.quote;
const ordinal = q('__dataops_n');

/**
 * A type name as Postgres prints one (`numeric(8,2)`, `timestamp with time zone`, `contracts.usd`, `integer[]`):
 * the catalog's column types are pasted into the statement, so anything else is refused rather than trusted.
 */
const typeName = /^(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"|\s|\.|\(\s*\d+\s*(?:,\s*\d+\s*)?\)|\[\d*\])+$/;

/** Columns whose type a test cannot read its rows as, in words. */
function unreadableTypes(columns: { name: string; type: string }[], where: string): string[] {
  return columns
    .filter((c) => !typeName.test(c.type))
    .map((c) => `column \`${c.name}\` at \`${where}\` has type ${c.type}, which a test cannot give rows of`);
}

/** `jsonb_to_recordset(<rows>) as alias(col type, …)`: the given rows, read as the columns' own types. */
function rowsAsTable(given: Record<string, unknown>[], columns: { name: string; type: string }[], alias: string) {
  const definitions = columns.map((c) => `${q(c.name)} ${c.type}`).join(', ');
  return `jsonb_to_recordset(${postgresDialect.literal(JSON.stringify(given))}::jsonb) as ${q(alias)}(${definitions})`;
}

async function judgeOne(
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  analysis: PipelineAnalysis,
  test: StoredTest,
): Promise<TestResult> {
  const result: TestResult = {
    name: test.name,
    passed: false,
    problems: fitProblems(pipeline, analysis, test),
    diffs: [],
  };
  if (result.problems.length) return result;
  const checked = Object.keys(test.expect);
  const needed = new Set(checked.flatMap((id) => [...ancestors(analysis, id)]));
  // Sources are swapped by the table they read (the compiler's seam names tables, not nodes); two source
  // nodes reading one table read the same data, so a test must give them the same rows.
  const fixtures = new Map<string, { rows: Record<string, unknown>[]; node: AnalyzedNode; nodeId: string }>();
  // A source query stands in as a whole: its node reads the given rows as its own output, so the tables it
  // names are never read and need no rows.
  const tested: PipelineAnalysis = { ...analysis, nodes: new Map(analysis.nodes) };
  for (const id of needed) {
    const node = analysis.nodes.get(id)!;
    if (node.type === 'source_sql') {
      const given = rowsAsTable(test.inputs[id]!, node.columns, '__dataops_given');
      tested.nodes.set(id, { ...node, query: { ...node.query!, text: `select * from ${given}`, relations: [] } });
      result.problems.push(...unreadableTypes(node.columns, id));
      continue;
    }
    if (node.type !== 'source_dataset') continue;
    const key = `${node.table!.schema}.${node.table!.name}`;
    const given = test.inputs[id]!;
    const other = fixtures.get(key);
    if (other && JSON.stringify(other.rows) !== JSON.stringify(given)) {
      result.problems.push(
        `source nodes \`${other.nodeId}\` and \`${id}\` both read ${key}, so give them the same rows`,
      );
    }
    fixtures.set(key, { rows: given, node, nodeId: id });
    result.problems.push(...unreadableTypes(node.columns, id));
  }
  for (const id of checked) result.problems.push(...unreadableTypes(analysis.nodes.get(id)!.columns, id));
  if (result.problems.length) return result;
  const options = {
    ...(await compileOptions(ctx, pipeline.id)),
    table: (schema: string, name: string) => {
      const fixture = fixtures.get(`${schema}.${name}`);
      if (!fixture) {
        throw new DataOpsError(
          'invalid_input',
          `the test gives no rows for table ${schema}.${name}: give rows to the source node that reads it`,
        );
      }
      return rowsAsTable(fixture.rows, fixture.node.columns, name);
    },
  };
  try {
    await withSourceReader(
      ctx,
      analysis.sourceId!,
      async (reader) => {
        // A validate node that stops the run stops it on the test's rows too: the test says so rather than pass.
        for (const id of [...analysis.nodes.keys()].filter((n) => needed.has(n))) {
          const node = analysis.nodes.get(id)!;
          if (node.type !== 'validate' || (node.config as NodeConfig<'validate'>).onFail !== 'stop') continue;
          const [counts] = await reader.query<Record<string, string | number>>(
            compileRuleFailures(tested, id, options),
          );
          const rules = (node.config as NodeConfig<'validate'>).rules;
          for (const [i, rule] of rules.entries()) {
            const broken = Number(counts![String(i)]);
            if (broken > 0)
              result.problems.push(
                `node \`${id}\` (validate) would stop the run: ${broken} rows break \`${describeRule(rule)}\``,
              );
          }
        }
        for (const nodeId of checked) {
          const diff = await compareNode(reader, tested, nodeId, options, test.expect[nodeId]!);
          if (diff) result.diffs.push(diff);
        }
      },
      { seconds: pipelineReadTimeoutSeconds, what: `test "${test.name}"` },
    );
  } catch (error) {
    // An unreachable source is the deploy's problem to report; a statement the database refused, or one that
    // ran too long, is the test's.
    if (isDataOpsError(error) && error.code !== 'invalid_input') throw error;
    if (isDataOpsError(error)) {
      result.problems.push(error.message);
      return result;
    }
    result.problems.push(`the database refused the test's rows: ${(error as Error).message}`);
  }
  result.passed = result.problems.length === 0 && result.diffs.length === 0;
  return result;
}

/**
 * How far apart two floating-point values may be, relative to the larger, and still count as equal: an
 * average or a float sum differs in its last digits by the order rows were added in, and the expected value
 * was written as a decimal.
 */
const relativeTolerance = 1e-9;

/** Types compared within the tolerance: floats, and unconstrained numeric (what avg and division give). */
const approximate = (type: string) => type === 'real' || type === 'double precision' || type === 'numeric';

/** json has no equality in Postgres: compared as jsonb (same values, key order and spacing ignored). */
const comparable = (c: { name: string; type: string }) => (c.type === 'json' ? `${q(c.name)}::jsonb` : q(c.name));

function closeEnough(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= relativeTolerance * Math.max(Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Takes out of `missing` and `unexpected` each pair of rows equal but for approximate columns within the
 * tolerance (`except all` compared them exactly).
 */
function pairApproximate(
  columns: { name: string; type: string }[],
  missing: Record<string, unknown>[],
  unexpected: Record<string, unknown>[],
): void {
  const loose = columns.filter((c) => approximate(c.type));
  if (loose.length === 0 || missing.length === 0 || unexpected.length === 0) return;
  const exact = columns.filter((c) => !approximate(c.type));
  const keyOf = (r: Record<string, unknown>) => JSON.stringify(exact.map((c) => r[c.name] ?? null));
  const candidates = new Map<string, Record<string, unknown>[]>();
  for (const r of unexpected) candidates.set(keyOf(r), [...(candidates.get(keyOf(r)) ?? []), r]);
  const matched = new Set<Record<string, unknown>>();
  for (let i = missing.length - 1; i >= 0; i--) {
    const m = missing[i]!;
    const found = candidates
      .get(keyOf(m))
      ?.find((u) => !matched.has(u) && loose.every((c) => closeEnough(m[c.name] ?? null, u[c.name] ?? null)));
    if (!found) continue;
    matched.add(found);
    missing.splice(i, 1);
  }
  for (let i = unexpected.length - 1; i >= 0; i--) if (matched.has(unexpected[i]!)) unexpected.splice(i, 1);
}

/**
 * Expected and produced rows of one node compared as the node's own types (json as jsonb, floats within a
 * small relative tolerance); null when they agree.
 */
async function compareNode(
  reader: { query<T>(statement: string): Promise<T[]> },
  analysis: PipelineAnalysis,
  nodeId: string,
  options: Parameters<typeof compileNode>[2],
  expected: Record<string, unknown>[],
): Promise<NodeDiff | null> {
  const node = analysis.nodes.get(nodeId)!;
  const columns = node.columns.map((c) => ({ name: c.name, type: c.type }));
  const expectedRows = rowsAsTable(expected, columns, '__dataops_expected');
  const list = columns.map((c) => `${comparable(c)} as ${q(c.name)}`).join(', ');
  const sides = await reader.query<{ side: 'missing' | 'unexpected'; row: Record<string, unknown> }>(
    compileNode(
      analysis,
      nodeId,
      options,
      (quoted) =>
        `select 'missing' as side, to_jsonb(d) as row from ((select ${list} from ${expectedRows}) except all (select ${list} from ${quoted})) d
         union all
         select 'unexpected' as side, to_jsonb(d) as row from ((select ${list} from ${quoted}) except all (select ${list} from ${expectedRows})) d`,
    ),
  );
  // jsonb keeps keys in its own order; a diff reads best in the node's column order.
  const inColumnOrder = (r: Record<string, unknown>) => Object.fromEntries(columns.map((c) => [c.name, r[c.name]]));
  const diff: NodeDiff = {
    nodeId,
    missing: sides.filter((s) => s.side === 'missing').map((s) => inColumnOrder(s.row)),
    unexpected: sides.filter((s) => s.side === 'unexpected').map((s) => inColumnOrder(s.row)),
  };
  pairApproximate(columns, diff.missing, diff.unexpected);
  const sorts = node.type === 'sort' && (node.config as NodeConfig<'sort'>).by.length > 0;
  if (diff.missing.length === 0 && diff.unexpected.length === 0 && sorts) {
    const names = columns.map((c) => q(c.name));
    // A row is out of place when any column differs: json as jsonb, approximate numbers beyond the tolerance.
    const differs =
      columns
        .map((c) => {
          const [a, e] = [`a.${q(c.name)}`, `e.${q(c.name)}`];
          if (c.type === 'json') return `${a}::jsonb is distinct from ${e}::jsonb`;
          if (!approximate(c.type)) return `${a} is distinct from ${e}`;
          return `(${a} is distinct from ${e} and not coalesce(abs(${a} - ${e}) <= ${relativeTolerance} * greatest(abs(${a}), abs(${e})), false))`;
        })
        .join(' or ') || 'false';
    const definitions = columns.map((c) => `${q(c.name)} ${c.type}`).join(', ');
    const literal = postgresDialect.literal(JSON.stringify(expected));
    const [first] = await reader.query<{
      position: number;
      expected: Record<string, unknown>;
      actual: Record<string, unknown>;
    }>(
      compileNode(
        analysis,
        nodeId,
        options,
        (quoted, list) =>
          `select e.${ordinal}::int as position, to_jsonb(e) - '__dataops_n' as expected, to_jsonb(a) - '__dataops_n' as actual
           from (select ${list}, row_number() over () as ${ordinal} from ${quoted}) a
           join (select * from rows from (jsonb_to_recordset(${literal}::jsonb) as (${definitions})) with ordinality as x(${[...names, ordinal].join(', ')})) e
             using (${ordinal})
           where ${differs}
           order by 1 limit 1`,
      ),
    );
    if (first) {
      diff.outOfOrder = {
        position: first.position,
        expected: inColumnOrder(first.expected),
        actual: inColumnOrder(first.actual),
      };
    }
  }
  return diff.missing.length || diff.unexpected.length || diff.outOfOrder ? diff : null;
}

/** A test result in words: what was missing, unexpected or out of order, node by node. */
export function describeResult(result: TestResult): string {
  if (result.passed) return `✓ ${result.name}`;
  const lines = [`✗ ${result.name}`, ...result.problems.map((p) => `  - ${p}`)];
  const show = (r: Record<string, unknown>) => JSON.stringify(r);
  for (const d of result.diffs) {
    for (const r of d.missing.slice(0, 5)) lines.push(`  - at \`${d.nodeId}\` missing: ${show(r)}`);
    if (d.missing.length > 5) lines.push(`  - at \`${d.nodeId}\` ${d.missing.length - 5} more rows missing`);
    for (const r of d.unexpected.slice(0, 5)) lines.push(`  - at \`${d.nodeId}\` unexpected: ${show(r)}`);
    if (d.unexpected.length > 5) lines.push(`  - at \`${d.nodeId}\` ${d.unexpected.length - 5} more unexpected rows`);
    if (d.outOfOrder) {
      lines.push(
        `  - at \`${d.nodeId}\` row ${d.outOfOrder.position} is out of order: expected ${show(d.outOfOrder.expected)}, got ${show(d.outOfOrder.actual)}`,
      );
    }
  }
  return lines.join('\n');
}
