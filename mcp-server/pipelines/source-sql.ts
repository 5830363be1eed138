import { eq, inArray, sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import { columns as catalogColumns, sources } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { classificationLevels } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import { describeSourceQuery, withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { DataOpsError } from '../errors.js';
import { visibleAssetsSql } from '../governance/access.js';
import { analyzeQuery } from '../lineage/sql-lineage.js';
import { type PgNode, parseSql, scanSql } from '../sql/parse.js';
import { derivedMetadata, type PipelineColumn } from './expressions.js';
import type { NodeConfig, PipelineGraph } from './graph.js';

/**
 * A `source_sql` node: one read-only SELECT run on a source database. What it may read is what the caller
 * may see in the catalog: every relation it names must be a table or view asset of that source visible to
 * the caller, so a query cannot reach around the catalog's classifications. Its output columns and types
 * are those the database reports for the query.
 */

/** A relation the query reads, with where its name is written (byte offsets, as the parser counts). */
export interface ReadRelation {
  schema: string;
  name: string;
  start: number;
  end: number;
}

/** A checked query: its text (without a trailing semicolon or comment) and what it reads. */
export interface SourceQuery {
  text: string;
  relations: ReadRelation[];
  functions: string[];
}

const invalid = (message: string) => new DataOpsError('invalid_input', message);

/**
 * Functions that read by name what the relation check cannot see (query text, files, other databases) or
 * that act on the server; volatile functions are refused on the source as well (they may write).
 */
const refusedFunctions = /(^pg_|^dblink|_to_xml|^lo_|^ts_stat$|^ts_rewrite$|^set_config$|^current_setting$|^txid_)/;
/** Volatile, but only draw numbers or read the clock. */
const harmlessVolatile = new Set(['random', 'gen_random_uuid', 'clock_timestamp', 'timeofday', 'statement_timestamp']);

/** Parses a query and checks it is one read-only SELECT; returns what it reads. Throws `invalid_input`. */
export async function readSourceQuery(query: string): Promise<SourceQuery> {
  const statements = await parseSql(query);
  if (statements.length !== 1) {
    throw invalid(`the query holds ${statements.length} statements; write exactly one SELECT`);
  }
  const select = statements[0]!.SelectStmt as PgNode | undefined;
  if (!select) {
    const kind = Object.keys(statements[0]!)[0]!.replace(/Stmt$/, '').toUpperCase();
    throw invalid(`the query is a ${kind} statement; a source query is one SELECT, which only reads`);
  }
  const relations: { schema: string; name: string; location: number }[] = [];
  const functions = new Set<string>();
  const visit = (node: unknown, ctes: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, ctes);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as PgNode;
    for (const kind of ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']) {
      if (n[kind])
        throw invalid(
          `the query writes (a ${kind.replace(/Stmt$/, '').toUpperCase()} inside it); a source query only reads`,
        );
    }
    if (n.intoClause) throw invalid('SELECT … INTO creates a table; a source query only reads');
    if (n.lockingClause?.length) throw invalid('FOR UPDATE/SHARE locks rows; a source query only reads');
    if (n.RangeVar) {
      const r = n.RangeVar as PgNode;
      if (r.catalogname)
        throw invalid(`name \`${r.catalogname}.${r.schemaname}.${r.relname}\` as schema.table, without the database`);
      // A name without a schema that a WITH in scope defines is that CTE, not a table.
      if (!r.schemaname && ctes.has(r.relname)) return;
      // An unqualified name is read from `public`, as Postgres's default search_path does.
      relations.push({ schema: r.schemaname ?? 'public', name: r.relname, location: r.location ?? -1 });
      return;
    }
    if (n.FuncCall) {
      const name = ((n.FuncCall.funcname ?? []) as PgNode[]).at(-1)?.String?.sval as string | undefined;
      if (name) {
        if (refusedFunctions.test(name)) throw invalid(`the query calls ${name}(), which a source query may not use`);
        functions.add(name);
      }
    }
    if (n.withClause?.ctes) {
      const entries = (n.withClause.ctes as PgNode[]).map((c) => c.CommonTableExpr as PgNode);
      const all = new Set([...ctes, ...entries.map((c) => c.ctename as string)]);
      // Without RECURSIVE, a CTE sees only those before it; a later name in its body is a table.
      let seen = new Set(ctes);
      for (const cte of entries) {
        visit(cte.ctequery, n.withClause.recursive ? all : seen);
        seen = new Set([...seen, cte.ctename]);
      }
      for (const [key, value] of Object.entries(n)) if (key !== 'withClause') visit(value, all);
      return;
    }
    for (const value of Object.values(n)) visit(value, ctes);
  };
  visit(select, new Set());
  const { text, spans } = statementText(
    query,
    relations.map((r) => r.location),
  );
  return {
    text,
    relations: relations.map((r, i) => ({ schema: r.schema, name: r.name, ...spans[i]! })),
    functions: [...functions],
  };
}

/**
 * The statement without what trails it (a semicolon, comments), and the byte span of each relation name
 * written at `locations` (`schema.table`, quoted or not), so an export can name the tables its own way.
 */
function statementText(query: string, locations: number[]) {
  const tokens = scanSql(query);
  const meaningful = tokens.filter((t) => !t.text.startsWith('--') && !t.text.startsWith('/*'));
  const last = meaningful.at(-1);
  const bytes = Buffer.from(query);
  const end = last?.text === ';' ? last.start : (last?.end ?? bytes.length);
  const spans = locations.map((location) => {
    let at = meaningful.findIndex((t) => t.start === location);
    if (at < 0) return { start: location, end: location };
    const start = meaningful[at]!.start;
    while (meaningful[at + 1]?.text === '.' && meaningful[at + 2]) at += 2;
    return { start, end: meaningful[at]!.end };
  });
  return { text: bytes.subarray(0, end).toString(), spans };
}

/** The query with every relation it reads named by `table` (an export's own way of naming source tables). */
export function renameRelations(query: SourceQuery, table: (schema: string, name: string) => string): string {
  const bytes = Buffer.from(query.text);
  const parts: Buffer[] = [];
  let at = 0;
  for (const r of [...query.relations].sort((a, b) => a.start - b.start)) {
    if (r.end <= r.start) continue;
    parts.push(bytes.subarray(at, r.start), Buffer.from(table(r.schema, r.name)));
    at = r.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString();
}

/**
 * URNs of the catalog assets the graph's source_sql nodes read (those that parse): a pipeline reading an
 * asset hidden from the caller is hidden as a whole, as for its dataset nodes.
 */
export async function sourceSqlUrns(graph: PipelineGraph): Promise<string[]> {
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
  config: NodeConfig<'source_sql'>,
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
  const wanted = [...new Set(query.relations.map((r) => assetUrn('postgres', config.source, r.schema, r.name)))];
  const assets = wanted.length
    ? await queryRows<{ id: string; urn: string; namespace: string; name: string; classification: Classification }>(
        ctx.db,
        sql`select a.id::text, a.urn, a.namespace, a.name, a.classification from assets a
            where a.urn = any(${textArray(wanted)}) and a.source_id = ${source.id}
              and a.kind in ('table', 'view', 'materialized_view') and ${visibleAssetsSql(ctx.principal)}`,
      )
    : [];
  const missing = query.relations.find((r) => !assets.some((a) => a.namespace === r.schema && a.name === r.name));
  if (missing) {
    // Worded the same whether the table does not exist or is hidden from the caller.
    throw invalid(
      `the query reads ${missing.schema}.${missing.name}, which is not a table or view of source ${config.source} in the catalog; find it with catalog_search`,
    );
  }
  const cols = assets.length
    ? await ctx.db
        .select()
        .from(catalogColumns)
        .where(
          inArray(
            catalogColumns.assetId,
            assets.map((a) => a.id),
          ),
        )
    : [];
  const columnsOf = (assetId: string): PipelineColumn[] =>
    cols
      .filter((c) => c.assetId === assetId)
      .sort((a, b) => a.position - b.position)
      .map((c) => ({
        name: c.name,
        type: c.dataType,
        sensitivity: c.sensitivity,
        classification: c.classification,
        tags: c.tags,
      }));
  const described = await withSourceReader(ctx, source.id, async (reader) => {
    if (query.functions.length) {
      const volatile = await reader.query<{ proname: string }>(
        `select distinct proname from pg_proc where provolatile = 'v' and proname in (select jsonb_array_elements_text($1::text::jsonb))`,
        [JSON.stringify(query.functions)],
      );
      const refused = volatile.map((v) => v.proname).filter((f) => !harmlessVolatile.has(f));
      if (refused.length) {
        throw invalid(
          `the query calls ${refused.map((f) => `${f}()`).join(', ')}, which may change data (a volatile function); a source query only reads`,
        );
      }
    }
    return undefined;
  }).then(() =>
    describeSourceQuery(ctx, source.id, `select * from (\n${query.text}\n) as q limit 0`).catch((error: unknown) => {
      if (error instanceof DataOpsError) throw error;
      throw invalid(`the source refused the query: ${(error as Error).message}`);
    }),
  );
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
  const columns = described.map((c, i): PipelineColumn => {
    const traced = lineage?.columns.length === described.length ? lineage.columns[i]! : undefined;
    // Without lineage for a column, it is taken to carry whatever any column read carries.
    const from = traced
      ? traced.sources.flatMap((s) => columnsOf(s.relation).filter((x) => x.name === s.column))
      : everything;
    const metadata = derivedMetadata(from);
    const marking = [metadata.classification, highest ?? null]
      .filter((m): m is Classification => m !== null)
      .sort((a, b) => classificationLevels.indexOf(b) - classificationLevels.indexOf(a))[0];
    return { name: c.name, type: c.type, ...metadata, classification: marking ?? null };
  });
  return { sourceId: source.id, query, columns, ...(highest ? { marking: highest } : {}) };
}
