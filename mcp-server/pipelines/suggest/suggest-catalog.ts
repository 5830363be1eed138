import { sql } from 'drizzle-orm';
import { DataOpsError } from '../../../core/errors.js';
import { queryRows, textArray, uuidSet } from '../../../db/create-db.js';
import { searchCatalog } from '../../catalog/search.js';
import type { ServiceContext } from '../../context.js';
import { visibleAssetsSql } from '../../governance/access.js';
import { numericKind } from '../expressions.js';
import { mentions, singular, wordsOf } from './suggest-goal.js';

/**
 * What the catalog knows that a proposal needs: the tables and views a caller may see, their columns (those
 * marked above the caller's clearance left out, as everywhere), and how they join (foreign keys, and view
 * columns that carry a table's key as it is).
 */

export interface DatasetColumn {
  name: string;
  type: string;
  isPrimaryKey: boolean;
  sensitivity: string | null;
  description: string | null;
}

export interface Dataset {
  id: string;
  urn: string;
  kind: string;
  namespace: string;
  name: string;
  sourceId: string;
  description: string | null;
  tags: string[];
  domain: string | null;
  columns: DatasetColumn[];
  /** How many columns are marked above the caller's clearance (left out of `columns`). */
  hiddenColumns: number;
  /** Place in the catalog search's ranking for the words it was found by (0 is best); explicit ones rank first. */
  rank: number;
}

/** One way two datasets join: `from` columns hold the key in `to` columns (a foreign key, or a view carrying it). */
export interface KeyEdge {
  from: string;
  to: string;
  fromColumns: string[];
  toColumns: string[];
  /** `foreign key` (a constraint in the database) or `view lineage` (the view's column is the table's key). */
  how: 'foreign key' | 'view lineage';
  name: string;
}

const readable = ['table', 'view', 'materialized_view'];

/** Datasets by id, visible to the caller, readable by a pipeline (a table or view of a Postgres source). */
async function loadDatasets(ctx: ServiceContext, where: ReturnType<typeof sql>): Promise<Dataset[]> {
  const rows = await queryRows<Omit<Dataset, 'columns' | 'rank'>>(
    ctx.db,
    sql`select a.id::text, a.urn, a.kind, a.namespace, a.name, a.source_id::text as "sourceId", a.description,
          a.tags, a.domain_id as domain,
          (select count(*) from columns h where h.asset_id = a.id
            and h.classification > ${ctx.principal.clearance}::classification)::int as "hiddenColumns"
        from assets a join sources s on s.id = a.source_id
        where ${where} and ${visibleAssetsSql(ctx.principal)} and s.kind = 'postgres'
          and a.kind in ('table', 'view', 'materialized_view') and a.status = 'active'`,
  );
  if (rows.length === 0) return [];
  const columns = await queryRows<DatasetColumn & { assetId: string }>(
    ctx.db,
    sql`select c.asset_id::text as "assetId", c.name, c.data_type as type, c.is_primary_key as "isPrimaryKey",
          c.sensitivity, c.description
        from columns c
        where c.asset_id in ${uuidSet(rows.map((r) => r.id))}
          and (c.classification is null or c.classification <= ${ctx.principal.clearance}::classification)
        order by c.asset_id, c.position`,
  );
  return rows.map((r) => ({
    ...r,
    columns: columns.filter((c) => c.assetId === r.id).map(({ assetId: _, ...c }) => c),
    rank: 0,
  }));
}

/**
 * The datasets named explicitly. One the caller may not see is "no asset", worded as for one that does not
 * exist; one that is not a table or view of a Postgres source is refused with the reason.
 */
