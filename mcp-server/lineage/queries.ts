import { type SQL, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, uuidSet } from '../../db/create-db.js';
import type { AssetKind } from '../../db/schema/catalog.js';
import type { Classification } from '../../db/schema/types.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import type { LineageColumnEdge, LineageGraph, LineageGraphEdge, LineageGraphNode, TruncatedBy } from './graph.js';
import { layoutLineage } from './layout.js';
import type { EdgeKind, TransformationSubtype, TransformationType } from './store.js';

/**
 * Walking the lineage graph, one query per hop. Edges point from what is depended on to what depends
 * on it: for `derives` the data flows from -> to; for `references` (a foreign key) the referencing table
 * depends on the referenced one. A hop reaches only assets the caller may see, and the walk never passes
 * through a hidden asset, so nothing beyond one is revealed either.
 */

export type Direction = 'upstream' | 'downstream';

export interface WalkOptions {
  depth: number;
  asOf: Date;
  maxNodes: number;
  /** Stop when this time (ms since epoch) has passed and report the walk as partial. */
  deadline?: number;
  kinds: EdgeKind[];
}

export interface WalkedEdge {
  id: string;
  /** Upstream end. */
  source: string;
  /** Downstream end. */
  target: string;
  kind: EdgeKind;
  origin: string;
}

export interface Walk {
  /** Asset id -> hops from the start (negative upstream). */
  layers: Map<string, number>;
  edges: Map<string, WalkedEdge>;
  truncated: boolean;
  /** Why the walk was cut short: more lineage beyond its depth, or the node or time limit. */
  truncatedBy?: TruncatedBy;
  /** Asset id -> the edge the walk first reached it by. */
  reachedBy: Map<string, WalkedEdge>;
  /** For a column walk: the columns reached in each asset. */
  columns?: Map<string, Set<string>>;
}

/** Breadth-first walk from `start` in one direction, over edges valid at `asOf`. */
export async function walk(
  ctx: ServiceContext,
  start: string,
  direction: Direction,
  options: WalkOptions,
): Promise<Walk> {
  const layers = new Map([[start, 0]]);
  const edges = new Map<string, WalkedEdge>();
  const reachedBy = new Map<string, WalkedEdge>();
  let truncated = false;
  let beyondDepth = false;
  const sign = direction === 'upstream' ? -1 : 1;
  const finished = await withinBudget(ctx, options, async (query) => {
    let frontier = [start];
    for (let hop = 1; hop <= options.depth && frontier.length > 0; hop++) {
      const rows = await query<WalkedEdge>(hopSql(ctx, frontier, direction, options));
      const next: string[] = [];
      for (const row of rows) {
        const far = direction === 'downstream' ? row.target : row.source;
        if (!layers.has(far)) {
          if (layers.size >= options.maxNodes) {
            truncated = true;
            continue;
          }
          layers.set(far, sign * hop);
          reachedBy.set(far, row);
          next.push(far);
        }
        if (layers.has(far)) edges.set(row.id, row);
      }
      frontier = next;
      if (hop === options.depth && frontier.length > 0) {
        beyondDepth = (await query(hopSql(ctx, frontier, direction, options, 1))).length > 0;
      }
    }
  });
  const truncatedBy = truncated || !finished ? 'size' : beyondDepth ? 'depth' : undefined;
  return { layers, edges, truncated: truncatedBy !== undefined, truncatedBy, reachedBy };
}

type BudgetedQuery = <T>(query: SQL) => Promise<T[]>;

/**
 * Runs a walk's queries so that none outlives the deadline: each is given what is left of the budget as
 * its statement timeout (in a transaction of its own, so the setting goes with it). Resolves false when
 * the budget ran out, before a query or during one; what the walk found by then stands.
 */
async function withinBudget(
  ctx: ServiceContext,
  options: WalkOptions,
  work: (query: BudgetedQuery) => Promise<void>,
): Promise<boolean> {
  const { deadline } = options;
  if (deadline === undefined) {
    await work((query) => queryRows(ctx.db, query));
    return true;
  }
  const spent = new Error('lineage walk budget spent');
  try {
    await ctx.db.transaction(async (tx) => {
      await work(async <T>(query: SQL) => {
        const left = Math.ceil(deadline - Date.now());
        if (left <= 0) throw spent;
        try {
          // Sent together: the connection runs them in order, and the setting costs no round trip of its own.
          const [, rows] = await Promise.all([
            tx.execute(sql`select set_config('statement_timeout', ${String(left)}, true)`),
            queryRows<T>(tx, query),
          ]);
          return rows;
        } catch (error) {
          throw isCancelled(error) ? spent : error;
        }
      });
    });
    return true;
  } catch (error) {
    if (error === spent) return false;
    throw error;
  }
}

