import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openWorkspace, type Workspace } from '../../cli/workspace.js';
import { queryRows } from '../../db/create-db.js';
import { assetUrn } from '../../mcp-server/catalog/urn.js';
import { loadDemo } from '../../mcp-server/demo/load-demo.js';
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

/** The URN of a table of the demo database, e.g. `demoUrn('contracts.payments')`. */
export function demoUrn(qualifiedName: string): string {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
}

export interface DemoWorkspace {
  ws: Workspace;
  /** The catalog source of the demo database (where pipelines over it run). */
  sourceId: string;
  /** The catalog, as `--db` takes it (for a CLI run once the workspace is closed). */
  db: string;
  /** Lets go of the catalog (an embedded one is one process's at a time); once only, whatever calls it. */
  closeWorkspace(): Promise<void>;
  /** Closes the workspace and drops what createDemoCatalog made. */
  close(): Promise<void>;
}

/** A workspace over a fresh catalog with the demo loaded, as `dataops start` makes it on first start. */
export async function openDemoWorkspace(prefix: string): Promise<DemoWorkspace> {
  const catalog = await createDemoCatalog(prefix);
  const ws = await openWorkspace({ db: catalog.db });
  let open = true;
  const closeWorkspace = async () => {
    if (open) await ws.close();
    open = false;
  };
  const close = async () => {
    await closeWorkspace();
    await catalog.cleanup();
  };
  try {
    // Pipeline tests suggest their own pipelines from the demo goals; the demo's saved one would share a name.
    await loadDemo(ws, () => {}, { pipelines: false });
    const [payments] = await queryRows<{ id: string }>(
      ws.database.db,
      sql`select source_id::text as id from assets where urn = ${demoUrn('contracts.payments')}`,
    );
    return { ws, sourceId: payments!.id, db: catalog.db, closeWorkspace, close };
  } catch (error) {
    await close();
    throw error;
  }
}
