import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createScratchDatabase, serverUrl } from './test-db.js';

export interface DemoCatalog {
  /** What `--db` (or `openWorkspace({ db })`) takes: a scratch database's URL, or a temporary data directory. */
  db: string;
  /** Drops the catalog and the demo's own database beside it, or removes the directory. */
  cleanup(): Promise<void>;
}

/**
 * A fresh catalog for a test that loads the demo workspace: on the server when DATAOPS_TEST_DATABASE_URL
 * is set (the demo then lives in `<catalog>_demo`), else an embedded one in a temporary directory.
 */
export async function createDemoCatalog(prefix: string): Promise<DemoCatalog> {
  if (!process.env.DATAOPS_TEST_DATABASE_URL) {
    const db = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    return { db, cleanup: async () => rmSync(db, { recursive: true, force: true }) };
  }
  // A server catalog has no data directory of its own for the key that seals source connections.
  process.env.DATAOPS_SECRET_KEY ??= 'dataops test key for demo workspaces on a server catalog';
  const catalog = await createScratchDatabase(serverUrl, prefix.replace(/\W/g, '_'));
  return {
    db: catalog.url,
    cleanup: async () => {
      await catalog.drop();
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${catalog.name}_demo with (force)`);
      await admin.end();
    },
  };
}