/** Postgres cancelled the statement (statement_timeout: SQLSTATE 57014), possibly wrapped by the ORM. */
function isCancelled(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '57014') return true;
  }
  return false;
}

/**
 * One hop: the edges from the frontier to assets the caller may see, in a stable order. One branch per
 * edge kind, each an index scan on its own (asset, kind) index; for `derives` data flows from -> to, for
 * `references` the referencing table (from) depends on the referenced one (to). With `limit`, only
 * whether there is any.
 */
function hopSql(ctx: ServiceContext, frontier: string[], direction: Direction, options: WalkOptions, limit?: number) {
  const valid = validAt(options.asOf);
  const branches: SQL[] = [];
  if (options.kinds.includes('derives')) {
    const near = direction === 'downstream' ? sql`e.from_asset_id` : sql`e.to_asset_id`;
    branches.push(sql`select e.id, e.from_asset_id as upstream, e.to_asset_id as downstream, e.kind, e.origin
      from f join lineage_edges e on ${near} = f.id where e.kind = 'derives' and ${valid}`);
  }
  if (options.kinds.includes('references')) {
    const near = direction === 'downstream' ? sql`e.to_asset_id` : sql`e.from_asset_id`;
    branches.push(sql`select e.id, e.to_asset_id as upstream, e.from_asset_id as downstream, e.kind, e.origin
      from f join lineage_edges e on ${near} = f.id where e.kind = 'references' and ${valid}`);
  }
  const far = direction === 'downstream' ? sql`downstream` : sql`upstream`;
  return sql`with f(id) as ${uuidSet(frontier)}
    select x.id, x.upstream as source, x.downstream as target, x.kind, x.origin
    from (${sql.join(branches, sql` union all `)}) x
    join assets a on a.id = x.${far}
    where ${visibleAssetsSql(ctx.principal)}
    ${limit ? sql`limit ${limit}` : sql`order by a.qualified_name, x.id`}`;
}

export interface LineageRequest {
  urn: string;
  direction?: Direction | 'both';
  depth?: number;
  column?: string | null;
  asOf?: Date;
  maxNodes?: number;
  includeReferences?: boolean;
}

export const maxDepth = 20;

/** The lineage graph around an asset (or one of its columns), laid out for display. */
export async function getLineage(ctx: ServiceContext, request: LineageRequest): Promise<LineageGraph> {
  const asset = await findVisibleAsset(ctx, request.urn);
  const direction = request.direction ?? 'both';
  const depth = checkDepth(request.depth ?? 3);
  const asOf = request.asOf ?? ctx.clock();
  const options: WalkOptions = {
    depth,
    asOf,
    maxNodes: request.maxNodes ?? 500,
    // Data flow only, unless asked: foreign keys relate tables but carry no data from one to the other.
    kinds: request.includeReferences ? ['derives', 'references'] : ['derives'],
  };
  let walks: Walk[];
  if (request.column) {
    await checkColumn(ctx, asset.id, request.urn, request.column);
    walks = await Promise.all(
      directions(direction).map((d) => walkColumns(ctx, asset.id, request.column!, d, options)),
    );
  } else {
    walks = [];
    for (const d of directions(direction)) walks.push(await walk(ctx, asset.id, d, options));
  }
  const layers = new Map<string, number>();
  const edges = new Map<string, WalkedEdge & { columns?: LineageColumnEdge[] }>();
  const columns = new Map<string, Set<string>>();
  for (const w of walks) {
    for (const [id, layer] of w.layers) if (!layers.has(id) || layer !== 0) layers.set(id, layer);
    for (const [id, edge] of w.edges) edges.set(id, edge);
    for (const [id, names] of w.columns ?? []) columns.set(id, new Set([...(columns.get(id) ?? []), ...names]));
  }
  const graph = await buildGraph(ctx, {
    focusId: asset.id,
    focus: asset.urn,
    focusColumn: request.column ?? null,
    direction,
    depth,
    asOf,
    layers,
    edges,
    columns: request.column ? columns : undefined,
    truncated: walks.some((w) => w.truncated),
    // The size limit wins: asking for more depth would not help where the walk already ran out of room.
    truncatedBy: walks.some((w) => w.truncatedBy === 'size')
      ? 'size'
      : walks.some((w) => w.truncatedBy === 'depth')
        ? 'depth'
        : undefined,
  });
  return layoutLineage(graph);
}

