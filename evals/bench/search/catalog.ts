import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createDb, type Database, queryRows } from '../../../db/create-db.js';
import { createScratchDatabase } from '../../../db/scratch-database.js';
import { type SyncSummary, syncSource } from '../../../mcp-server/catalog/sync.js';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { benchContext } from '../bench-runtime.js';
import { onCleanup } from './cleanup.js';
import type { Estate } from './generate-estate.js';
import { formatMs, timed } from './stats.js';

export type Target = 'server' | 'pglite';

export interface Catalog {
  target: Target;
  database: Database;
  ctx: ServiceContext;
  /** Closes the connection and drops the scratch database or directory. */
  dispose(): Promise<void>;
}

/** A fresh, migrated catalog: a scratch database on the server, or PGlite in a temporary directory (as installed). */
export async function openCatalog(target: Target, serverUrl: string, prefix: string): Promise<Catalog> {
  let dispose: () => Promise<void>;
  let database: Database;
  if (target === 'server') {
    const scratch = await createScratchDatabase(serverUrl, prefix);
    const drop = onCleanup(`database ${scratch.name}`, scratch.drop);
    try {
      database = await createDb({ target: scratch.url });
    } catch (error) {
      await drop();
      throw error;
    }
    const close = onCleanup(`connection to ${scratch.name}`, () => database.close());
    dispose = async () => {
      await close();
      await drop();
    };
  } else {
    const dir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
    const remove = onCleanup(`directory ${dir}`, () => rm(dir, { recursive: true, force: true }));
    try {
      database = await createDb({ target: dir });
    } catch (error) {
      await remove();
      throw error;
    }
    const close = onCleanup(`PGlite in ${dir}`, () => database.close());
    dispose = async () => {
      await close();
      await remove();
    };
  }
  return { target, database, ctx: await benchContext(database), dispose };
}

export interface LoadResult {
  sources: number;
  assets: number;
  columns: number;
  ms: number;
  assetsPerSecond: number;
  perSource: { source: string; assets: number; ms: number }[];
}

/** Loads the estate through the real `syncSource` path, one transaction per source. */
export async function loadEstate(catalog: Catalog, estate: Estate): Promise<LoadResult> {
  const perSource: LoadResult['perSource'] = [];
  let assets = 0;
  let columns = 0;
  const start = performance.now();
  for (const snapshot of estate.sources) {
    const { result, ms } = await timed<SyncSummary>(() => syncSource(catalog.ctx, snapshot));
    if (result.added !== snapshot.assets.length) {
      throw new Error(`syncSource added ${result.added} of ${snapshot.assets.length} assets of ${snapshot.name}`);
    }
    assets += result.added;
    columns += snapshot.assets.reduce((n, a) => n + a.columns.length, 0);
    perSource.push({ source: snapshot.name, assets: result.added, ms: Math.round(ms) });
    console.log(`    ${snapshot.name.padEnd(12)} ${String(result.added).padStart(6)} assets  ${formatMs(ms)}`);
  }
  const ms = performance.now() - start;
  return {
    sources: estate.sources.length,
    assets,
    columns,
    ms: Math.round(ms),
    assetsPerSecond: Math.round(assets / (ms / 1000)),
    perSource,
  };
}

/** Row counts and on-disk sizes of the catalog's big tables and search indexes. */
export async function catalogSizes(catalog: Catalog): Promise<Record<string, string>> {
  const rows = await queryRows<{ name: string; size: string }>(
    catalog.database.db,
    sql`select c.relname as name, pg_size_pretty(pg_total_relation_size(c.oid)) as size
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname in ('assets', 'columns', 'assets_search_idx', 'assets_name_trgm_idx',
        'assets_embedding_idx')`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.size]));
}
