import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** The Postgres server of a development machine (and CI): where tests and benchmarks make scratch databases by default. */
export const localServerUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates an empty database on a server (a test's, a benchmark's) and returns its URL and a function that drops it. */
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
