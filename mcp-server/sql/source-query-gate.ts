import { inArray, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, textArray } from '../../db/create-db.js';
import { columns as catalogColumns } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import { describeTimeout, type SourceReader, withSourceReader } from '../connectors/source-reader.js';
import type { Principal, ServiceContext } from '../context.js';
import { clearanceAllows, visibleAssetsSql } from '../governance/access.js';
import { allowedFunctions, harmlessVolatile } from './allowed-functions.js';
import { qualifiedQueryText, type ReadRelation, type SourceQuery } from './read-query.js';

/**
 * The one gate for SQL a person writes against a source (a pipeline's source query, a dbt test kept as a
 * quality rule): it may read only tables and views of that source the principal may see in the catalog,
 * no column above the principal's clearance by any route, and call only Postgres's own functions from the
 * allow-list (allowed-functions.ts), never a volatile one that may write.
 */

const invalid = (message: string) => new DataOpsError('invalid_input', message);

/** A column of a table the query reads, as the catalog describes it. */
export interface GatedColumn {
  name: string;
  type: string;
  sensitivity: string | null;
  classification: Classification | null;
  tags: string[];
}

export interface GatedAsset {
  id: string;
  urn: string;
  namespace: string;
  name: string;
  classification: Classification;
}

export interface GatedQuery {
  assets: GatedAsset[];
  /** The columns of an asset read that the principal may see, in table order. */
  columnsOf: (assetId: string) => GatedColumn[];
}

/**
 * Checks a parsed query (readSourceQuery) against the catalog as `principal` sees it and against the source's
 * own catalog of functions and operators (through `reader`, or a connection opened for it). Throws
 * `invalid_input` with a sentence; a table hidden from the principal is worded as one that does not exist.
 */
export async function gateSourceQuery(
  ctx: ServiceContext,
  source: { id: string; name: string },
  query: SourceQuery,
  options: { principal?: Principal; reader?: SourceReader } = {},
): Promise<GatedQuery> {
  const principal = options.principal ?? ctx.principal;
  const wanted = [...new Set(query.relations.map((r) => assetUrn('postgres', source.name, r.schema, r.name)))];
  const assets = wanted.length
    ? await queryRows<{ id: string; urn: string; namespace: string; name: string; classification: Classification }>(
        ctx.db,
        sql`select a.id::text, a.urn, a.namespace, a.name, a.classification from assets a
            where a.urn = any(${textArray(wanted)}) and a.source_id = ${source.id}
              and a.kind in ('table', 'view', 'materialized_view') and ${visibleAssetsSql(principal)}`,
      )
    : [];
  const missing = query.relations.find((r) => !assets.some((a) => a.namespace === r.schema && a.name === r.name));
  if (missing) {
    // Worded the same whether the table does not exist or is hidden from the caller.
    throw invalid(
      `the query reads ${missing.schema}.${missing.name}, which is not a table or view of source ${source.name} in the catalog; find it with catalog_search`,
    );
  }
  const cols = await catalogColumnsOf(
    ctx,
    assets.map((a) => a.id),
  );
  // Columns above the caller's clearance are not there for the query, as in every other view of the asset.
  const hidden = cols.filter(
    (c) => c.classification !== null && !clearanceAllows(principal.clearance, c.classification),
  );
  const columnsOf = (assetId: string): GatedColumn[] =>
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
  const tables = assets.map((a) => ({
    ...a,
    hidden: hidden.filter((c) => c.assetId === a.id).map((c) => c.name),
    visible: columnsOf(a.id).map((c) => c.name),
  }));
  refuseHiddenColumns(query, tables);
  // Each relation is run as a projection of the columns the caller may see (read-query.ts, qualifiedQueryText);
  // read again by someone else (a rule's author), it keeps only what both may see.
  for (const r of query.relations) {
    const table = tables.find((t) => t.namespace === r.schema && t.name === r.name)!;
    r.visible = r.visible ? table.visible.filter((c) => r.visible!.includes(c)) : table.visible;
  }
  const check = async (reader: SourceReader) => {
    await checkBuiltins(reader, query);
    await checkDescendants(ctx, reader, source, query, principal);
    await planQuery(reader, query);
  };
  if (options.reader) await check(options.reader);
  else await withSourceReader(ctx, source.id, check, describeTimeout);
  return { assets, columnsOf };
}

