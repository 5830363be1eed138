import type { ServiceContext } from '../context.js';
import { loadVisibleRun } from './run.js';

interface Explanation {
  cause: string;
  fix: string;
}

/**
 * What a failure means and what to do, by its class: SQLSTATE classes from Postgres, and the run's own
 * failures (a validate node that stopped the run, a source that could not be reached).
 */
const bySqlstate: Record<string, Explanation> = {
  '42703': {
    cause: 'a column the pipeline reads does not exist in the source any more (it was renamed or dropped)',
    fix: 're-ingest the source so the catalog knows its columns, then pipelines_validate shows the node to update with pipelines_update_node',
  },
  '42P01': {
    cause: 'a table the pipeline reads does not exist in the source any more',
    fix: 'point the source node at the table that replaced it (pipelines_update_node with its URN), or re-ingest the source',
  },
  '42804': {
    cause: 'a value has a different type from what the expression or the destination expects',
    fix: 'cast it in a derive node (e.g. `cast(amount as numeric)`), or write to a new table',
  },
  '42883': {
    cause: 'an operator or function was applied to a type it does not take (e.g. text compared with a number)',
    fix: 'cast the column in a derive node before comparing or adding',
  },
  '22P02': {
    cause: 'a text value could not be read as the number, date or boolean it was compared with or cast to',
    fix: 'clean or filter the bad values first (a filter or validate node), or compare as text',
  },
  '22012': {
    cause: 'an expression divided by zero on some row',
    fix: 'guard the divisor with nullif, e.g. `amount / nullif(quantity, 0)`',
  },
  '22003': {
    cause: 'a number grew too large for its type',
    fix: 'cast to numeric before summing or multiplying',
  },
  '23505': {
    cause: 'two rows have the same key where the destination allows one (a unique index or the upsert key)',
    fix: 'add a deduplicate node on the key before the destination, or correct the key',
  },
  '23502': {
    cause: 'a null value went into a destination column that does not allow nulls',
    fix: 'filter out or fill the nulls (coalesce in a derive node) before the destination',
  },
  '21000': {
    cause: 'an upsert met the same key twice in one run',
    fix: 'add a deduplicate node on the upsert key before the destination',
  },
  '42P10': {
    cause: 'the destination table has no unique index on the upsert key',
    fix: 'create a unique index on those columns, or use replace mode',
  },
  '42P07': {
    cause: 'the destination table already exists and the node is set to create it',
    fix: 'set the destination mode to replace, append or upsert',
  },
  '2BP01': {
    cause: 'other objects (views) depend on the destination table, so it could not be replaced',
    fix: 'use append or upsert mode, or drop and recreate the dependent views after the run',
  },
  '42501': {
    cause: 'the database account DataOps connects with lacks a privilege this run needs',
    fix: 'grant it SELECT on the sources and CREATE on the destination schema, or ingest the source with an account that has them',
  },
  '57014': {
    cause: 'the run took longer than its time limit and was cancelled',
    fix: 'filter or aggregate earlier, add indexes on join keys, or run again with a larger timeoutSeconds',
  },
  '55P03': {
    cause:
      'another run of this pipeline in the same environment was still writing its tables, and two runs never write at once',
    fix: 'wait until that run ends (pipelines_get_run shows its status), then run again; if a schedule and manual runs keep meeting, move the schedule',
  },
  '40001': {
    cause: 'another session changed rows this run had read, while it ran (a run reads one snapshot from start to end)',
    fix: 'run it again; if it repeats, schedule it apart from the other writer',
  },
  '40P01': {
    cause: 'the run deadlocked with another session writing the same tables',
    fix: 'run it again; if it repeats, schedule it apart from the other writer',
  },
};

const byClass: Record<string, Explanation> = {
  '08': {
    cause: 'the connection to the source database failed',
    fix: 'check that the database is up and reachable, then run again',
  },
  '53': {
    cause: 'the database ran out of a resource (disk, memory or connections)',
    fix: 'free the resource or run when the database is less busy',
  },
  '22': {
    cause: 'a value in the data could not be computed or converted',
    fix: 'look at the failing node with pipelines_preview and filter or clean the values it cannot handle',
  },
  '42': {
    cause: 'the SQL the node compiles to was refused by the database',
    fix: 'run pipelines_validate; then preview the node to see the rows that reach it',
  },
};