export async function explicitDatasets(ctx: ServiceContext, urns: string[]): Promise<Dataset[]> {
  const found = await loadDatasets(ctx, sql`a.urn = any(${textArray(urns)})`);
  const out: Dataset[] = [];
  for (const urn of urns) {
    const dataset = found.find((d) => d.urn === urn);
    if (dataset) {
      if (!out.includes(dataset)) out.push(dataset);
      continue;
    }
    const [other] = await queryRows<{ kind: string; source_kind: string | null; status: string }>(
      ctx.db,
      sql`select a.kind, s.kind as source_kind, a.status from assets a left join sources s on s.id = a.source_id
          where a.urn = ${urn} and ${visibleAssetsSql(ctx.principal)}`,
    );
    if (!other) {
      throw new DataOpsError('not_found', `no asset ${urn}: search the catalog with catalog_search to find its URN`);
    }
    const reason = !readable.includes(other.kind)
      ? `${urn} is a ${other.kind}, not a table or view of a database; a pipeline reads tables and views`
      : other.source_kind !== 'postgres'
        ? `${urn} is in a ${other.source_kind ?? 'file'} source; pipelines run on Postgres sources, so name a table or view of one`
        : `${urn} is ${other.status} in the catalog (its source no longer has it); name a current table or view`;
    throw new DataOpsError('invalid_input', reason);
  }
  return out;
}

/** Tables and views the catalog's own search finds for `words`, best first (visibility applied by the search). */
export async function searchDatasets(ctx: ServiceContext, words: string[], limit = 12): Promise<Dataset[]> {
  if (words.length === 0) return [];
  const result = await searchCatalog(ctx, { query: words.join(' '), limit: 25 });
  const urns = result.hits.filter((h) => readable.includes(h.kind)).map((h) => h.urn);
  const found = await loadDatasets(ctx, sql`a.urn = any(${textArray(urns)})`);
  return urns
    .map((urn, rank) => {
      const d = found.find((f) => f.urn === urn);
      return d ? { ...d, rank } : undefined;
    })
    .filter((d): d is Dataset => d !== undefined)
    .slice(0, limit);
}

/** Every readable dataset of one source the caller may see, for the join graph's intermediate tables. */
export function sourceDatasets(ctx: ServiceContext, sourceId: string): Promise<Dataset[]> {
  return loadDatasets(ctx, sql`a.source_id = ${sourceId}::uuid`);
}

/**
 * How the datasets of a source join: foreign keys (lineage edges of kind `references`, with their column
 * pairs), and a view column that is a table's primary key passed through unchanged (a DIRECT IDENTITY
 * mapping), which joins like a foreign key to that table. Only edges between `datasets` count, so a dataset
 * the caller may not see never links two others.
 */
export async function keyEdges(ctx: ServiceContext, datasets: Dataset[]): Promise<KeyEdge[]> {
  const ids = datasets.map((d) => d.id);
  if (ids.length === 0) return [];
  const rows = await queryRows<{
    edge: string;
    kind: string;
    name: string;
    from: string;
    to: string;
    from_column: string;
    to_column: string;
  }>(
    ctx.db,
    sql`select e.id::text as edge, e.kind, e.name, e.from_asset_id::text as "from", e.to_asset_id::text as "to",
          c.from_column, c.to_column
        from lineage_edges e join column_lineage c on c.edge_id = e.id
        where e.valid_to is null and e.from_asset_id in ${uuidSet(ids)}
          and e.to_asset_id in ${uuidSet(ids)} and c.to_column is not null
          and (e.kind = 'references' or (c.transformation_type = 'DIRECT' and c.transformation_subtype = 'IDENTITY'))
        order by e.kind, e.name, c.id`,
  );
  const byId = new Map(datasets.map((d) => [d.id, d]));
  const column = (assetId: string, name: string) => byId.get(assetId)?.columns.find((c) => c.name === name);
  const edges = new Map<string, KeyEdge>();
  for (const row of rows) {
    // Both columns must be ones the caller may see.
    if (!column(row.from, row.from_column) || !column(row.to, row.to_column)) continue;
    if (row.kind === 'references') {
      const edge = edges.get(row.edge) ?? {
        from: row.from,
        to: row.to,
        fromColumns: [],
        toColumns: [],
        how: 'foreign key' as const,
        name: row.name,
      };
      edge.fromColumns.push(row.from_column);
      edge.toColumns.push(row.to_column);
      edges.set(row.edge, edge);
      continue;
    }
    // A view (the edge's target) whose column is a source table's whole primary key, unchanged.
    const table = byId.get(row.from)!;
    const keys = table.columns.filter((c) => c.isPrimaryKey);
    const target = byId.get(row.to)!;
    if (target.kind === 'table' || keys.length !== 1 || keys[0]!.name !== row.from_column) continue;
    edges.set(`${row.edge}:${row.to_column}`, {
      from: row.to,
      to: row.from,
      fromColumns: [row.to_column],
      toColumns: [row.from_column],
      how: 'view lineage',
      name: `${target.name}.${row.to_column}`,
    });
  }
  return [...edges.values()];
}

