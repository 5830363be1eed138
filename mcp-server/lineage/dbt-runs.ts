import { and, eq, inArray } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import type { Tx } from '../../db/create-db.js';
import { jobRuns, qualityResults } from '../../db/schema/index.js';
import type { DbtRunResults } from './dbt-manifest.js';

/**
 * A dbt invocation (run_results.json) is one run of the project's `job` asset: its id is dbt's invocation
 * id, its state FAIL when any node errored or a test failed, else COMPLETE; its facets list every node's
 * status, timing, rows and message, with the node's asset URN, so "did orders build last night?" is one
 * look-up. Test results become quality results of the tests' rules.
 */

type Result = DbtRunResults['results'][number];

const failed = new Set(['error', 'fail', 'runtime error']);

function times(result: Result) {
  const timing = result.timing ?? [];
  const started = timing.map((t) => t.started_at).filter((t): t is string => Boolean(t));
  const completed = timing.map((t) => t.completed_at).filter((t): t is string => Boolean(t));
  return { startedAt: started.sort()[0] ?? null, completedAt: completed.sort().at(-1) ?? null };
}

export async function recordDbtRun(
  tx: Tx,
  jobAssetId: string,
  results: DbtRunResults,
  urnOf: (uniqueId: string) => string | undefined,
): Promise<boolean> {
  const runId = results.metadata.invocation_id ?? results.metadata.generated_at ?? 'unknown';
  const nodes = results.results.map((r) => {
    const { startedAt, completedAt } = times(r);
    return {
      node: r.unique_id,
      asset: urnOf(r.unique_id) ?? null,
      status: r.status,
      executionTime: r.execution_time ?? null,
      startedAt,
      completedAt,
      message: r.message ?? null,
      failures: r.failures ?? null,
      rowsAffected: r.adapter_response?.rows_affected ?? null,
    };
  });
  const started = [results.metadata.invocation_started_at, ...nodes.map((n) => n.startedAt)].filter((t): t is string =>
    Boolean(t),
  );
  const ended = [...nodes.map((n) => n.completedAt), results.metadata.generated_at].filter((t): t is string =>
    Boolean(t),
  );
  const next = {
    state: results.results.some((r) => failed.has(r.status.toLowerCase())) ? 'FAIL' : 'COMPLETE',
    startedAt: started.length ? new Date(started.map((t) => new Date(t).getTime()).sort((a, b) => a - b)[0]!) : null,
    endedAt: ended.length ? new Date(Math.max(...ended.map((t) => new Date(t).getTime()))) : null,
    facets: {
      dbt: {
        command: results.args?.which ?? null,
        dbtVersion: results.metadata.dbt_version ?? null,
        elapsedTime: results.elapsed_time ?? null,
        results: nodes,
      },
    },
  };
  const [current] = await tx
    .select()
    .from(jobRuns)
    .where(and(eq(jobRuns.jobAssetId, jobAssetId), eq(jobRuns.runId, runId)));
  if (!current) {
    await tx.insert(jobRuns).values({ jobAssetId, runId, ...next, updatedAt: next.endedAt ?? new Date() });
    return true;
  }
  const same =
    current.state === next.state &&
    current.startedAt?.getTime() === next.startedAt?.getTime() &&
    current.endedAt?.getTime() === next.endedAt?.getTime() &&
    canonicalJson(current.facets) === canonicalJson(next.facets);
  if (same) return false;
  await tx.update(jobRuns).set(next).where(eq(jobRuns.id, current.id));
  return true;
}

/**
 * Test results as quality results: pass passed; fail and warn did not (`failures` rows failed); an
 * error or a skipped test says nothing about the data and is left out. One result per rule and time.
 */
export async function recordTestResults(
  tx: Tx,
  results: DbtRunResults,
  rulesByTest: Map<string, { ruleId: string; assetId: string }[]>,
): Promise<number> {
  let recorded = 0;
  for (const result of results.results) {
    const rules = rulesByTest.get(result.unique_id);
    const status = result.status.toLowerCase();
    if (!rules?.length || !['pass', 'fail', 'warn'].includes(status)) continue;
    const at = times(result).completedAt ?? results.metadata.generated_at;
    if (!at) continue;
    const ranAt = new Date(at);
    const existing = await tx
      .select({ ruleId: qualityResults.ruleId })
      .from(qualityResults)
      .where(
        and(
          inArray(
            qualityResults.ruleId,
            rules.map((r) => r.ruleId),
          ),
          eq(qualityResults.ranAt, ranAt),
        ),
      );
    const done = new Set(existing.map((r) => r.ruleId));
    for (const rule of rules.filter((r) => !done.has(r.ruleId))) {
      await tx.insert(qualityResults).values({
        ruleId: rule.ruleId,
        assetId: rule.assetId,
        passed: status === 'pass',
        failedRows: result.failures ?? null,
        observedValue: { status, message: result.message ?? null },
        evidence: { dbt: { uniqueId: result.unique_id, invocationId: results.metadata.invocation_id ?? null } },
        ranAt,
      });
      recorded++;
    }
  }
  return recorded;
}