const abandonedRun: Explanation = {
  cause:
    'the process running it ended (a crash or a restart) before the run finished, so the run was closed as failed once its time limit had passed; its transaction never committed, so nothing it wrote was kept',
  fix: 'run it again with pipelines_run, or let its next scheduled run do it',
};

const interruptedRun: Explanation = {
  cause:
    'the server running it stopped (it was killed, crashed or restarted) before the run finished, so the run was marked failed when the server started again; its transaction never committed, so nothing it wrote was kept',
  fix: 'run it again with pipelines_run, or let its next scheduled run do it',
};

const publicationFailure: Explanation = {
  cause:
    'the tables were written, but registering them in the catalog as data products failed, so the catalog still describes them as before',
  fix: 'read the message: a blocking policy names what the product lacks (a description, an owner, a marking) and a refusal names the domain or clearance; fix that and run again, which publishes the same tables',
};

function explanationFor(sqlstate: string | null | undefined, validation: boolean): Explanation {
  if (validation) {
    return {
      cause: 'rows broke the rules of a validate node set to stop the run, so nothing was written',
      fix: 'fix the data at its source, relax the rule, or set the node to quarantine (onFail: "quarantine"): the failing rows are set aside in a quarantine table, with the rules each broke, and the run goes on',
    };
  }
  if (sqlstate && bySqlstate[sqlstate]) return bySqlstate[sqlstate];
  if (sqlstate && byClass[sqlstate.slice(0, 2)]) return byClass[sqlstate.slice(0, 2)]!;
  return {
    cause: 'the run failed before it reached the data (the source could not be opened)',
    fix: 'read the error above; when it names the connection, ingest the source again with a connection DataOps can use',
  };
}

/**
 * "Why did this pipeline fail?" in plain words, with the node and the fix; the database's own message (which
 * may quote values) and the rows written only for stewards, owners and the pipeline's owner.
 */
export async function explainRun(ctx: ServiceContext, runId: string) {
  const { run, pipeline, privileged } = await loadVisibleRun(ctx, runId);
  if (run.status !== 'failed') {
    const rows = Object.values(run.stats.destinations ?? {}).reduce((sum, d) => sum + d.rows, 0);
    const outcome =
      run.status !== 'succeeded' ? `is ${run.status}` : privileged ? `succeeded: it wrote ${rows} rows` : 'succeeded';
    return {
      runId,
      status: run.status,
      failedNode: null,
      summary: `Run ${runId} ${outcome}; there is no failure to explain.`,
      cause: null,
      fix: null,
    };
  }
  const failedNode = run.stats.failedNode ?? null;
  const node = pipeline.graph.nodes.find((n) => n.id === failedNode);
  // Publication runs only after the tables are written; a failed run that has its list failed there.
  const publishing = run.stats.published !== undefined;
  const { cause, fix } = publishing
    ? publicationFailure
    : run.stats.interrupted
      ? interruptedRun
      : run.stats.abandoned
        ? abandonedRun
        : explanationFor(run.stats.sqlstate, run.stats.failures !== undefined);
  const where = publishing
    ? 'after writing its tables, while publishing them to the catalog'
    : node
      ? `at node \`${node.id}\` (${node.type}${node.data.label !== node.id ? `, «${node.data.label}»` : ''})`
      : 'before any node ran';
  return {
    runId,
    status: run.status,
    failedNode,
    summary: `Pipeline ${pipeline.name} (version ${run.version}, ${pipeline.semver}) failed ${where}: ${cause}. ${
      privileged
        ? `${publishing ? 'The catalog' : 'The database'} said: ${run.error}`
        : `(${publishing ? 'The catalog' : 'The database'}'s own message is shown to stewards, owners and the pipeline's owner.)`
    }`,
    cause,
    fix,
  };
}
