import { eq } from 'drizzle-orm';
import type { RowDataPacket } from 'mysql2/promise';
import type postgres from 'postgres';
import { DataOpsError } from '../../core/errors.js';
import { describeConnectionError } from '../../db/connection-errors.js';
import { withEmbedded } from '../../db/embedded/shared-embedded.js';
import { openPostgres } from '../../db/postgres-client.js';
import { sources } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { connectMysql } from './mysql/mysql-connector.js';
import { mysqlErrorReason } from './mysql/mysql-error-reason.js';
import { parseMysqlUrl } from './mysql/parse-mysql-url.js';
import { loadSourceConnection } from './source-credentials.js';

/**
 * A read-only connection to a source's data, for work pushed down to where the data lives (profiles,
 * quality checks, sampled values). Every statement runs in a read-only transaction, rolled back afterwards.
 */
export interface SourceReader {
  readonly dialect: 'postgres' | 'mysql';
  /** Runs one statement; parameters are `$1, $2…` on Postgres and `?` on MySQL. */
  query<T = Record<string, unknown>>(statement: string, params?: unknown[]): Promise<T[]>;
}

/**
 * A bound on how long each statement of a read may take, for reads whose statements a person wrote or
 * composed (a pipeline's preview, tests, a source query's description): the database cancels a statement
 * that runs longer, and the error says what took too long and what to do.
 */
export interface ReadTimeout {
  seconds: number;
  /** What the statements do, as the error names it: "the preview". */
  what: string;
  /** What to change; by default to add a filter or a limit upstream. */
  hint?: string;
}

/** Postgres's code for a statement cancelled (by statement_timeout here); MySQL's for MAX_EXECUTION_TIME exceeded. */
const postgresCancelled = '57014';
const mysqlTimedOut = 3024;
/** MariaDB's code for a statement stopped by max_statement_time. */
const mariadbTimedOut = 1969;

/** The error a timed-out statement becomes; any other error unchanged. */
function timedOut(error: unknown, timeout: ReadTimeout | undefined): unknown {
  if (!timeout) return error;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (code !== postgresCancelled && errno !== mysqlTimedOut && errno !== mariadbTimedOut) return error;
  return new DataOpsError(
    'invalid_input',
    `${timeout.what} took longer than ${timeout.seconds} s; ${timeout.hint ?? 'add a filter or a limit upstream'}`,
    { cause: error },
  );
}

/** `set local statement_timeout` for a read-only transaction on Postgres (PGlite accepts it but cannot enforce it). */
function statementTimeout(timeout: ReadTimeout | undefined): string | null {
  return timeout ? `set local statement_timeout = ${Math.max(1, Math.trunc(timeout.seconds * 1000))}` : null;
}

/**
 * Settings for every read of statements a person wrote or composed (those with a ReadTimeout) on a Postgres
 * source, set for its transaction only:
 * - `search_path` is pg_catalog alone, so a function, operator or type somebody created (in `public` or any
 *   other schema) is never found by an unqualified name: the SQL a person writes is compiled with every table
 *   qualified, and calls only Postgres's own functions (a PG15 source resolves `json_scalar(…)`, which newer
 *   parsers read as syntax, as an ordinary function through the search_path).
 * - `work_mem` modest, and `temp_file_limit` (a superuser's setting; skipped for any other login) bounded, so
 *   a costly query spills little to disk before the statement timeout ends it.
 */
export const readSettings = `select pg_catalog.set_config('search_path', 'pg_catalog', true),
  pg_catalog.set_config('work_mem', '16MB', true),
  case when pg_catalog.current_setting('is_superuser') = 'on'
       then pg_catalog.set_config('temp_file_limit', '1048576', true) end`;

/** Prefix of the connection target of an embedded database the product keeps beside the catalog (the demo). */
export const embeddedTargetPrefix = 'pglite:';

/**
 * Opens the source's saved connection, runs `work`, and closes it. `not_found` for a source that does
 * not exist; `unavailable`, with what to do, when no connection was kept or the source cannot be reached.
 * With `timeout`, each statement is cancelled once it runs longer, as an `invalid_input` saying so.
 */
export async function withSourceReader<T>(
  ctx: ServiceContext,
  sourceId: string,
  work: (reader: SourceReader) => Promise<T>,
  timeout?: ReadTimeout,
): Promise<T> {
  const { source, target } = await connectionTarget(ctx, sourceId);
  if (isEmbedded(target)) return reach(target, (url) => withPostgres(url, work, timeout));
  if (source.kind === 'mysql') return withMysql(target, work, timeout);
  if (source.kind === 'postgres') return withPostgres(target, work, timeout);
  throw new DataOpsError(
    'invalid_input',
    `source "${source.name}" is a ${source.kind} source, whose data is not read in place`,
  );
}

