import { Graph, layout } from '@dagrejs/dagre';
import type { Classification } from '../../db/schema/types.js';
import type { LineageGraph, LineageGraphEdge, LineageGraphNode, LineageNodeData } from './graph.js';

export interface LineageLayoutOptions {
  /** Most nodes shown in one layer; the rest of a crowded layer becomes one group node. Default 12. */
  maxNodesPerLayer?: number;
  /** Vertical gap between nodes of a layer, in px. Default 20. */
  nodeGap?: number;
  /** Horizontal gap between layers, in px. Default 72. */
  layerGap?: number;
}

/** Card geometry shared with the SVG renderer, so what is measured here is what gets drawn there. */
export const nodeMetrics = {
  assetHeight: 76,
  groupHeight: 64,
  minWidth: 176,
  maxWidth: 300,
  paddingX: 12,
  bannerHeight: 18,
  nameSize: 13,
  namespaceSize: 10.5,
  detailSize: 11,
  /** Room the quality bar and its number take on the detail line. */
  qualityWidth: 64,
} as const;

// Advance widths of DejaVu Sans (the font the pictures use) in em, for the characters names are made of.
const charWidths: Record<string, number> = {
  a: 0.613,
  b: 0.635,
  c: 0.55,
  d: 0.635,
  e: 0.615,
  f: 0.352,
  g: 0.635,
  h: 0.634,
  i: 0.278,
  j: 0.278,
  k: 0.579,
  l: 0.278,
  m: 0.974,
  n: 0.634,
  o: 0.612,
  p: 0.635,
  q: 0.635,
  r: 0.411,
  s: 0.521,
  t: 0.392,
  u: 0.634,
  v: 0.592,
  w: 0.818,
  x: 0.592,
  y: 0.592,
  z: 0.525,
  ' ': 0.318,
  '.': 0.318,
  ',': 0.318,
  ':': 0.337,
  ';': 0.337,
  _: 0.5,
  '-': 0.361,
  '/': 0.337,
  '(': 0.39,
  ')': 0.39,
  '+': 0.838,
  '·': 0.318,
  I: 0.295,
  J: 0.295,
  M: 0.863,
  W: 0.989,
  m0: 0,
};

/** Estimated width in px of `text` set in DejaVu Sans at `size` px (bold is about an eighth wider). */
export function estimateTextWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    const known = charWidths[ch];
    if (known !== undefined) em += known;
    else if (ch >= '0' && ch <= '9') em += 0.636;
    else if (ch >= 'A' && ch <= 'Z') em += 0.7;
    else em += ch.charCodeAt(0) > 0x2e80 ? 1 : 0.62;
  }
  return em * size * (bold ? 1.13 : 1);
}

const markingOrder: Classification[] = ['U', 'C', 'S', 'TS'];
/** Classification markings as banners spell them. */
export const markingNames: Record<Classification, string> = {
  U: 'UNCLASSIFIED',
  C: 'CONFIDENTIAL',
  S: 'SECRET',
  TS: 'TOP SECRET',
};

/** The namespace shown above a node's name: its qualified name without the trailing name. */
export function nodeNamespace(data: LineageNodeData): string | null {
  const q = data.qualifiedName;
  if (!q || q === data.label || !q.endsWith(data.label)) return null;
  const ns = q.slice(0, q.length - data.label.length).replace(/[./:]$/, '');
  return ns || null;
}

/** The detail line of a node: its kind and platform, or what a group stands for. */
export function nodeDetail(node: Pick<LineageGraphNode, 'type' | 'data'>): string {
  const d = node.data;
  if (node.type === 'group') {
    const what = d.kind
      ? `${d.kind.replace(/_/g, ' ')}${d.count === 1 ? '' : 's'}`
      : d.count === 1
        ? 'asset'
        : 'assets';
    // The group's banner shows the highest marking among its members; above unclassified it is spelt out.
    const above = d.classification && d.classification !== 'U' ? `, up to ${markingNames[d.classification]}` : '';
    return `${d.count} ${what} not shown${above}`;
  }
  const parts = [d.kind ? d.kind.replace(/_/g, ' ') : 'asset'];
  if (d.platform) parts.push(d.platform);
  if (d.status === 'deprecated') parts.push('deprecated');
  return parts.join(' · ');
}