/** A column that holds a date or a time. */
export function isDateColumn(c: DatasetColumn): boolean {
  return /^(date|timestamp)/.test(c.type);
}

const amountWords = new Set([
  'amount',
  'value',
  'cost',
  'price',
  'spend',
  'total',
  'obligated',
  'paid',
  'usd',
  'dollar',
  'revenue',
  'sale',
  'fee',
  'budget',
  'balance',
]);
const notNumbers = /^(text|character|char|varchar|boolean|date|time|uuid|json|bytea|interval)|\[\]$/;

/** A column that holds money or a quantity to add up: a number type (or a domain over one) with an amount-like name. */
export function isAmountColumn(c: DatasetColumn): boolean {
  if (c.isPrimaryKey || /(^|_)id$/.test(c.name) || notNumbers.test(c.type)) return false;
  const named = wordsOf(c.name).some((w) => amountWords.has(singular(w)));
  // A type the catalog names by a domain (`contracts.usd`) is a number when its name says it is an amount.
  return named && (numericKind(c.type) !== null || c.type.includes('.') || c.type === 'money');
}

/** The column that names a row of `table` for people: `<entity>_name`, `name`, `legal_name`, `title`…; never personal data. */
export function labelColumn(table: Dataset, entity: string): DatasetColumn | undefined {
  const text = table.columns.filter((c) => /^(text|character|varchar)/.test(c.type) && c.sensitivity !== 'pii');
  const preferred = [`${entity}_name`, 'name', 'legal_name', 'display_name', 'title', 'label', 'full_name'];
  for (const name of preferred) {
    const found = text.find((c) => c.name === name);
    if (found) return found;
  }
  return text.find((c) => c.name.endsWith('_name'));
}

/**
 * How well a dataset's name, tags, schema, description and columns hold `words` (and their synonyms): a name
 * word counts most. `weight` lets the word that names the measure count double.
 */
export function relevance(d: Dataset, words: string[], weight: (word: string) => number = () => 1): number {
  const name = wordsOf(d.name);
  const tags = d.tags.flatMap(wordsOf);
  const around = [...wordsOf(d.namespace), ...wordsOf(d.domain)];
  const described = wordsOf(d.description);
  const columns = d.columns.flatMap((c) => [...wordsOf(c.name), ...wordsOf(c.type)]);
  let score = 0;
  for (const word of words) {
    const found = mentions(name, word)
      ? 3
      : mentions(tags, word)
        ? 2
        : mentions(around, word) || mentions(described, word) || mentions(columns, word)
          ? 1
          : 0;
    score += found * weight(word);
  }
  // A name that is exactly what was asked for ("contracts" for "contract"), and fewer words beside the match.
  if (words.length && singular(name.join('_')) === words.map(singular).join('_')) score += 2;
  return score - 0.1 * name.filter((w) => !words.some((x) => mentions([w], x))).length;
}

/** The words of `words` a dataset holds somewhere, for the explanation. */
export function matchedWords(d: Dataset, words: string[]): string[] {
  const all = [
    ...wordsOf(d.name),
    ...d.tags.flatMap(wordsOf),
    ...wordsOf(d.namespace),
    ...wordsOf(d.domain),
    ...wordsOf(d.description),
    ...d.columns.flatMap((c) => [...wordsOf(c.name), ...wordsOf(c.type)]),
  ];
  return words.filter((w) => mentions(all, w));
}
