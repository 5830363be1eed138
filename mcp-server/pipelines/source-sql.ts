import { eq } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { sources } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { classificationLevels } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import { describeSourceQuery } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { analyzeQuery } from '../lineage/sql-lineage.js';
import { qualifiedQueryText, readSourceQuery, type SourceQuery } from '../sql/read-query.js';
import { gateSourceQuery } from '../sql/source-query-gate.js';
import { derivedMetadata, type PipelineColumn } from './expressions.js';
import type { GraphNode } from './nodes/node-module.js';

export {
  type ColumnReferences,
  qualifiedQueryText,
  type ReadRelation,
  readSourceQuery,
  renameRelations,
  type SourceQuery,
} from '../sql/read-query.js';

const invalid = (message: string) => new DataOpsError('invalid_input', message);

/**
 * A `source_sql` node: one read-only SELECT run on a source database. What it may read is what the caller
 * may see in the catalog: every relation it names must be a table or view asset of that source visible to
 * the caller, so a query cannot reach around the catalog's classifications. Its output columns and types
 * are those the database reports for the query.
 */

/**
 * URNs of the catalog assets the graph's source_sql nodes read (those that parse): a pipeline reading an
 * asset hidden from the caller is hidden as a whole, as for its dataset nodes.
 */
export async function sourceSqlUrns(graph: { nodes: GraphNode[] }): Promise<string[]> {
  const urns: string[] = [];
  for (const node of graph.nodes.filter((n) => n.type === 'source_sql')) {
    const { source, query } = node.data.config as { source?: unknown; query?: unknown };
    if (typeof source !== 'string' || typeof query !== 'string') continue;
    const read = await readSourceQuery(query).catch(() => undefined);
    for (const r of read?.relations ?? []) urns.push(assetUrn('postgres', source, r.schema, r.name));
  }
  return urns;
}

export interface AnalyzedSourceQuery {
  sourceId: string;
  query: SourceQuery;
  columns: PipelineColumn[];
  /** The highest classification of the tables read: the least marking of the output. */
  marking?: Classification;
}

/**
 * Checks a source_sql node against the catalog and the database: the source exists and is Postgres, every
 * relation is a visible table or view of it, no volatile function is called, and the database describes the
 * output. Columns carry the markings of what they are computed from (by column lineage) and at least the
 * highest classification of the tables read. Throws `invalid_input` with a sentence for the node.
 */
export async function analyzeSourceSql(
  ctx: ServiceContext,
  config: { source: string; query: string },
): Promise<AnalyzedSourceQuery> {
  const [source] = await ctx.db
    .select({ id: sources.id, kind: sources.kind })
    .from(sources)
    .where(eq(sources.name, config.source));
  if (!source) throw invalid(`no source named ${config.source}: list the sources with catalog_search`);
  if (source.kind !== 'postgres') {
    throw invalid(`source ${config.source} is a ${source.kind} source; source queries run on Postgres sources`);
  }
  const query = await readSourceQuery(config.query);
  const { assets, columnsOf } = await gateSourceQuery(ctx, { id: source.id, name: config.source }, query);
  const described = await describeSourceQuery(
    ctx,
    source.id,
    `select * from (\n${qualifiedQueryText(query)}\n) as q limit 0`,
  ).catch((error: unknown) => {
    if (error instanceof DataOpsError) throw error;
    throw invalid(`the source refused the query: ${(error as Error).message}`);
  });
  if (described.length === 0) throw invalid('the query returns no columns; select the columns the pipeline needs');
  const names = new Set<string>();
  for (const c of described) {
    if (c.name === '?column?') throw invalid('give every computed column of the query a name with `as`');
    if (names.has(c.name))
      throw invalid(`column \`${c.name}\` appears twice in the query's output; rename one with \`as\``);
    names.add(c.name);
  }
  const highest = assets
    .map((a) => a.classification)
    .sort((a, b) => classificationLevels.indexOf(b) - classificationLevels.indexOf(a))[0];
  const lineage = await analyzeQuery(query.text, ({ schema, name }) => {
    const asset = assets.find((a) => a.namespace === (schema ?? 'public') && a.name === name);
    return asset ? { id: asset.id, columns: columnsOf(asset.id).map((c) => c.name) } : undefined;
  }).catch(() => undefined);
  const everything = assets.flatMap((a) => columnsOf(a.id));
  const traced = (s: { relation: string; column: string }) => columnsOf(s.relation).filter((x) => x.name === s.column);
  // A CASE condition decides which value a computed column gets, so what it tests travels into it too (the
  // lineage keeps conditions for the query as a whole; a column passed through unchanged is not computed).
  const conditions = (lineage?.indirect ?? []).filter((s) => s.subtype === 'CONDITIONAL').flatMap(traced);
  const columns = described.map((c, i): PipelineColumn => {
    const sources = lineage?.columns.length === described.length ? lineage.columns[i]!.sources : [];
    // A column the lineage cannot trace to any column (`row_to_json(t)`, a constant under a CASE, a whole
    // row) is taken to carry whatever any column read carries, as is everything without lineage.
    const computed = sources.some((s) => s.subtype !== 'IDENTITY');
    const from = sources.length ? [...sources.flatMap(traced), ...(computed ? conditions : [])] : everything;
    const metadata = derivedMetadata(from);
    const marking = [metadata.classification, highest ?? null]
      .filter((m): m is Classification => m !== null)
      .sort((a, b) => classificationLevels.indexOf(b) - classificationLevels.indexOf(a))[0];
    return { name: c.name, type: c.type, ...metadata, classification: marking ?? null };
  });
  return { sourceId: source.id, query, columns, ...(highest ? { marking: highest } : {}) };
}
