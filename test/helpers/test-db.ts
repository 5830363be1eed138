import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDb, type Database } from '../../db/create-db.js';

/**
 * A fresh, migrated catalog database for one test file: an in-memory PGlite by default, or a new
 * database on the server named by DATAOPS_TEST_DATABASE_URL (dropped on close). `.ci/run` runs the
 * suite once each way.
 */
export async function createTestDb(): Promise<Database> {
  const serverUrl = process.env.DATAOPS_TEST_DATABASE_URL;
  if (!serverUrl) return createDb({ target: 'memory://' });
  const { url, drop } = await createScratchDatabase(serverUrl, 'dataops_test');
  const database = await createDb({ target: url });
  return {
    ...database,
    close: async () => {
      await database.close();
      await drop();
    },
  };
}

/** Creates an empty database on a server for a test and returns its URL and a function that drops it. */
export async function createScratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

export const serverUrl = process.env.DATAOPS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
