import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/create-db.js';

/** Which process runs a pipeline run, kept in its stats so a later start can tell whether that process is gone. */
export function runningProcess(): { host: string; pid: number } {
  return { host: hostname(), pid: process.pid };
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // at startup this process has started no run yet: the pid was reused
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: a process with that pid exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const interruptedMessage =
  'the server running it stopped (killed, crashed or restarted) before the run finished, and was found stopped at the next start; its transaction never committed, so nothing it wrote was kept: run the pipeline again';

/**
 * At `dataops start` and `dataops mcp`: marks failed the runs still `running` whose process no longer exists,
 * instead of waiting for their time limit. On an embedded catalog only one process holds the data directory,
 * so every such run is orphaned. On a shared Postgres catalog only runs recorded by a process of this host
 * that is gone can be told apart; runs of other hosts are left to the time-limit sweep (failStalePipelineRuns).
 */
export async function failInterruptedRuns(db: Db, now: Date, options: { embedded: boolean }): Promise<number> {
  const running = await queryRows<{ id: string; host: string | null; pid: number | null }>(
    db,
    sql`select id::text, stats->'process'->>'host' as host, (stats->'process'->>'pid')::int as pid
        from pipeline_runs where status = 'running'`,
  );
  const here = hostname();
  const orphaned = running
    .filter((r) => options.embedded || (r.host === here && r.pid !== null && !alive(r.pid)))
    .map((r) => r.id);
  if (orphaned.length === 0) return 0;
  const closed = await queryRows<{ id: string }>(
    db,
    sql`update pipeline_runs set status = 'failed', finished_at = ${now.toISOString()}::timestamptz,
          stats = stats || jsonb_build_object('sqlstate', null, 'abandoned', true, 'interrupted', true),
          error = ${interruptedMessage}
        where status = 'running' and id in (select jsonb_array_elements_text(${JSON.stringify(orphaned)}::jsonb)::uuid)
        returning id`,
  );
  return closed.length;
}