export interface GraphParts {
  focusId: string;
  focus: string;
  focusColumn: string | null;
  direction: LineageGraph['direction'];
  depth: number;
  asOf: Date;
  layers: Map<string, number>;
  edges: Map<string, WalkedEdge & { columns?: LineageColumnEdge[] }>;
  /** Columns to show on each asset (a column walk). */
  columns?: Map<string, Set<string>>;
  truncated: boolean;
  truncatedBy?: TruncatedBy;
}

interface NodeRow {
  id: string;
  urn: string;
  name: string;
  qualifiedName: string;
  kind: AssetKind;
  platform: string | null;
  classification: Classification;
  qualityScore: number | null;
  owner: string | null;
  status: 'active' | 'deprecated';
}

/** Turns walked ids into the graph payload: asset details for nodes, column mappings for edges. */
export async function buildGraph(ctx: ServiceContext, parts: GraphParts): Promise<LineageGraph> {
  const rows = await assetDetails(ctx, [...parts.layers.keys()]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const columnsByEdge = parts.focusColumn
    ? new Map([...parts.edges].map(([id, e]) => [id, e.columns ?? []]))
    : await edgeColumns(ctx, [...parts.edges.keys()]);
  const nodes: LineageGraphNode[] = [];
  for (const [id, layer] of parts.layers) {
    const row = byId.get(id);
    if (!row) continue;
    nodes.push({
      id: row.urn,
      type: 'asset',
      position: { x: 0, y: 0 },
      width: 0,
      height: 0,
      data: {
        label: row.name,
        urn: row.urn,
        kind: row.kind,
        qualifiedName: row.qualifiedName,
        platform: row.platform,
        classification: row.classification,
        qualityScore: row.qualityScore,
        owner: row.owner,
        status: row.status,
        layer,
        focus: id === parts.focusId,
        columns: [...(parts.columns?.get(id) ?? [])],
        count: 1,
      },
    });
  }
  const edges: LineageGraphEdge[] = [];
  for (const edge of parts.edges.values()) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    if (!source || !target) continue;
    edges.push({
      id: edge.id,
      source: source.urn,
      target: target.urn,
      data: { kind: edge.kind, origin: edge.origin, columns: columnsByEdge.get(edge.id) ?? [] },
    });
  }
  return {
    focus: parts.focus,
    focusColumn: parts.focusColumn,
    direction: parts.direction,
    depth: parts.depth,
    asOf: parts.asOf.toISOString(),
    nodes,
    edges,
    truncated: parts.truncated,
    ...(parts.truncatedBy ? { truncatedBy: parts.truncatedBy } : {}),
  };
}

async function assetDetails(ctx: ServiceContext, ids: string[]): Promise<NodeRow[]> {
  if (ids.length === 0) return [];
  return queryRows<NodeRow>(
    ctx.db,
    sql`select a.id, a.urn, a.name, a.qualified_name as "qualifiedName", a.kind, s.kind as platform,
          a.classification, a.quality_score as "qualityScore", a.owner, a.status
        from assets a left join sources s on s.id = a.source_id
        where a.id in ${uuidSet(ids)} and ${visibleAssetsSql(ctx.principal)}`,
  );
}

/**
 * Column mappings of edges, leaving out columns marked above the caller's clearance on either side.
 * For `references` edges the mapping is stated from the referenced (upstream) table's point of view.
 */