function nodeSize(node: LineageGraphNode): { width: number; height: number } {
  const m = nodeMetrics;
  const ns = nodeNamespace(node.data);
  const quality = node.type === 'asset' && node.data.qualityScore !== null ? m.qualityWidth : 0;
  const content = Math.max(
    estimateTextWidth(node.data.label, m.nameSize, true),
    ns ? estimateTextWidth(ns, m.namespaceSize) : 0,
    estimateTextWidth(nodeDetail(node), m.detailSize) + quality,
  );
  // Even widths keep the centres of a layer's nodes, and so its column, on whole pixels.
  const width = 2 * Math.ceil(Math.min(m.maxWidth, Math.max(m.minWidth, content + 2 * m.paddingX)) / 2);
  return { width, height: node.type === 'group' ? m.groupHeight : m.assetHeight };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Collapses crowded layers into group nodes, then places the nodes left to right with dagre: upstream
 * layers left of the focus, downstream layers right of it, one column per hop. Node `position` is the
 * top-left corner (as @xyflow/react expects); `width` and `height` fit the label. The result depends only
 * on the nodes and edges given, not on their order. Pure: the input graph is not modified.
 */
export function layoutLineage(graph: LineageGraph, options: LineageLayoutOptions = {}): LineageGraph {
  const collapsed = collapseLayers(graph, Math.max(2, options.maxNodesPerLayer ?? 12));
  const nodes = collapsed.nodes.map((n) => ({ ...n, ...nodeSize(n) }));
  const positions = placeNodes(nodes, collapsed.edges, options.nodeGap ?? 20, options.layerGap ?? 72);
  const placed = nodes.map((n) => ({ ...n, position: positions.get(n.id)! }));
  placed.sort((a, b) => a.data.layer - b.data.layer || a.position.y - b.position.y || compare(a.id, b.id));
  return { ...graph, nodes: placed, edges: collapsed.edges };
}

function isFocus(graph: LineageGraph, n: LineageGraphNode): boolean {
  return n.data.focus || n.id === graph.focus;
}

/** Keeps at most `max` nodes a layer, preferring the focus, its neighbours and what connects to them. */
function collapseLayers(graph: LineageGraph, max: number): { nodes: LineageGraphNode[]; edges: LineageGraphEdge[] } {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = graph.edges.filter((e) => byId.has(e.source) && byId.has(e.target));
  const adjacent = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!adjacent.has(e.source)) adjacent.set(e.source, new Set());
    if (!adjacent.has(e.target)) adjacent.set(e.target, new Set());
    adjacent.get(e.source)!.add(e.target);
    adjacent.get(e.target)!.add(e.source);
  }
  const focusIds = new Set(graph.nodes.filter((n) => isFocus(graph, n)).map((n) => n.id));
  const neighbours = new Set([...focusIds].flatMap((id) => [...(adjacent.get(id) ?? [])]));

  const layers = new Map<number, LineageGraphNode[]>();
  for (const n of graph.nodes) {
    if (!layers.has(n.data.layer)) layers.set(n.data.layer, []);
    layers.get(n.data.layer)!.push(n);
  }
  // Inner layers first, so a layer keeps the nodes that connect to what is already kept nearer the focus.
  const order = [...layers.keys()].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
  const kept = new Set<string>();
  const groupOf = new Map<string, string>();
  const groups: LineageGraphNode[] = [];
  for (const layer of order) {
    const members = layers.get(layer)!;
    if (members.length <= max) {
      for (const n of members) kept.add(n.id);
      continue;
    }
    const score = (n: LineageGraphNode): number[] => {
      const links = [...(adjacent.get(n.id) ?? [])];
      return [
        n.type === 'group' ? 1 : 0,
        focusIds.has(n.id) ? 0 : 1,
        neighbours.has(n.id) ? 0 : 1,
        links.some((id) => kept.has(id)) ? 0 : 1,
        -links.length,
      ];
    };
    const ranked = members
      .map((n) => ({ n, s: score(n) }))
      .sort((a, b) => {
        for (let i = 0; i < a.s.length; i++) if (a.s[i] !== b.s[i]) return a.s[i]! - b.s[i]!;
        return compare(a.n.data.label, b.n.data.label) || compare(a.n.id, b.n.id);
      })
      .map((r) => r.n);
    const keep = ranked.slice(0, max - 1);
    for (const n of focusIds)
      if (!keep.some((k) => k.id === n) && byId.get(n)?.data.layer === layer) keep.push(byId.get(n)!);
    for (const n of keep) kept.add(n.id);
    const rest = ranked.filter((n) => !kept.has(n.id));
    const groupId = `group:${layer}`;
    for (const n of rest) groupOf.set(n.id, groupId);
    groups.push(groupNode(groupId, layer, rest));
  }

  const shown = graph.nodes.filter((n) => kept.has(n.id)).concat(groups);
  const merged = new Map<string, { source: string; target: string; originals: LineageGraphEdge[] }>();
  for (const e of edges) {
    const source = groupOf.get(e.source) ?? e.source;
    const target = groupOf.get(e.target) ?? e.target;
    if (source === target) continue;
    const key = `${e.data.kind}\u0000${source}\u0000${target}`;
    const entry = merged.get(key);
    if (entry) entry.originals.push(e);
    else merged.set(key, { source, target, originals: [e] });
  }
  const shownEdges: LineageGraphEdge[] = [];
  for (const { source, target, originals } of merged.values()) {
    const first = originals[0]!;
    const touchesGroup = source !== first.source || target !== first.target;
    if (originals.length === 1 && !touchesGroup) {
      shownEdges.push(first);
      continue;
    }
    const origins = [...new Set(originals.map((e) => e.data.origin))].sort();
    shownEdges.push({
      id: `${first.data.kind}:${source}->${target}`,
      source,
      target,
      // Column names from several assets cannot be told apart once merged, so a merged edge carries none.
      data: {
        kind: first.data.kind,
        origin: origins.length === 1 ? origins[0]! : 'mixed',
        columns: touchesGroup ? [] : originals.flatMap((e) => e.data.columns),
      },
    });
  }
  shownEdges.sort((a, b) => compare(a.source, b.source) || compare(a.target, b.target) || compare(a.id, b.id));
  return { nodes: shown, edges: shownEdges };
}