/** A column of a query's result as the database describes it. */
export interface DescribedColumn {
  name: string;
  /** The Postgres type name (`integer`, `character varying`, `numeric`…), without modifiers. */
  type: string;
}

/** How long describing a pipeline's source query may take: planning alone, so far less than any read. */
export const describeTimeout: ReadTimeout = {
  seconds: 60,
  what: 'describing the source query',
  hint: 'simplify the query (fewer tables or a simpler plan)',
};

/**
 * The columns a Postgres statement returns, as the driver reports them (names and type OIDs, mapped to type
 * names by the source's own catalog), read in a read-only transaction. Give it a statement that returns no
 * rows (`… limit 0`): only its shape is wanted. Bounded by `timeout` (a minute by default).
 */
export async function describeSourceQuery(
  ctx: ServiceContext,
  sourceId: string,
  statement: string,
  timeout: ReadTimeout = describeTimeout,
): Promise<DescribedColumn[]> {
  const limit = statementTimeout(timeout);
  const { source, target } = await connectionTarget(ctx, sourceId);
  // The OIDs travel as JSON text, so one statement works the same through both drivers.
  const typeNames =
    'select t.oid::int8 as oid, format_type(t.oid, null) as name from pg_type t where t.oid::int8 in (select (jsonb_array_elements_text($1::text::jsonb))::int8)';
  const named = async (
    fields: { name: string; oid: number }[],
    query: (text: string, params: unknown[]) => Promise<{ oid: string | number; name: string }[]>,
  ) => {
    const types = new Map(
      (await query(typeNames, [JSON.stringify(fields.map((f) => f.oid))])).map((t) => [Number(t.oid), t.name]),
    );
    return fields.map((f) => ({ name: f.name, type: types.get(f.oid) ?? 'text' }));
  };
  if (source.kind !== 'postgres') {
    throw new DataOpsError(
      'invalid_input',
      `source "${source.name}" is a ${source.kind} source, not a Postgres database`,
    );
  }
  return reach(target, (url) =>
    onPostgres(url, (sql) =>
      readAndRollBack(sql, async (tx) => {
        if (limit) {
          await tx.unsafe(readSettings);
          await tx.unsafe(limit);
        }
        const result = await tx.unsafe(statement).catch((error) => Promise.reject(timedOut(error, timeout)));
        return named(
          result.columns.map((c) => ({ name: c.name, oid: c.type })),
          async (text, params) => (await tx.unsafe(text, params as never[])) as never[],
        );
      }),
    ),
  ) as Promise<DescribedColumn[]>;
}

