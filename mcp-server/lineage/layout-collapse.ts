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
  // Nodes by number (a repeated id names its last node), edges as pairs of numbers; graphs of a thousand
  // nodes come through here on every request, so no sets of strings.
  const nodes = graph.nodes;
  const count = nodes.length;
  const indexOf = new Map<string, number>();
  for (let i = 0; i < count; i++) indexOf.set(nodes[i]!.id, i);
  const edges: LineageGraphEdge[] = [];
  const ends: number[] = [];
  for (const e of graph.edges) {
    const s = indexOf.get(e.source);
    const t = indexOf.get(e.target);
    if (s === undefined || t === undefined) continue;
    edges.push(e);
    ends.push(s, t);
  }
  // Each node's neighbours either way, packed; `links` counts the distinct ones.
  const first = new Int32Array(count + 1);
  for (const i of ends) first[i + 1]!++;
  for (let i = 0; i < count; i++) first[i + 1]! += first[i]!;
  const adjacent = new Int32Array(ends.length);
  const fill = first.slice(0, count);
  for (let k = 0; k < ends.length; k += 2) {
    adjacent[fill[ends[k]!]!++] = ends[k + 1]!;
    adjacent[fill[ends[k + 1]!]!++] = ends[k]!;
  }
  const links = new Int32Array(count);
  const seen = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    for (let a = first[i]!; a < first[i + 1]!; a++) {
      if (seen[adjacent[a]!] !== i) links[i]!++;
      seen[adjacent[a]!] = i;
    }
  }
  const isLast = (i: number) => indexOf.get(nodes[i]!.id) === i;
  const focus = new Uint8Array(count);
  const nearFocus = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    if (!isFocus(graph, nodes[i]!) || !isLast(i)) continue;
    focus[i] = 1;
    for (let a = first[i]!; a < first[i + 1]!; a++) nearFocus[adjacent[a]!] = 1;
  }

  const layers = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const layer = nodes[i]!.data.layer;
    if (!layers.has(layer)) layers.set(layer, []);
    layers.get(layer)!.push(i);
  }
  // Inner layers first, so a layer keeps the nodes that connect to what is already kept nearer the focus.
  const order = [...layers.keys()].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
  const kept = new Uint8Array(count);
  // Where each node is shown: itself, or its layer's group (numbered after the nodes).
  const shownAs = new Int32Array(count);
  for (let i = 0; i < count; i++) shownAs[i] = i;
  const score = new Float64Array(count);
  const groups: LineageGraphNode[] = [];
  for (const layer of order) {
    const members = layers.get(layer)!;
    if (members.length <= max) {
      for (const i of members) kept[i] = 1;
      continue;
    }
    // Lower first: not a group, the focus, a neighbour of the focus, linked to a kept node, most links; then
    // by name. Only the first `max - 1` matter, so only the nodes that score no worse than those get sorted.
    for (const i of members) {
      let linkedToKept = 0;
      for (let a = first[i]!; a < first[i + 1]! && !linkedToKept; a++) linkedToKept = kept[adjacent[a]!]!;
      const flags =
        (nodes[i]!.type === 'group' ? 8 : 0) + (focus[i] ? 0 : 4) + (nearFocus[i] ? 0 : 2) + (linkedToKept ? 0 : 1);
      score[i] = flags * 2 ** 32 - links[i]!;
    }
    const scores = new Float64Array(members.length);
    for (let k = 0; k < members.length; k++) scores[k] = score[members[k]!]!;
    const cut = scores.sort()[max - 2]!;
    const ranked = members
      .filter((i) => score[i]! <= cut)
      .sort(
        (a, b) =>
          score[a]! - score[b]! ||
          compare(nodes[a]!.data.label, nodes[b]!.data.label) ||
          compare(nodes[a]!.id, nodes[b]!.id),
      );
    const keep = ranked.slice(0, max - 1);
    for (const i of members) if (focus[i] && !keep.includes(i)) keep.push(i);
    for (const i of keep) kept[i] = 1;
    const rest = members.filter((i) => !kept[i]);
    for (const i of rest) shownAs[i] = count + groups.length;
    groups.push(
      groupNode(
        `group:${layer}`,
        layer,
        rest.map((i) => nodes[i]!),
      ),
    );
  }

  const unique = indexOf.size === count;
  const shown = nodes.filter((n, i) => kept[unique ? i : indexOf.get(n.id)!]).concat(groups);
  const slotId = (slot: number) => (slot < count ? nodes[slot]!.id : groups[slot - count]!.id);
  const kinds = new Map<string, number>();
  for (const e of edges) if (!kinds.has(e.data.kind)) kinds.set(e.data.kind, kinds.size);
  const slots = count + groups.length;
  const merged = new Map<number, { source: number; target: number; originals: LineageGraphEdge[] }>();
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k]!;
    const source = shownAs[ends[2 * k]!]!;
    const target = shownAs[ends[2 * k + 1]!]!;
    // Edges between members of one group vanish into it; a node's edge to itself (a table whose foreign
    // key references the table, as employees.reports_to does) is kept while the node is shown on its own.
    if (source === target && (ends[2 * k] !== ends[2 * k + 1] || source >= count)) continue;
    const key = (source * slots + target) * kinds.size + kinds.get(e.data.kind)!;
    const entry = merged.get(key);
    if (entry) entry.originals.push(e);
    else merged.set(key, { source, target, originals: [e] });
  }
  const shownEdges: LineageGraphEdge[] = [];
  for (const entry of merged.values()) {
    const source = slotId(entry.source);
    const target = slotId(entry.target);
    const originals = entry.originals;
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
  let count = 0;
  const kinds = new Set<LineageGraphNode['data']['kind']>();
  let marking = -1;
  for (const n of members) {
    count += Math.max(1, n.data.count);
    kinds.add(n.data.kind);
    if (n.data.classification) marking = Math.max(marking, markingOrder.indexOf(n.data.classification));
  }
  const highest = marking < 0 ? null : markingOrder[marking]!;
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