/** Refuses operators and functions that are not Postgres's own, volatile ones, and any not on the allow-list. */
async function checkBuiltins(reader: SourceReader, query: SourceQuery): Promise<void> {
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
  const unlisted = query.functions.filter((f) => !allowedFunctions.has(f));
  if (unlisted.length) {
    throw invalid(
      `the query calls ${unlisted.map((f) => `${f}()`).join(', ')}, which a source query may not use; it may call Postgres's functions on text, numbers, dates, JSON and arrays, and aggregates and window functions`,
    );
  }
}

/** Postgres's wording for a column that is not there, for a hidden one too (the refusal tells nothing more). */
const noSuchColumn = (parts: string[]) =>
  invalid(
    `the source refused the query: column ${parts.length === 1 ? `"${parts[0]}"` : parts.join('.')} does not exist`,
  );

/**
 * Refuses a query that reaches a column above the caller's clearance: by name (worded as the database words a
 * column that does not exist, so the refusal tells nothing a missing column would not), or through a route
 * that takes every column of such a table: `*`, a whole-row reference (of a table or of a join's alias), an
 * alias renaming its columns, or a NATURAL join. And `t.f` where `f` is not a column of table `t` the caller
 * may see: Postgres reads it as the function call `f(t)` on the whole row.
 */