/** Statements inside one read-write transaction on a source's database. */
export interface SourceTransaction {
  query<T = Record<string, unknown>>(statement: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement that writes and returns how many rows it wrote (inserted, updated or created). */
  execute(statement: string, params?: unknown[]): Promise<number>;
}

/**
 * Runs `work` in one read-write transaction on the source's Postgres database (pipelines materialise their
 * outputs there): everything it does commits together, or nothing does. Only stewards and owners write
 * to a source; the connection is the one kept at ingestion, as for reading. The transaction is REPEATABLE
 * READ, so every statement of `work` reads one snapshot: a row inserted after a pipeline checked its rules
 * cannot slip into what it then writes.
 */
export async function withSourceWriter<T>(
  ctx: ServiceContext,
  sourceId: string,
  work: (tx: SourceTransaction) => Promise<T>,
): Promise<T> {
  requireRole(ctx.principal, 'write to a source database', 'steward', 'owner');
  const { source, target } = await connectionTarget(ctx, sourceId);
  if (source.kind !== 'postgres') {
    throw new DataOpsError(
      'invalid_input',
      `source "${source.name}" is a ${source.kind} source; DataOps writes only to Postgres sources`,
    );
  }
  return reach(target, (url) =>
    onPostgres(url, (sql) =>
      sql.begin('isolation level repeatable read', async (tx) => {
        // A run compiles what people wrote (source queries, expressions): read as a gated read is.
        await tx.unsafe(readSettings);
        return work({
          query: async (statement, params = []) => (await tx.unsafe(statement, params as never[])) as never[],
          execute: async (statement, params = []) => (await tx.unsafe(statement, params as never[])).count,
        });
      }),
    ),
  ) as Promise<T>;
}

/** The source and its kept connection target; what to do when there is none. */
async function connectionTarget(ctx: ServiceContext, sourceId: string) {
  const [source] = await ctx.db
    .select({ name: sources.name, kind: sources.kind })
    .from(sources)
    .where(eq(sources.id, sourceId));
  if (!source) throw new DataOpsError('not_found', `no source with id ${sourceId}`);
  const target = ctx.secrets ? await loadSourceConnection(ctx.db, ctx.secrets, sourceId) : null;
  if (!target) {
    throw new DataOpsError(
      'unavailable',
      ctx.secrets
        ? `the connection to source "${source.name}" was not kept: ingest it again (\`dataops ingest ${source.kind} …\`) so DataOps can read its data`
        : `source "${source.name}" cannot be read: this catalog keeps no connections without DATAOPS_SECRET_KEY; set it and ingest the source again`,
    );
  }
  return { source, target };
}

async function withPostgres<T>(
  url: string,
  work: (reader: SourceReader) => Promise<T>,
  timeout?: ReadTimeout,
): Promise<T> {
  const limit = statementTimeout(timeout);
  return onPostgres(url, (sql) =>
    work({
      dialect: 'postgres',
      query: async <R>(statement: string, params: unknown[] = []) =>
        (await readAndRollBack(sql, async (tx) => {
          if (limit) {
            await tx.unsafe(readSettings);
            await tx.unsafe(limit);
          }
          return tx.unsafe(statement, params as never[]);
        })
          // Mapped here, not only around `work`, so work that handles a failed query sees what it means.
          .catch((error) => Promise.reject(timedOut(unreachable(url, error), timeout)))) as unknown as R[],
    }),
  );
}

/** Thrown to end a read's transaction with ROLLBACK (postgres.js commits one that returns). */
class RollBack {
  constructor(readonly result: unknown) {}
}

/**
 * Runs `read` in a read-only transaction that is then rolled back, never committed. READ ONLY does not stop
 * everything: Postgres lets a read-only transaction create large objects (`lo_import`, `lo_from_bytea`), so
 * whatever a statement managed to write is undone with the transaction.
 */
async function readAndRollBack<T>(sql: postgres.Sql, read: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  try {
    await sql.begin('read only', async (tx) => {
      throw new RollBack(await read(tx));
    });
  } catch (error) {
    if (error instanceof RollBack) return error.result as T;
    throw error;
  }
  throw new DataOpsError('internal', 'a read-only transaction ended without its result');
}

/**
 * One connection to a source's Postgres database for `use`, closed afterwards; a connection that cannot be
 * made is `unavailable`, with what to do.
 */
async function onPostgres<T>(url: string, use: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = await openPostgres(url, { max: 1, idle_timeout: 5 });
  try {
    return await use(sql);
  } catch (error) {
    throw unreachable(url, error);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A connection that could not be made, as `unavailable` with what to do; any other error as it is. */
function unreachable(url: string, error: unknown): unknown {
  return isConnectionFailure(error)
    ? new DataOpsError('unavailable', describeConnectionError(url, error), { cause: error })
    : error;
}

function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return /^(ECONN|ENOTFOUND|ETIMEDOUT|CONNECT_TIMEOUT|EAI_)/.test(code) || code === '28P01' || code === '3D000';
}

async function withMysql<T>(
  url: string,
  work: (reader: SourceReader) => Promise<T>,
  timeout?: ReadTimeout,
): Promise<T> {
  const target = parseMysqlUrl(url);
  const conn = await connectMysql(target);
  try {
    await conn.query('SET SESSION TRANSACTION READ ONLY');
    // MySQL bounds SELECT statements only, which are all a reader runs.
    if (timeout) {
      // MySQL names the bound MAX_EXECUTION_TIME (milliseconds); MariaDB has max_statement_time (seconds).
      await conn
        .query(`SET SESSION MAX_EXECUTION_TIME = ${Math.max(1, Math.trunc(timeout.seconds * 1000))}`)
        .catch(() => conn.query(`SET SESSION max_statement_time = ${Math.max(0.001, timeout.seconds)}`));
    }
    return await work({
      dialect: 'mysql',
      query: async <R>(statement: string, params: unknown[] = []) => {
        try {
          const [rows] = await conn.query<RowDataPacket[]>(statement, params);
          return rows as unknown as R[];
        } catch (error) {
          if ((error as { fatal?: boolean }).fatal) {
            const reason = mysqlErrorReason(error, target.password);
            throw new DataOpsError('unavailable', `lost the connection to ${target.location}: ${reason}`, {
              cause: error,
            });
          }
          throw timedOut(error, timeout);
        }
      },
    });
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

function isEmbedded(target: string): boolean {
  return target.startsWith(embeddedTargetPrefix);
}

/**
 * Runs `use` with a Postgres URL for a kept connection target: an embedded database (the demo's) runs in
 * a worker thread of its own and is reached over a private socket, like any Postgres server.
 */
function reach<T>(target: string, use: (url: string) => Promise<T>): Promise<T> {
  return isEmbedded(target) ? withEmbedded(target.slice(embeddedTargetPrefix.length), use) : use(target);
}

export { releaseEmbedded } from '../../db/embedded/shared-embedded.js';