async function edgeColumns(ctx: ServiceContext, edgeIds: string[]): Promise<Map<string, LineageColumnEdge[]>> {
  const result = new Map<string, LineageColumnEdge[]>();
  if (edgeIds.length === 0) return result;
  const rows = await queryRows<{
    edgeId: string;
    kind: EdgeKind;
    fromColumn: string;
    toColumn: string | null;
    transformationType: TransformationType | null;
    transformationSubtype: TransformationSubtype | null;
  }>(
    ctx.db,
    sql`select c.edge_id as "edgeId", e.kind, c.from_column as "fromColumn", c.to_column as "toColumn",
          c.transformation_type as "transformationType", c.transformation_subtype as "transformationSubtype"
        from column_lineage c join lineage_edges e on e.id = c.edge_id
        where c.edge_id in ${uuidSet(edgeIds)}
          and ${columnVisible(ctx, sql`coalesce(c.from_asset_id, e.from_asset_id)`, sql`c.from_column`)}
          and (c.to_column is null or ${columnVisible(ctx, sql`e.to_asset_id`, sql`c.to_column`)})
        order by c.to_column nulls last, c.from_column`,
  );
  for (const row of rows) {
    const list = result.get(row.edgeId) ?? [];
    list.push(
      row.kind === 'references'
        ? { from: row.toColumn ?? '', to: row.fromColumn, transformationType: null, transformationSubtype: null }
        : {
            from: row.fromColumn,
            to: row.toColumn,
            transformationType: row.transformationType,
            transformationSubtype: row.transformationSubtype,
          },
    );
    result.set(row.edgeId, list);
  }
  return result;
}

/** A column marked above the caller's clearance is treated as if it did not exist. */
export function columnVisible(ctx: ServiceContext, assetId: ReturnType<typeof sql>, column: ReturnType<typeof sql>) {
  return sql`not exists (select 1 from columns k where k.asset_id = ${assetId} and k.name = ${column}
    and k.classification > ${ctx.principal.clearance}::classification)`;
}

/**
 * Column-level walk: follows the column mappings of `derives` edges. A DIRECT mapping carries the
 * column on; an INDIRECT one (a join key, a filter) touches the target as a whole and the walk stops there.
 */
export async function walkColumns(
  ctx: ServiceContext,
  start: string,
  column: string,
  direction: Direction,
  options: WalkOptions,
): Promise<Walk & { edges: Map<string, WalkedEdge & { columns: LineageColumnEdge[] }> }> {
  const layers = new Map([[start, 0]]);
  const edges = new Map<string, WalkedEdge & { columns: LineageColumnEdge[] }>();
  const seen = new Set([`${start}\u0000${column}`]);
  const reachedColumns = new Map([[start, new Set([column])]]);
  const reachedBy = new Map<string, WalkedEdge>();
  let truncated = false;
  const sign = direction === 'upstream' ? -1 : 1;
  const finished = await withinBudget(ctx, options, async (query) => {
    let frontier = [{ asset: start, column }];
    for (let hop = 1; hop <= options.depth && frontier.length > 0; hop++) {
      const rows = await query<ColumnHopRow>(columnHopSql(ctx, frontier, direction, options));
      const next: typeof frontier = [];
      for (const row of rows) {
        // A job carries column lineage from its input datasets: the hop then passes through the job.
        const via = row.columnFrom !== row.source ? row.source : null;
        const far = direction === 'downstream' ? row.target : row.columnFrom;
        const reached = [far, ...(via ? [via] : [])];
        if (reached.some((id) => !layers.has(id)) && layers.size >= options.maxNodes) {
          truncated = true;
          continue;
        }
        for (const id of reached) {
          if (layers.has(id)) continue;
          layers.set(id, sign * hop);
          reachedBy.set(id, {
            id: row.id,
            source: row.source,
            target: row.target,
            kind: 'derives',
            origin: row.origin,
          });
        }
        addReached(reachedColumns, row.columnFrom, row.fromColumn);
        if (row.toColumn) addReached(reachedColumns, row.target, row.toColumn);
        if (via) {
          const key = `${row.id}:${row.columnFrom}`;
          edges.set(key, {
            id: key,
            source: row.columnFrom,
            target: via,
            kind: 'derives',
            origin: row.origin,
            columns: [],
          });
        }
        const edge = edges.get(row.id) ?? {
          id: row.id,
          source: row.source,
          target: row.target,
          kind: 'derives' as const,
          origin: row.origin,
          columns: [],
        };
        edge.columns.push({
          from: row.fromColumn,
          to: row.toColumn,
          transformationType: row.transformationType,
          transformationSubtype: row.transformationSubtype,
        });
        edges.set(row.id, edge);
        const farColumn = direction === 'downstream' ? row.toColumn : row.fromColumn;
        if (farColumn && row.transformationType !== 'INDIRECT' && !seen.has(`${far}\u0000${farColumn}`)) {
          seen.add(`${far}\u0000${farColumn}`);
          next.push({ asset: far, column: farColumn });
        }
      }
      frontier = next;
    }
  });
  return {
    layers,
    edges,
    truncated: truncated || !finished,
    truncatedBy: truncated || !finished ? 'size' : undefined,
    reachedBy,
    columns: reachedColumns,
  };
}