function refuseHiddenColumns(
  query: SourceQuery,
  tables: { namespace: string; name: string; hidden: string[]; visible: string[] }[],
): void {
  const tableOf = (r: ReadRelation) => tables.find((t) => t.namespace === r.schema && t.name === r.name)!;
  const named = (parts: string[]) =>
    query.relations.filter(
      (r) => r.calledAs === parts.at(-2) && (parts.length < 3 || (!r.aliased && r.schema === parts.at(-3))),
    );
  const hiddenNames = new Set(tables.flatMap((t) => t.hidden));
  const knownNames = new Set([...tables.flatMap((t) => t.visible), ...query.references.defined]);
  const joins = new Set(query.references.joinAliases);
  for (const parts of query.references.columns) {
    const last = parts.at(-1)!;
    if (hiddenNames.has(last)) throw noSuchColumn(parts);
    if (parts.length < 2 || last === '*') continue;
    const relations = named(parts);
    // A name the query defines may be a column of a subquery called like a table elsewhere in the query; the
    // table itself runs as a projection of its visible columns, so `f(t)` would see only those anyway.
    const defined = query.references.defined.includes(last);
    if (relations.length && !defined && !relations.some((r) => tableOf(r).visible.includes(last))) {
      throw noSuchColumn(parts);
    }
    if (!relations.length && joins.has(parts.at(-2)!) && !knownNames.has(last)) throw noSuchColumn(parts);
  }
  for (const name of query.references.using) if (hiddenNames.has(name)) throw noSuchColumn([name]);
  const withHidden = tables.filter((t) => t.hidden.length > 0);
  if (withHidden.length === 0) return;
  // The relations of such tables as the query calls them, for `t.*` and a bare `t` (a whole row).
  const hiddenRelations = query.relations.filter((r) => tableOf(r).hidden.length > 0);
  const wholeRow = (parts: string[]) => {
    const last = parts.at(-1)!;
    if (last === '*') {
      if (parts.length === 1 || joins.has(parts.at(-2)!)) return true;
      return hiddenRelations.some((r) => r.calledAs === parts.at(-2));
    }
    if (parts.length > 1) return false;
    // A bare name is a column when the table it could be the row of has one so called, else the whole row.
    if (joins.has(last) && !knownNames.has(last)) return true;
    return hiddenRelations.some((r) => r.calledAs === last && !tableOf(r).visible.includes(last));
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
 * Inheritance children and partitions of a table read: reading a parent reads them too. A child the caller
 * may not see (a hidden asset, one the catalog does not know, or one hiding a column the query reads) is left
 * out by reading ONLY the parent; a partitioned table, which holds no rows of its own, is refused.
 */
async function checkDescendants(
  ctx: ServiceContext,
  reader: SourceReader,
  source: { id: string; name: string },
  query: SourceQuery,
  principal: Principal,
): Promise<void> {
  const parents = query.relations.filter((r) => !r.only);
  if (parents.length === 0) return;
  const found = await reader.query<{
    parent_schema: string;
    parent_name: string;
    partitioned: boolean;
    schema: string;
    name: string;
  }>(
    `with recursive d(parent, child) as (
        select i.inhparent, i.inhrelid from pg_catalog.pg_inherits i
         where i.inhparent in (select c.oid from pg_catalog.pg_class c
                                 join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                                 join pg_catalog.jsonb_to_recordset($1::text::jsonb) as r(schema text, name text)
                                   on r.schema = n.nspname and r.name = c.relname)
        union all
        select d.parent, i.inhrelid from d join pg_catalog.pg_inherits i on i.inhparent = d.child)
      select pn.nspname as parent_schema, pc.relname as parent_name, pc.relkind = 'p' as partitioned,
             cn.nspname as schema, cc.relname as name
        from d join pg_catalog.pg_class pc on pc.oid = d.parent
        join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
        join pg_catalog.pg_class cc on cc.oid = d.child
        join pg_catalog.pg_namespace cn on cn.oid = cc.relnamespace`,
    [JSON.stringify(parents.map((r) => ({ schema: r.schema, name: r.name })))],
  );
  if (found.length === 0) return;
  const urns = [...new Set(found.map((f) => assetUrn('postgres', source.name, f.schema, f.name)))];
  const visible = await queryRows<{ id: string; namespace: string; name: string }>(
    ctx.db,
    sql`select a.id::text, a.namespace, a.name from assets a
        where a.urn = any(${textArray(urns)}) and a.source_id = ${source.id} and ${visibleAssetsSql(principal)}`,
  );
  const cols = await catalogColumnsOf(
    ctx,
    visible.map((a) => a.id),
  );
  const hiddenIn = (assetId: string) =>
    cols
      .filter(
        (c) =>
          c.assetId === assetId && c.classification !== null && !clearanceAllows(principal.clearance, c.classification),
      )
      .map((c) => c.name);
  for (const r of parents) {
    const children = found.filter((f) => f.parent_schema === r.schema && f.parent_name === r.name);
    const unavailable = children.some((c) => {
      const asset = visible.find((a) => a.namespace === c.schema && a.name === c.name);
      return !asset || hiddenIn(asset.id).some((name) => (r.visible ?? []).includes(name));
    });
    if (!unavailable) continue;
    if (children.some((c) => c.partitioned)) {
      throw invalid(
        `${r.schema}.${r.name} is partitioned and some of its partitions are not available to you; read the partitions you may see by name`,
      );
    }
    r.withoutChildren = true;
  }
}

/**
 * Plans the query on the source (no rows read), so a column or table the database does not know is refused
 * when the SQL is written, worded as the database words it, as a hidden one is.
 */
async function planQuery(reader: SourceReader, query: SourceQuery): Promise<void> {
  await reader.query(`select * from (\n${qualifiedQueryText(query)}\n) as q limit 0`).catch((error: unknown) => {
    if (error instanceof DataOpsError) throw error;
    throw invalid(`the source refused the query: ${(error as Error).message}`);
  });
}

/** The catalog's columns of these assets (none for none). */
async function catalogColumnsOf(
  ctx: ServiceContext,
  assetIds: string[],
): Promise<(typeof catalogColumns.$inferSelect)[]> {
  return assetIds.length ? ctx.db.select().from(catalogColumns).where(inArray(catalogColumns.assetId, assetIds)) : [];
}
