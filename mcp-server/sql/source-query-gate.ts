import { inArray, sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import { columns as catalogColumns } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import { type SourceReader, withSourceReader } from '../connectors/source-reader.js';
import type { Principal, ServiceContext } from '../context.js';
import { DataOpsError } from '../errors.js';
import { clearanceAllows, visibleAssetsSql } from '../governance/access.js';
import { allowedFunctions, harmlessVolatile } from './allowed-functions.js';
import type { SourceQuery } from './read-query.js';

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
  refuseHiddenColumns(
    query,
    assets.map((a) => ({
      ...a,
      hidden: hidden.filter((c) => c.assetId === a.id).map((c) => c.name),
      visible: columnsOf(a.id).map((c) => c.name),
    })),
  );
  const check = (reader: SourceReader) => checkBuiltins(reader, query);
  if (options.reader) await check(options.reader);
  else await withSourceReader(ctx, source.id, check);
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
