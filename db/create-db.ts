import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { DataOpsError } from '../core/errors.js';
import { redactUrl } from './connection-errors.js';
import { type EmbeddedServer, startEmbeddedServer } from './embedded/embedded-server.js';
import { openPostgres } from './postgres-client.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Where the catalog lives, without secrets: a URL or a directory. */
  location: string;
  /** Applies the committed migrations; safe to run at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /**
   * A `postgres://` URL for a server, a directory for the embedded database, or `memory://` for an
   * embedded database that lives only as long as the process.
   */
  target: string;
  /** Apply migrations before returning (default true). */
  migrate?: boolean;
}

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** Opens the catalog database: embedded PGlite for a directory, postgres.js for a URL. */
export async function createDb(options: CreateDbOptions): Promise<Database> {
  const database = isPostgresUrl(options.target)
    ? await openServer(options.target)
    : await openEmbedded(options.target);
  if (options.migrate !== false) {
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

/**
 * The embedded catalog. In a data directory (`dataops start`, `mcp`, every command) PGlite runs in a worker
 * thread and this thread talks to it over a private Unix socket with postgres.js, as to a server: a long
 * profile or pipeline run then holds that thread, not the one answering HTTP and MCP. `memory://` (the
 * tests) stays in this thread, where it opens in a fraction of the time a worker takes to start.
 */
async function openEmbedded(target: string): Promise<Database> {
  if (target === 'memory://') return openInProcess();
  const dataDir = path.resolve(target);
  makeDataDir(dataDir);
  const release = lockEmbedded(dataDir);
  let server: EmbeddedServer;
  try {
    server = await startEmbeddedServer(dataDir, { extensions: true, what: `the embedded catalog in ${dataDir}` });
  } catch (error) {
    release();
    throw error;
  }
  const db = drizzlePostgres({ client: server.client({ max: 10 }), schema });
  embedded.add(db);
  return {
    db: db as unknown as Db,
    driver: 'pglite',
    location: dataDir,
    migrate: () => migratePostgres(db, { migrationsFolder }),
    close: async () => {
      try {
        await server.close();
      } finally {
        release();
      }
    },
  };
}

async function openInProcess(): Promise<Database> {
  // Imported here: a command on a data directory never loads PGlite in this thread (its worker does).
  const [{ PGlite }, { pg_trgm }, { vector }, { drizzle: drizzlePglite }, { migrate: migratePglite }] =
    await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/contrib/pg_trgm'),
      import('@electric-sql/pglite-pgvector'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
  let client: InstanceType<typeof PGlite>;
  try {
    client = await PGlite.create({ extensions: { vector, pg_trgm } });
  } catch (error) {
    throw new DataOpsError('unavailable', `could not open an in-memory database: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const db = drizzlePglite({ client, schema });
  embedded.add(db);
  return {
    db: db as unknown as Db,
    driver: 'pglite',
    location: 'memory://',
    migrate: () => migratePglite(db, { migrationsFolder }),
    close: () => client.close(),
  };
}

/** The drizzle databases on an embedded PGlite, wherever it runs. */
const embedded = new WeakSet<object>();

/**
 * Whether `db` is an embedded PGlite, which runs one statement at a time for all its connections (so
 * statements gain nothing from running side by side, and a transaction has the database to itself).
 */
export function isEmbeddedDb(db: unknown): boolean {
  return typeof db === 'object' && db !== null && embedded.has(db);
}

/** Creates the embedded catalog's directory, or says in one line why it cannot be there. */
function makeDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const file = code === 'ENOTDIR' || code === 'EEXIST' ? firstFileOnPath(dataDir) : null;
    const reason = file
      ? `${file} is a file, not a directory`
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'permission denied'
        : (error as Error).message;
    throw new DataOpsError(
      'invalid_input',
      `cannot keep the embedded catalog in ${path.dirname(dataDir)}: ${reason}: give a data directory or a postgres:// URL`,
      { cause: error },
    );
  }
}

/** The first path on the way to `dir` that exists and is not a directory. */
function firstFileOnPath(dir: string): string | null {
  const parts: string[] = [];
  for (let p = dir; ; p = path.dirname(p)) {
    parts.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of parts) {
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      return null;
    }
  }
  return null;
}

/** Data directories this process holds the lock of, so a lock file naming our own pid is told apart from a stale one. */
const heldLocks = new Set<string>();

/**
 * PGlite keeps the database in memory and writes it back to the directory: two processes on one
 * directory silently lose each other's writes. An exclusive lock file beside the data (created with
 * `wx`, holding the pid) makes the second process fail instead; a lock left by a process that is gone
 * (killed, crashed) is taken over. Returns the function that releases it, also called at exit.
 */
function lockEmbedded(dataDir: string): () => void {
  const lockPath = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`);
  if (heldLocks.has(lockPath)) throw inUse(dataDir, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
      const holder = lockHolder(lockPath);
      // A pid of ours that this process does not hold is left from an earlier process that had the same pid (a container's pid 1).
      if (holder !== null && holder !== process.pid && processAlive(holder)) throw inUse(dataDir, holder);
      // No pid yet: another process created the file a moment ago and is about to write it.
      if (holder === null && lockAgeMs(lockPath) < 10_000) throw inUse(dataDir, 0);
      try {
        unlinkSync(lockPath);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
    }
  }
  heldLocks.add(lockPath);
  const release = () => {
    if (!heldLocks.delete(lockPath)) return;
    process.removeListener('exit', release);
    try {
      if (lockHolder(lockPath) === process.pid) unlinkSync(lockPath);
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return release;
}

function lockHolder(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function lockAgeMs(lockPath: string): number {
  try {
    return Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dataDir: string, pid: number): DataOpsError {
  const fix = 'stop it first, or point both at a Postgres server with DATABASE_URL';
  return new DataOpsError(
    'unavailable',
    pid === process.pid
      ? `the embedded catalog in ${dataDir} is already open in this process: close it first`
      : pid === 0
        ? `the embedded catalog in ${dataDir} is in use by another dataops process: ${fix}`
        : `the embedded catalog in ${dataDir} is in use by another dataops process (pid ${pid}): ${fix}`,
  );
}

async function openServer(url: string): Promise<Database> {
  const client = await openPostgres(url, { max: 10 });
  const db = drizzlePostgres({ client, schema });
  return {
    db: db as unknown as Db,
    driver: 'postgres',
    location: redactUrl(url),
    migrate: async () => {
      try {
        await migratePostgres(db, { migrationsFolder });
      } catch (error) {
        const message = String((error as { cause?: Error }).cause?.message ?? (error as Error).message);
        if (/extension "vector"/.test(message)) {
          throw new DataOpsError(
            'unavailable',
            `the Postgres server at ${redactUrl(url)} has no pgvector extension: install pgvector (managed Postgres services ship it) and retry`,
            { cause: error },
          );
        }
        throw error;
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function queryRows<T>(db: Pick<Db, 'execute'>, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/**
 * A text[] parameter. drizzle spreads a JS array in a `sql` template into a list, which is empty SQL
 * for an empty array; passing it as one JSON parameter works the same on every driver.
 */
export function textArray(values: string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;
}

/**
 * A set of uuids for `id in ${uuidSet(ids)}` or a join. Unlike `= any(${textArray(ids)}::uuid[])`, whose
 * cast Postgres repeats for every row it compares (rows x ids), each id is parsed once. The limit tells
 * the planner how many there are (it otherwise assumes 100 for a set-returning function).
 */
export function uuidSet(values: string[]): SQL {
  return sql`(select distinct v::uuid from jsonb_array_elements_text(${JSON.stringify(values)}::jsonb) v
    limit ${values.length})`;
}

/** A transaction handle, as passed to `db.transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
