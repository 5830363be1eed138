import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { DataOpsError } from '../mcp-server/errors.js';
import { describeConnectionError, redactUrl } from './connection-errors.js';
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

async function openEmbedded(target: string): Promise<Database> {
  const inMemory = target === 'memory://';
  if (!inMemory) mkdirSync(target, { recursive: true });
  let client: PGlite;
  try {
    client = await PGlite.create({ dataDir: inMemory ? undefined : target, extensions: { vector, pg_trgm } });
  } catch (error) {
    throw new DataOpsError(
      'unavailable',
      `could not open the embedded database in ${target}: ${(error as Error).message}. Is another dataops process using it?`,
      { cause: error },
    );
  }
  const db = drizzlePglite({ client, schema });
  return {
    db: db as unknown as Db,
    driver: 'pglite',
    location: inMemory ? 'memory://' : path.resolve(target),
    migrate: () => migratePglite(db, { migrationsFolder }),
    close: () => client.close(),
  };
}

async function openServer(url: string): Promise<Database> {
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 });
    throw new DataOpsError('unavailable', describeConnectionError(url, error), { cause: error });
  }
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
