import { sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, uuidSet } from '../../db/create-db.js';
import type { AssetKind } from '../../db/schema/catalog.js';
import type { Classification } from '../../db/schema/types.js';
import { columnsWithLineageSql } from '../catalog/assets.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import type { LineageGraph } from './graph.js';
import { layoutLineage } from './layout.js';
import {
  buildGraph,
  checkColumn,
  checkDepth,
  getLineage,
  type Walk,
  type WalkedEdge,
  type WalkOptions,
  walk,
  walkColumns,
} from './queries.js';

export interface ImpactRequest {
  urn: string;
  column?: string | null;
  depth?: number;
  /** Milliseconds after which the walk stops and what was found is returned with `partial: true`. */
  budgetMs?: number;
  maxAssets?: number;
}

export interface ImpactedAsset extends Omit<AssetRow, 'id'> {
  /** Hops from the changed asset. */
  distance: number;
  /**
   * How it depends on the change: `derived` (computed from it directly), `transitive` (through other
   * assets), `references` (a foreign key points at it), `indirect` (a changed column only filters,
   * joins or groups its rows).
   */
  dependency: 'derived' | 'transitive' | 'references' | 'indirect';
  /** URN of the asset it depends on along the way. */
  via: string;
  /** Columns affected, for a column-level impact. */
  columns: string[];
}

export interface ImpactResult {
  urn: string;
  column: string | null;
  partial: boolean;
  total: number;
  byDependency: Record<ImpactedAsset['dependency'], number>;
  byKind: Partial<Record<AssetKind, number>>;
  assets: ImpactedAsset[];
  /** Owners to tell before the change, with how many of their assets it affects. */
  owners: { owner: string; assets: number }[];
  /** People who follow or recently used an affected asset. */
  consumers: { principal: string; assets: number }[];
}

