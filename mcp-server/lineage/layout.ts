import { Graph, layout } from '@dagrejs/dagre';
import type { LineageGraph, LineageGraphEdge, LineageGraphNode } from './graph.js';
import { collapseLayers, compare } from './layout-collapse.js';
import { nodeSize } from './layout-text.js';

export interface LineageLayoutOptions {
  /** Most nodes shown in one layer; the rest of a crowded layer becomes one group node. Default 12. */
  maxNodesPerLayer?: number;
  /** Vertical gap between nodes of a column, in px. Default 20. */
  nodeGap?: number;
  /** Horizontal gap between columns, in px. Default 72. */
  layerGap?: number;
}

/**
 * Collapses crowded layers into group nodes, then places the nodes left to right with dagre: upstream
 * layers left of the focus, downstream layers right of it, one column per hop (more where members of one
 * hop feed each other). Node `position` is the
 * top-left corner (as @xyflow/react expects); `width` and `height` fit the label. The result depends only
 * on the nodes and edges given, not on their order. Pure: the input graph is not modified.
 */
export function layoutLineage(graph: LineageGraph, options: LineageLayoutOptions = {}): LineageGraph {
  const collapsed = collapseLayers(graph, Math.max(2, options.maxNodesPerLayer ?? 12));
  const nodes = collapsed.nodes.map((n) => ({ ...n, ...nodeSize(n) }));
  const { positions } = placeNodes(nodes, collapsed.edges, options.nodeGap ?? 20, options.layerGap ?? 72);
  const placed = nodes.map((n) => ({ ...n, position: positions.get(n.id)! }));
  placed.sort((a, b) => a.data.layer - b.data.layer || a.position.y - b.position.y || compare(a.id, b.id));
  return { ...graph, nodes: placed, edges: collapsed.edges };
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Where each edge of a graph from `layoutLineage` should pass so it runs between nodes, not through them:
 * the gaps dagre kept for it in every column it crosses, from source to target. Null when the graph's
 * positions are not the ones `layoutLineage` gives (nodes moved by hand, other options), since the routes
 * would not fit them; draw plain curves then.
 */
export function lineageEdgeRoutes(
  graph: LineageGraph,
  options: LineageLayoutOptions = {},
): Map<string, Point[]> | null {
  const { positions, routes } = placeNodes(graph.nodes, graph.edges, options.nodeGap ?? 20, options.layerGap ?? 72);
  for (const n of graph.nodes) {
    const p = positions.get(n.id)!;
    if (p.x !== n.position.x || p.y !== n.position.y) return null;
  }
  return routes;
}

interface DagreNode {
  width: number;
  height: number;
  rank?: number;
  x?: number;
  y?: number;
}

/**
 * Positions (top-left corners) from dagre, with each node's rank pinned to its column; and for each edge
 * the points between its ends where dagre left room for it, in the edge's own direction.
 */
function placeNodes(
  nodes: LineageGraphNode[],
  edges: LineageGraphEdge[],
  nodeGap: number,
  layerGap: number,
): { positions: Map<string, Point>; routes: Map<string, Point[]> } {
  const g = new Graph();
  g.setGraph({
    rankdir: 'LR',
    nodesep: nodeGap,
    ranksep: layerGap,
    marginx: 0,
    marginy: 0,
    // dagre ranks in half steps (the odd ranks hold edge labels), and adds a nesting root with no rank.
    ranker: (ranked: typeof g) => {
      for (const v of ranked.nodes()) {
        const label = ranked.node(v) as DagreNode;
        if (label.rank === undefined) label.rank = -2;
      }
    },
  });
  g.setDefaultEdgeLabel(() => ({}));
  const column = columnsOf(nodes, edges);
  // Insertion order is where the ordering starts and how it breaks ties: by name, a layer's group last.
  const sorted = [...nodes].sort(
    (a, b) =>
      column.get(a.id)! - column.get(b.id)! ||
      Number(a.type === 'group') - Number(b.type === 'group') ||
      compare(a.data.label, b.data.label) ||
      compare(a.id, b.id),
  );
  for (const n of sorted) {
    g.setNode(n.id, { width: n.width, height: n.height, rank: 2 * column.get(n.id)! } satisfies DagreNode);
  }
  // Edges only order nodes within their columns; they point from the lower column to the higher one.
  const pairs = new Set<string>();
  for (const e of edges) {
    const [a, b] = column.get(e.source)! <= column.get(e.target)! ? [e.source, e.target] : [e.target, e.source];
    if (column.get(a) === column.get(b)) continue;
    pairs.add(`${a}\u0000${b}`);
  }
  for (const pair of [...pairs].sort()) {
    const [a, b] = pair.split('\u0000') as [string, string];
    g.setEdge(a, b);
  }
  layout(g, { customOrder: orderByBarycentre });
  const positions = new Map<string, Point>();
  for (const n of nodes) {
    const p = g.node(n.id) as DagreNode;
    positions.set(n.id, { x: Math.round(p.x! - n.width / 2), y: Math.round(p.y! - n.height / 2) });
  }
  const routes = new Map<string, Point[]>();
  for (const e of edges) {
    const forward = g.hasEdge(e.source, e.target);
    const label = (forward ? g.edge(e.source, e.target) : g.edge(e.target, e.source)) as
      | { points?: Point[] }
      | undefined;
    // The first and last points are where dagre meets the node borders; the renderer picks its own ends.
    const inner = (label?.points ?? []).slice(1, -1).map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) }));
    routes.set(e.id, forward ? inner : inner.reverse());
  }
  return { positions, routes };
}

