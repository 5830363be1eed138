import { eq, sql } from 'drizzle-orm';
import { type Db, queryRows, textArray } from '../../db/create-db.js';
import { sources } from '../../db/schema/index.js';
import { assetUrn } from '../catalog/urn.js';
import type { PipelineAnalysis } from './analysis.js';
import { postgresDialect } from './dialect.js';
import type { NodeConfig } from './nodes/index.js';

/**
 * The tables a pipeline may write (issue 12): a table that does not exist yet, or one this pipeline wrote in an
 * earlier committed run. A name that exists anywhere else (a source table, another pipeline's output, a
 * catalogued asset whatever its marking) is refused with one wording, so the refusal says "taken" and never
 * whether the caller may see what took it: a hidden asset reads like any other existing table. System schemas
 * are never written.
 */

/** A table a run writes, and what for (a destination's mode, or a quarantine). */
export interface WrittenTable {
  nodeId: string;
  schema: string;
  table: string;
  use: string;
}

/** Every table a run of `analysis` writes in an environment, destinations first, through `tableOf`. */
export function writtenTables(
  analysis: PipelineAnalysis,
  tableOf: (placed: { schema: string; table: string }) => { schema: string; table: string },
): WrittenTable[] {
  const out: WrittenTable[] = [];
  for (const [nodeId, node] of analysis.nodes) {
    if (node.type === 'destination_table') {
      const config = node.config as NodeConfig<'destination_table'>;
      out.push({ nodeId, ...tableOf(config), use: `${config.mode} table` });
    }
  }
  for (const [nodeId, node] of analysis.nodes) {
    if (node.quarantine) out.push({ nodeId, ...tableOf(node.quarantine), use: 'quarantine table' });
  }
  return out;
}

/**
 * The tables (`schema.table`) this pipeline has written: destinations and quarantine tables of its runs that
 * committed (succeeded, or failed only while publishing, after the tables were written).
 */
export async function tablesWrittenBy(db: Db, pipelineId: string): Promise<Set<string>> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`with committed as (select stats from pipeline_runs
          where pipeline_id = ${pipelineId}::uuid and (status = 'succeeded' or stats->'published' is not null))
        select d.value->>'table' as name from committed c, jsonb_each(c.stats->'destinations') d
        union select q.value as name from committed c, jsonb_each_text(c.stats->'quarantineTables') q`,
  );
  return new Set(rows.map((r) => r.name));
}

/**
 * The names (`schema.table`) among `tables` that the catalog has an asset for in the source, whoever may see
 * it: a publication would take that asset over. Read without the caller's visibility on purpose, and only
 * ever answered as "taken", never as what the asset is.
 */
export async function cataloguedTables(db: Db, sourceId: string, tables: WrittenTable[]): Promise<Set<string>> {
  const [source] = await db
    .select({ kind: sources.kind, name: sources.name })
    .from(sources)
    .where(eq(sources.id, sourceId));
  if (!source || tables.length === 0) return new Set();
  const byUrn = new Map(tables.map((t) => [assetUrn(source.kind, source.name, t.schema, t.table), t]));
  const rows = await queryRows<{ urn: string }>(
    db,
    sql`select urn from assets where urn = any(${textArray([...byUrn.keys()])})`,
  );
  return new Set(rows.map((r) => `${byUrn.get(r.urn)!.schema}.${byUrn.get(r.urn)!.table}`));
}

/** What a check of the source database needs: one statement with parameters (a reader or a run's transaction). */
export interface Queryable {
  query<T = Record<string, unknown>>(statement: string, params?: unknown[]): Promise<T[]>;
}

/**
 * Why `target` may not be written, or null: it is neither new nor this pipeline's own. `catalogued` are the
 * names the catalog already has; the source database is asked about the rest.
 */
export async function takenTableProblem(
  db: Queryable,
  target: WrittenTable,
  own: Set<string>,
  catalogued: Set<string>,
): Promise<string | null> {
  const name = `${target.schema}.${target.table}`;
  if (own.has(name)) return null;
  if (!catalogued.has(name)) {
    const q = postgresDialect.quote;
    const [existing] = await db.query<{ found: boolean }>('select to_regclass($1) is not null as found', [
      `${q(target.schema)}.${q(target.table)}`,
    ]);
    if (!existing!.found) return null;
  }
  const fix =
    target.use === 'quarantine table'
      ? 'name a table that does not exist yet in the node’s quarantineTable'
      : 'write to a table that does not exist yet: the pipeline creates it, and later runs may replace, append or upsert into it';
  // One wording whatever took the name, seen or not: "exists" is all a caller learns.
  return `node \`${target.nodeId}\` may not use ${name} as its ${target.use}: the table exists and this pipeline did not write it in an earlier successful run (it may be a source table or another pipeline's output); ${fix}`;
}
