import { eq, inArray, sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import { columns as catalogColumns, sources } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { classificationLevels } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import { describeSourceQuery, withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { DataOpsError } from '../errors.js';
import { clearanceAllows, visibleAssetsSql } from '../governance/access.js';
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
  /** The name the query calls it by (its alias, else its own name), for whole-row references like `t` or `t.*`. */
  calledAs: string;
  /** Whether an alias renames its columns (`from t as x(a, b)`), which reaches every column by position. */
  renamesColumns: boolean;
}

/** How a query names columns, so a column above the caller's clearance cannot be read by any route. */
export interface ColumnReferences {
  /** Each column reference's parts as written: `t.name` is ['t', 'name'], `t.*` is ['t', '*'], `*` is ['*']. */
  columns: string[][];
  /** Columns named by `join … using (…)`. */
  using: string[];
  /** Whether a NATURAL join matches columns by name (every column the tables share, named or not). */
  natural: boolean;
}

/** A checked query: its text (without a trailing semicolon or comment) and what it reads. */
export interface SourceQuery {
  text: string;
  relations: ReadRelation[];
  functions: string[];
  /** Operators used (`=`, `||`, …): like a function, an operator somebody created runs its own code. */
  operators: string[];
  references: ColumnReferences;
}

const invalid = (message: string) => new DataOpsError('invalid_input', message);

/**
 * Functions that read by name what the relation check cannot see (query text, files, other databases) or
 * that act on the server; volatile functions are refused on the source as well (they may write).
 */
const refusedFunctions = /(^pg_|^dblink|_to_xml|^lo_|^ts_stat$|^ts_rewrite$|^set_config$|^current_setting$|^txid_)/;
/**
 * Functions that look up the database's own catalog by name (whether a table exists, its comments, who may
 * read it): they would tell a caller about tables and columns the catalog hides from it.
 */
const introspectionFunctions =
  /(^to_reg|_description$|^has_\w+_privilege$|^row_security_active$|^format_type$|^current_(schemas?|database|query|role|user)$|^session_user$|^version$|^inet_(client|server)_)/;
/** Casts to these types look a name up in the database's catalog (`'x.secret'::regclass`). */
const introspectionTypes = /^reg(class|collation|config|dictionary|namespace|oper|operator|proc|procedure|role|type)$/;
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
  const relations: { schema: string; name: string; location: number; calledAs: string; renamesColumns: boolean }[] = [];
  const functions = new Set<string>();
  const operators = new Set<string>();
  const references: ColumnReferences = { columns: [], using: [], natural: false };
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
      // An unqualified name is read from `public`, as Postgres's default search_path does; the query is
      // compiled with every name qualified, so no search_path or node name can make it read another table.
      relations.push({
        schema: r.schemaname ?? 'public',
        name: r.relname,
        location: r.location ?? -1,
        calledAs: r.alias?.aliasname ?? r.relname,
        renamesColumns: Boolean(r.alias?.colnames?.length),
      });
      return;
    }
    if (n.ColumnRef) {
      references.columns.push(
        ((n.ColumnRef.fields ?? []) as PgNode[]).map((f) => (f.A_Star ? '*' : String(f.String?.sval ?? ''))),
      );
    }
    if (n.JoinExpr) {
      if (n.JoinExpr.isNatural) references.natural = true;
      for (const u of (n.JoinExpr.usingClause ?? []) as PgNode[]) references.using.push(String(u.String?.sval));
    }
    // BETWEEN is written as an A_Expr named by its keywords; it stands for the built-in >= and <=.
    if (n.A_Expr?.name && !String(n.A_Expr.kind).includes('BETWEEN')) {
      const parts = (n.A_Expr.name as PgNode[]).map((p) => String(p.String?.sval));
      if (parts.length > 1 && parts.at(-2) !== 'pg_catalog') {
        throw invalid(
          `the query uses operator ${parts.join('.')}, which is not a built-in operator; a source query uses only Postgres's own operators`,
        );
      }
      operators.add(parts.at(-1)!);
    }
    if (n.TypeCast) {
      const type = ((n.TypeCast.typeName?.names ?? []) as PgNode[]).at(-1)?.String?.sval as string | undefined;
      if (type && introspectionTypes.test(type)) {
        throw invalid(
          `the query casts to ${type}, which looks names up in the database's catalog; a source query may not`,
        );
      }
    }
    if (n.FuncCall) {
      const parts = ((n.FuncCall.funcname ?? []) as PgNode[]).map((p) => String(p.String?.sval));
      const name = parts.at(-1);
      if (name) {
        if (refusedFunctions.test(name) || introspectionFunctions.test(name)) {
          throw invalid(`the query calls ${name}(), which a source query may not use`);
        }
        // Postgres writes some SQL syntax (trim(both …), extract(…)) as pg_catalog functions; any other
        // schema holds functions somebody created, which may read what the caller may not.
        if (parts.length > 1 && parts.at(-2) !== 'pg_catalog') {
          throw invalid(
            `the query calls ${parts.join('.')}(), which is not a built-in function; a source query calls only Postgres's own functions`,
          );
        }
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
  const unplaced = relations.find((_, i) => spans[i]!.end <= spans[i]!.start);
  if (unplaced) {
    // Every name is rewritten as "schema"."name" when the query is compiled; one that cannot be is refused.
    throw invalid(`write the table ${unplaced.schema}.${unplaced.name} as schema.table (optionally quoted)`);
  }
  return {
    text,
    relations: relations.map((r, i) => ({
      schema: r.schema,
      name: r.name,
      ...spans[i]!,
      calledAs: r.calledAs,
      renamesColumns: r.renamesColumns,
    })),
    functions: [...functions],
    operators: [...operators],
    references,
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

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The query as it is sent to the database: every table it reads written "schema"."name", so neither the
 * database's search_path nor a pipeline node's CTE of the same name can make it read something else.
 */
export function qualifiedQueryText(query: SourceQuery): string {
  return renameRelations(query, (schema, name) => `${quoteName(schema)}.${quoteName(name)}`);
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
 * Refuses a query that reaches a column above the caller's clearance: by name (worded as the database words a
 * column that does not exist, so the refusal tells nothing a missing column would not), or through a route
 * that takes every column of such a table: `*`, a whole-row reference, an alias renaming its columns, or a
 * NATURAL join.
 */
function refuseHiddenColumns(
  query: SourceQuery,
  tables: { namespace: string; name: string; hidden: string[]; visible: string[] }[],
): void {
  const withHidden = tables.filter((t) => t.hidden.length > 0);
  if (withHidden.length === 0) return;
  const hiddenNames = new Set(withHidden.flatMap((t) => t.hidden));
  const visibleNames = new Set(tables.flatMap((t) => t.visible));
  const named = [...query.references.columns.map((parts) => parts.at(-1)!), ...query.references.using];
  const reached = named.find((name) => hiddenNames.has(name));
  if (reached) throw invalid(`the source refused the query: column "${reached}" does not exist`);
  // The relations of such tables as the query calls them, for `t.*` and a bare `t` (a whole row).
  const hiddenRelations = query.relations.filter((r) =>
    withHidden.some((t) => t.namespace === r.schema && t.name === r.name),
  );
  const wholeRow = (parts: string[]) => {
    const last = parts.at(-1)!;
    if (last === '*') return parts.length === 1 || hiddenRelations.some((r) => r.calledAs === parts.at(-2));
    return !visibleNames.has(last) && hiddenRelations.some((r) => r.calledAs === last || r.name === last);
  };
  const whole = query.references.columns.find(wholeRow);
  const renamed = hiddenRelations.find((r) => r.renamesColumns);
  if (whole || renamed || query.references.natural) {
    const table = renamed ?? hiddenRelations.find((r) => whole && r.calledAs === whole.at(-2)) ?? hiddenRelations[0]!;
    const how = renamed
      ? 'renames its columns by position'
      : query.references.natural
        ? 'joins it NATURAL (on every column the tables share)'
        : `takes whole rows of it (${whole!.join('.')})`;
    throw invalid(
      `the query ${how}, but ${table.schema}.${table.name} has columns that are not available to you; name the columns the query needs`,
    );
  }
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
  // Columns above the caller's clearance are not there for the query, as in every other view of the asset.
  const hidden = cols.filter(
    (c) => c.classification !== null && !clearanceAllows(ctx.principal.clearance, c.classification),
  );
  const columnsOf = (assetId: string): PipelineColumn[] =>
    cols
      .filter((c) => c.assetId === assetId && !hidden.includes(c))
      .sort((a, b) => a.position - b.position)
      .map((c) => ({
        name: c.name,
        type: c.dataType,
        sensitivity: c.sensitivity,
        classification: c.classification,
        tags: c.tags,
      }));
  refuseHiddenColumns(
    query,
    assets.map((a) => ({
      ...a,
      hidden: hidden.filter((c) => c.assetId === a.id).map((c) => c.name),
      visible: columnsOf(a.id).map((c) => c.name),
    })),
  );
  await withSourceReader(ctx, source.id, async (reader) => {
    if (query.operators.length) {
      const found = await reader.query<{ oprname: string }>(
        `select o.oprname from pg_operator o join pg_namespace n on n.oid = o.oprnamespace
          where o.oprname in (select jsonb_array_elements_text($1::text::jsonb))
          group by o.oprname
         having bool_or(n.nspname = 'pg_catalog') and not bool_or(n.nspname <> 'pg_catalog')`,
        [JSON.stringify(query.operators)],
      );
      const created = query.operators.filter((o) => !found.some((f) => f.oprname === o));
      if (created.length) {
        throw invalid(
          `the query uses operator ${created.join(', ')}, which is not a built-in operator; a source query uses only Postgres's own operators`,
        );
      }
    }
    if (query.functions.length === 0) return;
    const found = await reader.query<{ proname: string; builtin: boolean; elsewhere: boolean; volatile: boolean }>(
      `select p.proname, bool_or(n.nspname = 'pg_catalog') as builtin,
              bool_or(n.nspname not in ('pg_catalog', 'information_schema')) as elsewhere,
              bool_or(n.nspname = 'pg_catalog' and p.provolatile = 'v') as volatile
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.proname in (select jsonb_array_elements_text($1::text::jsonb))
        group by p.proname`,
      [JSON.stringify(query.functions)],
    );
    // A function somebody created (or one shadowing a built-in name) may read, as its owner, what the
    // caller may not; only Postgres's own functions are called.
    const created = query.functions.filter((f) => {
      const row = found.find((r) => r.proname === f);
      return !row?.builtin || row.elsewhere;
    });
    if (created.length) {
      throw invalid(
        `the query calls ${created.map((f) => `${f}()`).join(', ')}, which ${created.length === 1 ? 'is not a built-in function' : 'are not built-in functions'}; a source query calls only Postgres's own functions`,
      );
    }
    const refused = found.filter((r) => r.volatile && !harmlessVolatile.has(r.proname)).map((r) => r.proname);
    if (refused.length) {
      throw invalid(
        `the query calls ${refused.map((f) => `${f}()`).join(', ')}, which may change data (a volatile function); a source query only reads`,
      );
    }
  });
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
