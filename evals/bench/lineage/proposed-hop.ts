import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Principal, ServiceContext } from '../../../mcp-server/context.js';
import { visibleAssetsSql } from '../../../mcp-server/governance/access.js';
import type { Direction } from '../../../mcp-server/lineage/queries.js';
import type { EdgeKind } from '../../../mcp-server/lineage/store.js';

/**
 * What this benchmark proposes for the hop query of mcp-server/lineage/queries.ts (`hopRows`), kept here
 * only to measure it against the product on the same database (A/B). Same rows, same order. It differs in:
 *
 * 1. The frontier is a set of uuid values joined to `lineage_edges` (`join ... on e.from_asset_id = f.id`).
 *    `hopRows` passes `array(select jsonb_array_elements_text($n))::uuid[]` three times: the cast of that
 *    text[] to uuid[] is not a constant, so Postgres redoes it (frontier-many uuid parses) for every edge
 *    row it filters, and `= any()` over it is a linear search. A hop costs rows x frontier: seconds at a
 *    frontier of 1,000, minutes at 8,000.
 * 2. One `union all` branch per edge kind, each with a plain equality on its own column, so each branch
 *    is an index scan on its own index. The product's `or` also reads every edge *into* the frontier
 *    (lineage_to_idx) from the heap, only to drop the `derives` ones; with (to_asset_id, kind) the
 *    `references` branch is answered from the index alone.
 */
export function proposedHopSql(
  principal: Principal,
  frontier: string[],
  direction: Direction,
  kinds: EdgeKind[],
  asOf: Date,
): SQL {
  const at = asOf.toISOString();
  const valid = sql`e.valid_from <= ${at}::timestamptz and (e.valid_to is null or e.valid_to > ${at}::timestamptz)`;
  // derives: data flows from -> to. references: the referencing table (from) depends on the referenced (to).
  const branches: SQL[] = [];
  if (kinds.includes('derives')) {
    const near = direction === 'downstream' ? sql`e.from_asset_id` : sql`e.to_asset_id`;
    branches.push(sql`select e.id, e.from_asset_id as upstream, e.to_asset_id as downstream, e.kind, e.origin
      from f join lineage_edges e on ${near} = f.id where e.kind = 'derives' and ${valid}`);
  }
  if (kinds.includes('references')) {
    const near = direction === 'downstream' ? sql`e.to_asset_id` : sql`e.from_asset_id`;
    branches.push(sql`select e.id, e.to_asset_id as upstream, e.from_asset_id as downstream, e.kind, e.origin
      from f join lineage_edges e on ${near} = f.id where e.kind = 'references' and ${valid}`);
  }
  const far = direction === 'downstream' ? sql`downstream` : sql`upstream`;
  // The limit changes nothing but the planner's estimate: it takes a set-returning function for 100 rows,
  // and at 12k to 25k assets that estimate makes it hash a sequential scan of assets for a frontier of 5.
  return sql`with f(id) as (select distinct v::uuid from jsonb_array_elements_text(${JSON.stringify(frontier)}::jsonb) v
      limit ${frontier.length})
    select x.id, x.upstream as source, x.downstream as target, x.kind, x.origin
    from (${sql.join(branches, sql` union all `)}) x
    join assets a on a.id = x.${far}
    where ${visibleAssetsSql(principal)}
    order by a.qualified_name, x.id`;
}

const dialect = new PgDialect();

/** The text of a statement as drizzle sends it (placeholders for parameters). */
export function sqlText(query: SQL): string {
  return dialect.sqlToQuery(query).sql;
}
/** Recognises the SQL `hopRows` sends (and `hasMore`, which sends the same). */
const hopMarker = `case when e.kind = 'references' then e.to_asset_id else e.from_asset_id end as upstream`;

/** What the product's hop query was asked, read back from its SQL; null for any other statement. */
export function hopParams(
  query: SQL,
): { frontier: string[]; direction: Direction; kinds: EdgeKind[]; asOf: Date } | null {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (!text.includes(hopMarker)) return null;
  return {
    kinds: JSON.parse(String(params[0])) as EdgeKind[],
    frontier: JSON.parse(String(params[1])) as string[],
    asOf: new Date(String(params[3])),
    direction: text.includes(`(e.kind = 'derives' and e.from_asset_id = any(`) ? 'downstream' : 'upstream',
  };
}