/** Everything downstream that a change to an asset (or one column) would affect, with whom to tell. */
export async function lineageImpact(ctx: ServiceContext, request: ImpactRequest): Promise<ImpactResult> {
  const asset = await findVisibleAsset(ctx, request.urn);
  const options: WalkOptions = {
    depth: checkDepth(request.depth ?? 10),
    asOf: ctx.clock(),
    maxNodes: request.maxAssets ?? 10_000,
    deadline: Date.now() + (request.budgetMs ?? 2_000),
    kinds: ['derives', 'references'],
  };
  let result: Walk;
  if (request.column) {
    await checkColumn(ctx, asset.id, request.urn, request.column);
    result = await walkColumns(ctx, asset.id, request.column, 'downstream', options);
  } else {
    result = await walk(ctx, asset.id, 'downstream', options);
  }
  const ids = [...result.layers.keys()].filter((id) => id !== asset.id);
  const rows = await assetRows(ctx, [asset.id, ...ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const impacted: ImpactedAsset[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    const edge = result.reachedBy.get(id);
    if (!row || !edge) continue;
    const distance = result.layers.get(id)!;
    const columns = [...(result.columns?.get(id) ?? [])];
    const indirect = Boolean(request.column) && columns.length === 0 && row.kind !== 'job';
    impacted.push({
      urn: row.urn,
      name: row.name,
      qualifiedName: row.qualifiedName,
      kind: row.kind,
      classification: row.classification,
      owner: row.owner,
      distance,
      dependency:
        edge.kind === 'references'
          ? 'references'
          : indirect
            ? 'indirect'
            : distance === 1 || byId.get(edge.source)?.kind === 'job'
              ? 'derived'
              : 'transitive',
      via: byId.get(edge.source)?.urn ?? asset.urn,
      columns,
    });
  }
  // Code-point order, as the catalog's C collation sorts; localeCompare costs a second at 60k assets.
  impacted.sort(
    (a, b) =>
      a.distance - b.distance || (a.qualifiedName < b.qualifiedName ? -1 : a.qualifiedName > b.qualifiedName ? 1 : 0),
  );
  const byDependency = { derived: 0, transitive: 0, references: 0, indirect: 0 };
  const byKind: ImpactResult['byKind'] = {};
  const owners = new Map<string, number>();
  for (const a of impacted) {
    byDependency[a.dependency]++;
    byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    if (a.owner) owners.set(a.owner, (owners.get(a.owner) ?? 0) + 1);
  }
  return {
    urn: asset.urn,
    column: request.column ?? null,
    partial: result.truncated,
    total: impacted.length,
    byDependency,
    byKind,
    assets: impacted,
    owners: [...owners].map(([owner, assets]) => ({ owner, assets })).sort((a, b) => b.assets - a.assets),
    consumers: await consumersOf(
      ctx,
      ids.filter((id) => byId.has(id)),
    ),
  };
}

async function consumersOf(ctx: ServiceContext, ids: string[]) {
  if (ids.length === 0) return [];
  const since = new Date(ctx.clock().getTime() - 90 * 24 * 3600 * 1000);
  return queryRows<{ principal: string; assets: number }>(
    ctx.db,
    sql`select principal_id as principal, count(distinct asset_id)::int as assets from (
          select principal_id, asset_id from follows where asset_id in ${uuidSet(ids)}
          union all
          select principal_id, asset_id from usage_events
            where asset_id in ${uuidSet(ids)} and principal_id is not null and at >= ${since.toISOString()}::timestamptz
        ) c group by principal_id order by assets desc, principal_id limit 100`,
  );
}

interface AssetRow {
  id: string;
  urn: string;
  name: string;
  qualifiedName: string;
  kind: AssetKind;
  classification: Classification;
  owner: string | null;
}

async function assetRows(ctx: ServiceContext, ids: string[]): Promise<AssetRow[]> {
  return queryRows<AssetRow>(
    ctx.db,
    sql`select a.id, a.urn, a.name, a.qualified_name as "qualifiedName", a.kind, a.classification, a.owner
        from assets a where a.id in ${uuidSet(ids)} and ${visibleAssetsSql(ctx.principal)}`,
  );
}

export interface PathRequest {
  from: string;
  to: string;
  depth?: number;
  maxPaths?: number;
}

export interface PathResult {
  from: string;
  to: string;
  /** Each path as URNs from upstream to downstream; empty when the assets are not connected. */
  paths: string[][];
  /** True when more paths exist than were listed. */
  morePaths: boolean;
  graph: LineageGraph;
}

/** The lineage paths between two assets, in whichever direction connects them. */
export async function lineagePath(ctx: ServiceContext, request: PathRequest): Promise<PathResult> {
  const [a, b] = [await findVisibleAsset(ctx, request.from), await findVisibleAsset(ctx, request.to)];
  const depth = checkDepth(request.depth ?? 10);
  const maxPaths = request.maxPaths ?? 20;
  const options: WalkOptions = { depth, asOf: ctx.clock(), maxNodes: 5_000, kinds: ['derives', 'references'] };
  for (const [up, down] of [
    [a, b],
    [b, a],
  ] as const) {
    const forward = await walk(ctx, up.id, 'downstream', options);
    if (!forward.layers.has(down.id)) continue;
    const backward = await walk(ctx, down.id, 'upstream', options);
    const onPath = new Set([...forward.layers.keys()].filter((id) => backward.layers.has(id)));
    const edges = [...forward.edges.values(), ...backward.edges.values()].filter(
      (e) => onPath.has(e.source) && onPath.has(e.target),
    );
    const unique = new Map(edges.map((e) => [e.id, e]));
    const paths = enumeratePaths(up.id, down.id, [...unique.values()], maxPaths + 1);
    const graph = await buildGraph(ctx, {
      focusId: up.id,
      focus: up.urn,
      focusColumn: null,
      direction: 'downstream',
      depth,
      asOf: options.asOf,
      layers: new Map([...onPath].map((id) => [id, forward.layers.get(id)!])),
      edges: unique,
      truncated: forward.truncated,
    });
    const urns = new Map((await assetRows(ctx, [...onPath])).map((r) => [r.id, r.urn]));
    return {
      from: up.urn,
      to: down.urn,
      paths: paths.slice(0, maxPaths).map((p) => p.map((id) => urns.get(id)!)),
      morePaths: paths.length > maxPaths,
      graph: layoutLineage(graph),
    };
  }
  const graph = await getLineage(ctx, { urn: a.urn, depth: 1 });
  return { from: a.urn, to: b.urn, paths: [], morePaths: false, graph };
}

function enumeratePaths(from: string, to: string, edges: WalkedEdge[], limit: number): string[][] {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
  const paths: string[][] = [];
  const visit = (node: string, path: string[]) => {
    if (paths.length >= limit) return;
    if (node === to) {
      paths.push(path);
      return;
    }
    for (const next of [...new Set(out.get(node) ?? [])].sort()) {
      if (!path.includes(next)) visit(next, [...path, next]);
    }
  };
  visit(from, [from]);
  return paths;
}

export interface DiffRequest {
  urn: string;
  from: Date;
  to?: Date;
  direction?: 'upstream' | 'downstream' | 'both';
  depth?: number;
}

interface DiffEdge {
  source: string;
  target: string;
  kind: string;
  origin: string;
  columns: { from: string; to: string | null; transformationSubtype: string | null }[];
}

export interface DiffResult {
  urn: string;
  from: string;
  to: string;
  addedAssets: string[];
  removedAssets: string[];
  addedEdges: DiffEdge[];
  removedEdges: DiffEdge[];
  /** Edges present at both times whose column mappings differ. */
  changedEdges: { before: DiffEdge; after: DiffEdge }[];
}

/** What changed in an asset's lineage between two times. */
export async function lineageDiff(ctx: ServiceContext, request: DiffRequest): Promise<DiffResult> {
  const to = request.to ?? ctx.clock();
  if (request.from.getTime() > to.getTime()) {
    throw new DataOpsError('invalid_input', 'the "from" time must be before the "to" time');
  }
  const ask = { urn: request.urn, direction: request.direction ?? 'both', depth: request.depth ?? 3 };
  const [before, after] = [
    await getLineage(ctx, { ...ask, asOf: request.from }),
    await getLineage(ctx, { ...ask, asOf: to }),
  ];
  const edgesOf = (g: LineageGraph) =>
    new Map(
      g.edges.map((e) => {
        const edge: DiffEdge = {
          source: e.source,
          target: e.target,
          kind: e.data.kind,
          origin: e.data.origin,
          columns: e.data.columns.map((c) => ({
            from: c.from,
            to: c.to,
            transformationSubtype: c.transformationSubtype,
          })),
        };
        return [`${e.source} ${e.target} ${e.data.kind} ${e.data.origin}`, edge];
      }),
    );
  const [was, is] = [edgesOf(before), edgesOf(after)];
  const assetsOf = (g: LineageGraph) => new Set(g.nodes.map((n) => n.id));
  const [wasAssets, isAssets] = [assetsOf(before), assetsOf(after)];
  return {
    urn: request.urn,
    from: request.from.toISOString(),
    to: to.toISOString(),
    addedAssets: [...isAssets].filter((a) => !wasAssets.has(a)).sort(),
    removedAssets: [...wasAssets].filter((a) => !isAssets.has(a)).sort(),
    addedEdges: [...is].filter(([k]) => !was.has(k)).map(([, e]) => e),
    removedEdges: [...was].filter(([k]) => !is.has(k)).map(([, e]) => e),
    changedEdges: [...is]
      .filter(([k, e]) => was.has(k) && JSON.stringify(was.get(k)!.columns) !== JSON.stringify(e.columns))
      .map(([k, e]) => ({ before: was.get(k)!, after: e })),
  };
}

export interface CoverageResult {
  /** Visible assets something feeds: views, and assets with upstream lineage. */
  derivedAssets: number;
  /** Of those, how many have a known source for every column. */
  complete: number;
  share: number | null;
  /** The least covered assets, to work on first. */
  incomplete: { urn: string; qualifiedName: string; columns: number; mapped: number }[];
}

/** Lineage coverage of the catalog as the caller may see it: the share of derived assets with complete lineage. */
export async function lineageCoverage(ctx: ServiceContext, limit = 20): Promise<CoverageResult> {
  const rows = await queryRows<{ urn: string; qualifiedName: string; columns: number; mapped: number }>(
    ctx.db,
    sql`select a.urn, a.qualified_name as "qualifiedName",
          (select count(*) from columns k where k.asset_id = a.id
            and (k.classification is null or k.classification <= ${ctx.principal.clearance}::classification))::int as columns,
          ${columnsWithLineageSql(ctx, sql`a.id`)} as mapped
        from assets a
        where a.status = 'active' and ${visibleAssetsSql(ctx.principal)}
          and (a.kind in ('view', 'materialized_view')
            or exists (select 1 from lineage_edges e where e.to_asset_id = a.id and e.kind = 'derives' and e.valid_to is null))`,
  );
  const incomplete = rows.filter((r) => r.mapped < r.columns);
  return {
    derivedAssets: rows.length,
    complete: rows.length - incomplete.length,
    share: rows.length === 0 ? null : (rows.length - incomplete.length) / rows.length,
    incomplete: incomplete
      .sort((a, b) => a.mapped / a.columns - b.mapped / b.columns || a.qualifiedName.localeCompare(b.qualifiedName))
      .slice(0, limit),
  };
}