function groupNode(id: string, layer: number, members: LineageGraphNode[]): LineageGraphNode {
  const count = members.reduce((sum, n) => sum + Math.max(1, n.data.count), 0);
  const kinds = new Set(members.map((n) => n.data.kind));
  const marks = members.map((n) => n.data.classification).filter((c): c is Classification => c !== null);
  const highest = marks.length ? markingOrder[Math.max(...marks.map((c) => markingOrder.indexOf(c)))]! : null;
  return {
    id,
    type: 'group',
    position: { x: 0, y: 0 },
    width: 0,
    height: 0,
    data: {
      label: `+${count} more`,
      urn: null,
      kind: kinds.size === 1 ? [...kinds][0]! : null,
      qualifiedName: null,
      platform: null,
      // The highest marking among the members, so a group never looks less sensitive than what it hides.
      classification: highest,
      qualityScore: null,
      owner: null,
      status: null,
      layer,
      focus: false,
      columns: [],
      count,
    },
  };
}

interface DagreNode {
  width: number;
  height: number;
  rank?: number;
  x?: number;
  y?: number;
}

/** Positions (top-left corners) from dagre, with each node's rank pinned to its layer. */
function placeNodes(
  nodes: LineageGraphNode[],
  edges: LineageGraphEdge[],
  nodeGap: number,
  layerGap: number,
): Map<string, { x: number; y: number }> {
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
  const minLayer = Math.min(0, ...nodes.map((n) => n.data.layer));
  const layerOf = new Map<string, number>();
  // dagre breaks ties in the order opposite to insertion, so nodes go in reversed to come out by
  // name, with a layer's group last.
  const sorted = [...nodes]
    .sort(
      (a, b) =>
        a.data.layer - b.data.layer ||
        Number(a.type === 'group') - Number(b.type === 'group') ||
        compare(a.data.label, b.data.label) ||
        compare(a.id, b.id),
    )
    .reverse();
  for (const n of sorted) {
    layerOf.set(n.id, n.data.layer);
    g.setNode(n.id, { width: n.width, height: n.height, rank: 2 * (n.data.layer - minLayer) } satisfies DagreNode);
  }
  // Edges only order nodes within their layers; they point from the lower layer to the higher one, and
  // edges inside one layer (a foreign key between two upstream tables) take no part.
  const pairs = new Set<string>();
  for (const e of edges) {
    const [a, b] = layerOf.get(e.source)! <= layerOf.get(e.target)! ? [e.source, e.target] : [e.target, e.source];
    if (layerOf.get(a) === layerOf.get(b)) continue;
    pairs.add(`${a}\u0000${b}`);
  }
  for (const pair of [...pairs].sort().reverse()) {
    const [a, b] = pair.split('\u0000') as [string, string];
    g.setEdge(a, b);
  }
  layout(g);
  const positions = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = g.node(n.id) as DagreNode;
    positions.set(n.id, { x: Math.round(p.x! - n.width / 2), y: Math.round(p.y! - n.height / 2) });
  }
  return positions;
}