export interface HopSwap {
  ctx: ServiceContext;
  /** Hop queries replaced so far: zero after a walk means the product's hop query changed shape. */
  replaced: number;
}

/**
 * A context whose database runs `proposedHopSql` wherever the product sends its hop query, so the real
 * `lineageImpact` and `getLineage` can be measured with the proposal and nothing else changed.
 */
export function withProposedHop(ctx: ServiceContext): HopSwap {
  const swap: HopSwap = { ctx, replaced: 0 };
  const db = new Proxy(ctx.db, {
    get(target, prop) {
      if (prop === 'execute') {
        return (query: SQL) => {
          const hop = hopParams(query);
          if (!hop) return target.execute(query);
          swap.replaced++;
          return target.execute(proposedHopSql(ctx.principal, hop.frontier, hop.direction, hop.kinds, hop.asOf));
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  swap.ctx = { ...ctx, db };
  return swap;
}

/**
 * The proposed downstream column hop (`columnHopRows`): the product matches
 * `(coalesce(c.from_asset_id, e.from_asset_id), c.from_column)` against the frontier, which no index can
 * serve, so every hop hash-joins all of column_lineage with all of lineage_edges. Two sargable branches
 * instead: mappings of the edge's own source (via lineage_from_idx, then column_lineage_edge_idx) and
 * mappings naming their asset (via an index on column_lineage (from_asset_id, from_column)).
 */
export function proposedColumnHopSql(principal: Principal, frontier: { asset: string; column: string }[], asOf: Date) {
  const at = asOf.toISOString();
  const pairs = JSON.stringify(frontier.map((f) => [f.asset, f.column]));
  const hidden = (asset: SQL, column: SQL) => sql`not exists (select 1 from columns k where k.asset_id = ${asset}
    and k.name = ${column} and k.classification > ${principal.clearance}::classification)`;
  return sql`with f(asset, name) as (select (v->>0)::uuid, v->>1 from jsonb_array_elements(${pairs}::jsonb) v),
    m(id) as (
      select c.id from f join lineage_edges e on e.from_asset_id = f.asset and e.kind = 'derives'
        join column_lineage c on c.edge_id = e.id and c.from_asset_id is null and c.from_column = f.name
      union all
      select c.id from f join column_lineage c on c.from_asset_id = f.asset and c.from_column = f.name)
    select e.id, e.from_asset_id as source, e.to_asset_id as target, e.origin,
      coalesce(c.from_asset_id, e.from_asset_id) as "columnFrom",
      c.from_column as "fromColumn", c.to_column as "toColumn",
      c.transformation_type as "transformationType", c.transformation_subtype as "transformationSubtype"
    from m join column_lineage c on c.id = m.id join lineage_edges e on e.id = c.edge_id
    join assets a on a.id = e.to_asset_id
    where e.kind = 'derives'
      and e.valid_from <= ${at}::timestamptz and (e.valid_to is null or e.valid_to > ${at}::timestamptz)
      and ${visibleAssetsSql(principal)}
      and exists (select 1 from assets a where a.id = e.from_asset_id and ${visibleAssetsSql(principal)})
      and ${hidden(sql`coalesce(c.from_asset_id, e.from_asset_id)`, sql`c.from_column`)}
      and (c.to_column is null or ${hidden(sql`e.to_asset_id`, sql`c.to_column`)})
    order by a.qualified_name, c.to_column nulls last, c.from_column`;
}

/** The index change proposed with the hop query: the two single-column edge indexes gain `kind`. */
export const compositeIndexes = {
  apply: [
    'drop index lineage_from_idx',
    'drop index lineage_to_idx',
    'create index lineage_from_idx on lineage_edges (from_asset_id, kind)',
    'create index lineage_to_idx on lineage_edges (to_asset_id, kind)',
    'create index column_lineage_from_asset_idx on column_lineage (from_asset_id, from_column)',
    'analyze lineage_edges',
    'analyze column_lineage',
  ],
};
