import os from 'node:os';
import postgres from 'postgres';
import { createScratchDatabase } from '../../../db/scratch-database.js';
import { syncSource } from '../../../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../../../mcp-server/connectors/postgres/postgres-connector.js';
import type { DiscoveredAsset } from '../../../mcp-server/connectors/types.js';
import { openCatalog, type Target } from './catalog.js';
import { onCleanup } from './cleanup.js';
import { generateEstate } from './generate-estate.js';
import { formatMs, timed } from './stats.js';

export interface IngestResult {
  catalog: Target;
  tables: number;
  columns: number;
  foreignKeys: number;
  setupMs: number;
  discoverMs: number;
  /** Time of each discover() step, from its progress reports. */
  discoverPhasesMs: Record<string, number>;
  syncMs: number;
  totalMs: number;
  tablesPerSecond: number;
  /** A second syncSource of the same snapshot (nothing changed), as a nightly re-scan does. */
  resyncUnchangedMs: number;
  /** 1-minute load average before and after the timed part: the machine may be shared. */
  loadAverage: number[];
}

const discoverSteps = ['relations', 'columns', 'keys', 'types and row counts'];
const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** DDL for one table: columns, primary key, foreign keys to tables created before it, and comments. */
function tableDdl(
  asset: DiscoveredAsset,
  types: (column: string) => string,
  renamed: (name: string) => string,
): string {
  const table = `${quote(asset.namespace)}.${quote(asset.name)}`;
  const parts = asset.columns.map(
    (c) => `${quote(c.name)} ${types(c.name)}${c.isPrimaryKey ? ' primary key' : c.nullable ? '' : ' not null'}`,
  );
  for (const fk of asset.foreignKeys ?? []) {
    parts.push(
      `constraint ${quote(fk.name)} foreign key (${fk.columns.map(quote).join(', ')}) references ` +
        `${quote(fk.refNamespace)}.${quote(renamed(fk.refName))} (${fk.refColumns.map(quote).join(', ')})`,
    );
  }
  const statements = [`create table ${table} (${parts.join(', ')});`];
  if (asset.description) statements.push(`comment on table ${table} is ${literal(asset.description)};`);
  for (const c of asset.columns) {
    if (c.description) statements.push(`comment on column ${table}.${quote(c.name)} is ${literal(c.description)};`);
  }
  return statements.join('\n');
}

/** Creates `tables` realistic tables (about ten columns, some foreign keys, comments) in an empty database. */
export async function createSourceTables(url: string, tables: number, seed: number) {
  const estate = generateEstate({ assets: tables, seed, tablesOnly: true });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let columns = 0;
  let foreignKeys = 0;
  try {
    const seen = new Set<string>();
    const batches: string[] = [];
    let batch: string[] = [];
    const namespaces = new Set(estate.sources.flatMap((s) => s.assets.map((a) => a.namespace)));
    await sql.unsafe([...namespaces].map((n) => `create schema ${quote(n)};`).join('\n'));
    for (const source of estate.sources) {
      // Sources are separate systems in the generated estate; here they share one database, so a clash is renamed.
      const names = new Map<string, string>();
      for (const asset of source.assets) {
        let name = asset.name;
        if (seen.has(`${asset.namespace}.${name}`)) name = `${name}_${source.name}`;
        seen.add(`${asset.namespace}.${name}`);
        names.set(asset.name, name);
        columns += asset.columns.length;
        foreignKeys += asset.foreignKeys?.length ?? 0;
        const types = (column: string) =>
          estate.columnTypes.get(`${source.name}/${asset.namespace}.${asset.name}/${column}`) ?? 'text';
        batch.push(tableDdl({ ...asset, name }, types, (ref) => names.get(ref) ?? ref));
        if (batch.length === 200) {
          batches.push(batch.join('\n'));
          batch = [];
        }
      }
    }
    if (batch.length > 0) batches.push(batch.join('\n'));
    for (const ddl of batches) await sql.unsafe(ddl);
    return { tables: seen.size, columns, foreignKeys };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Ingestion throughput of the Postgres connector: a scratch database with `tables` tables on the server,
 * then `discover()` and `syncSource` timed separately into a fresh catalog. Both databases are dropped.
 */
export async function benchIngest(options: {
  serverUrl: string;
  tables: number;
  seed: number;
  catalog: Target;
}): Promise<IngestResult> {
  const scratch = await createScratchDatabase(options.serverUrl, 'dataops_bench_source');
  const drop = onCleanup(`database ${scratch.name}`, scratch.drop);
  try {
    console.log(`  creating ${options.tables} tables in ${scratch.name}...`);
    const setup = await timed(() => createSourceTables(scratch.url, options.tables, options.seed));
    console.log(
      `  created ${setup.result.tables} tables, ${setup.result.columns} columns, ${setup.result.foreignKeys} foreign keys in ${formatMs(setup.ms)}`,
    );
    const catalog = await openCatalog(options.catalog, options.serverUrl, 'dataops_bench_ingest');
    try {
      const loadBefore = os.loadavg()[0]!;
      const phases: Record<string, number> = {};
      let last = performance.now();
      const discovered = await timed(() =>
        createPostgresConnector({ url: scratch.url }).discover((p) => {
          const now = performance.now();
          if (p.done > 0) phases[discoverSteps[p.done - 1] ?? String(p.done)] = Math.round(now - last);
          last = now;
        }),
      );
      if (discovered.result.assets.length !== setup.result.tables) {
        throw new Error(`discover() found ${discovered.result.assets.length} of ${setup.result.tables} tables`);
      }
      console.log(`  discover(): ${formatMs(discovered.ms)}`);
      const synced = await timed(() => syncSource(catalog.ctx, discovered.result));
      console.log(
        `  syncSource into ${options.catalog} catalog: ${formatMs(synced.ms)} (${synced.result.added} added)`,
      );
      const resync = await timed(() => syncSource(catalog.ctx, discovered.result));
      console.log(`  re-sync, nothing changed: ${formatMs(resync.ms)}`);
      const totalMs = discovered.ms + synced.ms;
      return {
        catalog: options.catalog,
        ...setup.result,
        setupMs: Math.round(setup.ms),
        discoverMs: Math.round(discovered.ms),
        discoverPhasesMs: phases,
        syncMs: Math.round(synced.ms),
        totalMs: Math.round(totalMs),
        tablesPerSecond: Math.round(setup.result.tables / (totalMs / 1000)),
        resyncUnchangedMs: Math.round(resync.ms),
        loadAverage: [loadBefore, os.loadavg()[0]!].map((l) => Math.round(l * 100) / 100),
      };
    } finally {
      await catalog.dispose();
    }
  } finally {
    await drop();
  }
}
