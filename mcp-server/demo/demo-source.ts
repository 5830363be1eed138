import { mkdirSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { DataOpsError } from '../../core/errors.js';
import { describeConnectionError } from '../../db/connection-errors.js';
import { acquireEmbedded } from '../../db/embedded/shared-embedded.js';
import { openPostgres } from '../../db/postgres-client.js';
import { embeddedTargetPrefix } from '../connectors/source-reader.js';

/** Where the catalog is (a runtime's StorageLocation): the demo's database goes beside it. */
export interface DemoStorage {
  catalog: string;
  dataDir: string | null;
}

export interface DemoSource {
  /** A Postgres URL the real connector reads the demo from. */
  url: string;
  /** How to reach the demo's data later: the embedded directory, or the server database's URL. */
  connection: string;
  /** Where the demo database is, in words a person can act on (printed by `dataops demo`). */
  location: string;
  /** Runs the demo's statements in one transaction. */
  load(statements: string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where the demo's own data lives: on the embedded default an embedded database of its own, in a worker
 * thread reached over a private Unix socket; beside a catalog server, a database named after the
 * catalog's with `_demo` appended, so two catalogs on one server keep their demos apart.
 */
export function openDemoSource(storage: DemoStorage): Promise<DemoSource> {
  return storage.dataDir ? openEmbeddedDemo(path.join(storage.dataDir, 'demo')) : openServerDemo(storage.catalog);
}

async function openEmbeddedDemo(dir: string): Promise<DemoSource> {
  mkdirSync(dir, { recursive: true });
  // The same worker profiles and checks use: one PGlite per directory in this process.
  const { url, release } = await acquireEmbedded(dir);
  const sql = await openPostgres(url, { max: 4 });
  return {
    url,
    connection: `${embeddedTargetPrefix}${dir}`,
    location: `the embedded database in ${dir}`,
    load: async (statements) => {
      await sql.begin(async (tx) => {
        for (const statement of statements) await tx.unsafe(statement);
      });
    },
    close: async () => {
      await sql.end();
      release();
    },
  };
}

async function openServerDemo(catalogUrl: string): Promise<DemoSource> {
  const url = new URL(catalogUrl);
  const demoDatabaseName = `${decodeURIComponent(url.pathname.slice(1)) || 'postgres'}_demo`;
  url.pathname = `/${demoDatabaseName}`;
  const admin = postgres(catalogUrl, { max: 1, onnotice: () => {} });
  let created = false;
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${demoDatabaseName}`;
    created = !exists;
    if (!exists) await admin.unsafe(`create database "${demoDatabaseName.replace(/"/g, '""')}"`);
  } catch (error) {
    throw new DataOpsError(
      'unavailable',
      `could not create the demo database ${demoDatabaseName}: ${(error as Error).message} (the catalog user needs CREATEDB)`,
      { cause: error },
    );
  } finally {
    await admin.end();
  }
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end();
    throw new DataOpsError('unavailable', describeConnectionError(url.toString(), error), { cause: error });
  }
  return {
    url: url.toString(),
    connection: url.toString(),
    location:
      `the database ${demoDatabaseName} on ${url.host} (${created ? 'created now' : 'already there'}, beside the ` +
      `catalog's database ${decodeURIComponent(new URL(catalogUrl).pathname.slice(1)) || 'postgres'})`,
    load: async (statements) => {
      await sql.begin(async (tx) => {
        for (const statement of statements) await tx.unsafe(statement);
      });
    },
    close: () => sql.end(),
  };
}