function addReached(reached: Map<string, Set<string>>, asset: string, column: string) {
  const set = reached.get(asset) ?? new Set();
  set.add(column);
  reached.set(asset, set);
}

interface ColumnHopRow {
  id: string;
  source: string;
  target: string;
  /** The asset `fromColumn` belongs to: the edge's source, or a job's input dataset. */
  columnFrom: string;
  origin: string;
  fromColumn: string;
  toColumn: string | null;
  transformationType: TransformationType | null;
  transformationSubtype: TransformationSubtype | null;
}

/**
 * One hop of a column walk: the column mappings leaving (downstream) or reaching (upstream) the frontier's
 * columns. Downstream, a mapping names its column's asset itself (a job's input) or leaves it to the
 * edge's source; each case is its own branch, so both are index lookups rather than a scan of all mappings.
 */
function columnHopSql(
  ctx: ServiceContext,
  frontier: { asset: string; column: string }[],
  direction: Direction,
  options: WalkOptions,
) {
  const pairs = JSON.stringify(frontier.map((f) => [f.asset, f.column]));
  const mappings =
    direction === 'downstream'
      ? sql`select c.id from f join lineage_edges e on e.from_asset_id = f.asset and e.kind = 'derives'
            join column_lineage c on c.edge_id = e.id and c.from_asset_id is null and c.from_column = f.name
          union all
          select c.id from f join column_lineage c on c.from_asset_id = f.asset and c.from_column = f.name`
      : sql`select c.id from f join lineage_edges e on e.to_asset_id = f.asset and e.kind = 'derives'
            join column_lineage c on c.edge_id = e.id and c.to_column = f.name`;
  const far = direction === 'downstream' ? sql`e.to_asset_id` : sql`coalesce(c.from_asset_id, e.from_asset_id)`;
  return sql`with f(asset, name) as (select (v->>0)::uuid, v->>1 from jsonb_array_elements(${pairs}::jsonb) v
        limit ${frontier.length}),
      m(id) as (${mappings})
    select e.id, e.from_asset_id as source, e.to_asset_id as target, e.origin,
      coalesce(c.from_asset_id, e.from_asset_id) as "columnFrom",
      c.from_column as "fromColumn", c.to_column as "toColumn",
      c.transformation_type as "transformationType", c.transformation_subtype as "transformationSubtype"
    from m join column_lineage c on c.id = m.id join lineage_edges e on e.id = c.edge_id
    join assets a on a.id = ${far}
    where e.kind = 'derives'
      and ${validAt(options.asOf)}
      and ${visibleAssetsSql(ctx.principal)}
      and exists (select 1 from assets a where a.id = e.from_asset_id and ${visibleAssetsSql(ctx.principal)})
      and ${columnVisible(ctx, sql`coalesce(c.from_asset_id, e.from_asset_id)`, sql`c.from_column`)}
      and (c.to_column is null or ${columnVisible(ctx, sql`e.to_asset_id`, sql`c.to_column`)})
    order by a.qualified_name, c.to_column nulls last, c.from_column`;
}

export async function checkColumn(ctx: ServiceContext, assetId: string, urn: string, column: string) {
  const [row] = await queryRows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from columns k where k.asset_id = ${assetId} and k.name = ${column}
          and (k.classification is null or k.classification <= ${ctx.principal.clearance}::classification)`,
  );
  if (row!.n === 0) {
    throw new DataOpsError('not_found', `${urn} has no column "${column}": catalog_list_columns lists its columns`);
  }
}

export function checkDepth(depth: number): number {
  if (!Number.isInteger(depth) || depth < 1 || depth > maxDepth) {
    throw new DataOpsError('invalid_input', `depth must be a whole number from 1 to ${maxDepth}, not ${depth}`);
  }
  return depth;
}

function directions(direction: Direction | 'both'): Direction[] {
  return direction === 'both' ? ['upstream', 'downstream'] : [direction];
}

/** Edges (aliased `e`) valid at a time: opened at or before it and not closed by then. */
function validAt(time: Date) {
  const at = time.toISOString();
  return sql`e.valid_from <= ${at}::timestamptz and (e.valid_to is null or e.valid_to > ${at}::timestamptz)`;
}