/**
 * The column of each node: layers left to right by hop, and inside a layer as many columns as its longest
 * chain of edges between its own members (a view over a table reached at the same hop), so that every
 * edge inside a layer points right instead of looping back into its own column.
 */
function columnsOf(nodes: LineageGraphNode[], edges: LineageGraphEdge[]): Map<string, number> {
  const layerOf = new Map(nodes.map((n) => [n.id, n.data.layer]));
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.source === e.target || layerOf.get(e.source) !== layerOf.get(e.target)) continue;
    if (!next.has(e.source)) next.set(e.source, []);
    next.get(e.source)!.push(e.target);
  }
  for (const list of next.values()) list.sort(compare);
  // Depth-first from each node in id order; an edge back onto the current path (a cycle) is ignored.
  const depth = new Map<string, number>();
  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string) => {
    state.set(id, 'open');
    for (const t of next.get(id) ?? []) if (!state.has(t)) visit(t);
    state.set(id, 'done');
    order.push(id);
  };
  const ids = nodes.map((n) => n.id).sort(compare);
  for (const id of ids) if (!state.has(id)) visit(id);
  // `order` is a reverse topological order of the acyclic part; walk it backwards for longest paths.
  const position = new Map(order.map((id, i) => [id, i]));
  for (const id of [...order].reverse()) {
    const d = depth.get(id) ?? 0;
    depth.set(id, d);
    for (const t of next.get(id) ?? []) {
      if (position.get(t)! < position.get(id)!) depth.set(t, Math.max(depth.get(t) ?? 0, d + 1));
    }
  }
  const width = new Map<number, number>();
  for (const n of nodes) width.set(n.data.layer, Math.max(width.get(n.data.layer) ?? 0, depth.get(n.id)! + 1));
  const start = new Map<number, number>();
  let at = 0;
  for (const layer of [...width.keys()].sort((a, b) => a - b)) {
    start.set(layer, at);
    at += width.get(layer)!;
  }
  return new Map(nodes.map((n) => [n.id, start.get(n.data.layer)! + depth.get(n.id)!]));
}

/** The slice of graphlib's graph the ordering below reads. */
interface RankedGraph {
  nodes(): string[];
  node(v: string): { rank?: number; order?: number };
  predecessors(v: string): string[] | undefined;
  successors(v: string): string[] | undefined;
}

/**
 * Orders the nodes of each rank (dummies included) to keep edge crossings few: a depth-first start, then
 * barycentre sweeps down and up, keeping the best ordering seen. It stands in for dagre's own ordering,
 * which gets the same result on graphs this size but spends most of dagre's time rebuilding layer graphs.
 */
function orderByBarycentre(g: RankedGraph): void {
  const ranks: string[][] = [];
  const nodes = g.nodes().filter((v) => g.node(v).rank !== undefined);
  const seen = new Set<string>();
  const visit = (v: string) => {
    if (seen.has(v)) return;
    seen.add(v);
    const rank = g.node(v).rank!;
    if (!ranks[rank]) ranks[rank] = [];
    ranks[rank].push(v);
    for (const w of g.successors(v) ?? []) visit(w);
  };
  for (const v of [...nodes].sort((a, b) => g.node(a).rank! - g.node(b).rank!)) visit(v);
  for (let r = 0; r < ranks.length; r++) if (!ranks[r]) ranks[r] = [];

  const position = new Map<string, number>();
  const index = () => {
    for (const layer of ranks) {
      for (const [i, v] of layer.entries()) position.set(v, i);
    }
  };
  index();
  let best = ranks.map((layer) => [...layer]);
  let fewest = crossings(g, ranks, position);
  for (let sweep = 0; sweep < 8 && fewest > 0; sweep++) {
    const down = sweep % 2 === 0;
    const order = down
      ? ranks.map((_, r) => r).slice(1)
      : ranks
          .map((_, r) => r)
          .slice(0, -1)
          .reverse();
    for (const r of order) {
      const layer = ranks[r]!;
      const centre = new Map<string, number>();
      for (const v of layer) {
        const links = (down ? g.predecessors(v) : g.successors(v)) ?? [];
        const at = links.map((w) => position.get(w)!).filter((p) => p !== undefined);
        centre.set(v, at.length ? at.reduce((a, b) => a + b, 0) / at.length : position.get(v)!);
      }
      layer.sort((a, b) => centre.get(a)! - centre.get(b)! || position.get(a)! - position.get(b)!);
      for (const [i, v] of layer.entries()) position.set(v, i);
    }
    const count = crossings(g, ranks, position);
    if (count < fewest) {
      fewest = count;
      best = ranks.map((layer) => [...layer]);
    }
  }
  best.forEach((layer) => {
    layer.forEach((v, i) => {
      g.node(v).order = i;
    });
  });
}

/** Edge crossings between consecutive ranks for the given positions. */
function crossings(g: RankedGraph, ranks: string[][], position: Map<string, number>): number {
  let count = 0;
  for (let r = 0; r + 1 < ranks.length; r++) {
    const pairs: [number, number][] = [];
    for (const v of ranks[r]!) {
      for (const w of g.successors(v) ?? []) {
        const p = position.get(w);
        if (p !== undefined && g.node(w).rank === r + 1) pairs.push([position.get(v)!, p]);
      }
    }
    for (let i = 0; i < pairs.length; i++) {
      for (let j = i + 1; j < pairs.length; j++) {
        const [a1, b1] = pairs[i]!;
        const [a2, b2] = pairs[j]!;
        if ((a1 - a2) * (b1 - b2) < 0) count++;
      }
    }
  }
  return count;
}
