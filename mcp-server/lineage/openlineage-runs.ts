import { and, eq } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import type { Tx } from '../../db/create-db.js';
import { jobRuns } from '../../db/schema/index.js';
import type { RunState } from './openlineage-schema.js';

const terminalStates = new Set<string>(['COMPLETE', 'FAIL', 'ABORT']);

/**
 * Moves the run to the event's state. A finished run (COMPLETE, FAIL, ABORT) is not reopened by a late
 * START, RUNNING or OTHER event (the spec allows OTHER after completion to add metadata); run facets merge.
 */
export async function recordRun(
  tx: Tx,
  jobAssetId: string,
  runId: string,
  state: RunState,
  at: Date,
  facets: Record<string, unknown> | undefined,
): Promise<boolean> {
  const [current] = await tx
    .select()
    .from(jobRuns)
    .where(and(eq(jobRuns.jobAssetId, jobAssetId), eq(jobRuns.runId, runId)));
  const terminal = terminalStates.has(state);
  if (!current) {
    await tx.insert(jobRuns).values({
      jobAssetId,
      runId,
      state,
      startedAt: state === 'START' ? at : null,
      endedAt: terminal ? at : null,
      facets: facets ?? {},
      updatedAt: at,
    });
    return true;
  }
  const finished = terminalStates.has(current.state);
  const later = !current.endedAt || at >= current.endedAt;
  const next = {
    state: finished && (!terminal || !later) ? current.state : state,
    startedAt: state === 'START' && (!current.startedAt || at < current.startedAt) ? at : current.startedAt,
    endedAt: terminal && later ? at : current.endedAt,
    facets: { ...current.facets, ...facets },
  };
  const same =
    next.state === current.state &&
    next.startedAt?.getTime() === current.startedAt?.getTime() &&
    next.endedAt?.getTime() === current.endedAt?.getTime() &&
    canonicalJson(next.facets) === canonicalJson(current.facets);
  if (same) return false;
  await tx
    .update(jobRuns)
    .set({ ...next, updatedAt: at > current.updatedAt ? at : current.updatedAt })
    .where(eq(jobRuns.id, current.id));
  return true;
}
