import type { Classification } from '../../db/schema/types.js';
import type { LineageGraph, LineageGraphEdge, LineageGraphNode } from './graph.js';
import { markingOrder } from './layout-text.js';

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isFocus(graph: LineageGraph, n: LineageGraphNode): boolean {
  return n.data.focus || n.id === graph.focus;
}

/** Keeps at most `max` nodes a layer, preferring the focus, its neighbours and what connects to them. */
export function collapseLayers(
  graph: LineageGraph,
  max: number,
): { nodes: LineageGraphNode[]; edges: LineageGraphEdge[] } {
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
