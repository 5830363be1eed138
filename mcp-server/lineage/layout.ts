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
 * Collapses crowded layers into group nodes, then places the nodes left to right in columns: upstream
 * layers left of the focus, downstream layers right of it, one column per hop (more where members of one
 * hop feed each other), each column ordered to keep crossings few and its nodes moved level with what they
 * link to. Node `position` is the top-left corner (as @xyflow/react expects); `width` and `height` fit the
 * label. The result depends only on the nodes and edges given, not on their order. Pure: the input graph
 * is not modified.
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
 * through the gaps between columns, and through the room the layout kept for it in every column it
 * crosses, from source to target. Null when the graph's
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
  return routes();
}

/** What the placement below orders and stacks in a column: a node's card, or an edge passing through. */
interface Item {
  /** Node id, or '' for an edge's passage through a column it crosses. */
  id: string;
  column: number;
  width: number;
  height: number;
  /** Linked items in the column before and the column after (numbers into the item list). */
  prev: number[];
  next: number[];
  /** Vertical centre. */
  y: number;
}

const isCard = (item: Item) => item.id !== '';

/**
 * How far, in px, an item moves to straighten an edge that is almost straight: less than half the pitch of
 * two cards in a column, so a node feeding an even number of cards stays centred on them.
 */
const straighten = 40;

/**
 * Positions (top-left corners) for the nodes, and (worked out when asked) for each edge the points between
 * its ends where it runs through the gaps between nodes, in the edge's own direction. Columns come from `columnsOf`; an edge
 * that spans several columns passes each one in between through a slot of its own, ordered and spaced
 * like a small node, so no edge runs over a card.
 */
function placeNodes(
  nodes: LineageGraphNode[],
  edges: LineageGraphEdge[],
  nodeGap: number,
  layerGap: number,
): { positions: Map<string, Point>; routes: () => Map<string, Point[]> } {
  const column = columnsOf(nodes, edges);
  // Creation order is where the ordering starts and how it breaks ties: by name, a layer's group last.
  const sorted = [...nodes].sort(
    (a, b) =>
      column.get(a.id)! - column.get(b.id)! ||
      Number(a.type === 'group') - Number(b.type === 'group') ||
      compare(a.data.label, b.data.label) ||
      compare(a.id, b.id),
  );
  const items: Item[] = [];
  const index = new Map<string, number>();
  for (const n of sorted) {
    index.set(n.id, items.length);
    items.push({ id: n.id, column: column.get(n.id)!, width: n.width, height: n.height, prev: [], next: [], y: 0 });
  }
  // One chain of items a pair of nodes, from the lower column to the higher; edges inside a column only
  // decided the columns.
  const pairs = new Map<string, [number, number]>();
  for (const e of edges) {
    const s = index.get(e.source);
    const t = index.get(e.target);
    if (s === undefined || t === undefined || items[s]!.column === items[t]!.column) continue;
    const [a, b] = items[s]!.column < items[t]!.column ? [s, t] : [t, s];
    pairs.set(`${items[a]!.id}\u0000${items[b]!.id}`, [a, b]);
  }
  const chains = new Map<string, number[]>();
  for (const key of [...pairs.keys()].sort()) {
    const [a, b] = pairs.get(key)!;
    const chain = [a];
    for (let c = items[a]!.column + 1; c < items[b]!.column; c++) {
      chain.push(items.length);
      items.push({ id: '', column: c, width: 0, height: 0, prev: [], next: [], y: 0 });
    }
    chain.push(b);
    for (let i = 1; i < chain.length; i++) {
      items[chain[i - 1]!]!.next.push(chain[i]!);
      items[chain[i]!]!.prev.push(chain[i - 1]!);
    }
    chains.set(key, chain);
  }

  const columns = orderColumns(items);
  placeVertically(items, columns, nodeGap);

  // Columns are as wide as their widest card, cards centred in them; the cards' top edge is y = 0.
  const left: number[] = [];
  const right: number[] = [];
  let x = 0;
  for (const members of columns) {
    left.push(x);
    x += Math.max(0, ...members.map((i) => items[i]!.width));
    right.push(x);
    x += layerGap;
  }
  const tops = items.filter(isCard).map((item) => item.y - item.height / 2);
  const top = tops.length ? Math.min(...tops) : 0;
  for (const item of items) item.y -= top;
  const centre = (c: number) => (left[c]! + right[c]!) / 2;
  const positions = new Map<string, Point>();
  for (const n of nodes) {
    const item = items[index.get(n.id)!]!;
    positions.set(n.id, { x: Math.round(centre(item.column) - n.width / 2), y: Math.round(item.y - n.height / 2) });
  }

  const edgeRoute = (chain: number[]): Point[] => {
    const points: Point[] = [];
    for (const [k, i] of chain.entries()) {
      const item = items[i]!;
      if (!isCard(item)) points.push({ x: left[item.column]!, y: item.y }, { x: right[item.column]!, y: item.y });
      if (k + 1 < chain.length) points.push(...gapPoints(items, columns, item, items[chain[k + 1]!]!, left, right));
    }
    return points.filter((p, k) => k === 0 || p.x !== points[k - 1]!.x || p.y !== points[k - 1]!.y);
  };
  const routes = () => {
    const forward = new Map([...chains].map(([key, chain]) => [key, edgeRoute(chain)]));
    const byEdge = new Map<string, Point[]>();
    for (const e of edges) {
      const there = forward.get(`${e.source}\u0000${e.target}`);
      const back = forward.get(`${e.target}\u0000${e.source}`);
      byEdge.set(e.id, there ? there : back ? [...back].reverse() : []);
    }
    return byEdge;
  };
  return { positions, routes };
}

/**
 * Where an edge bends on its way from `u` in one column to `v` in the next: in the gap between the
 * columns, and into whichever column has room (cards of a column are centred, so a narrow one leaves
 * room beside it). Flat at the gap's midline on one side, leaving room for a column-count tag there: at
 * the single end of a fan (several edges out of one node bend near it, several into one node bend near
 * that), else on the side with the longer bend.
 */
function gapPoints(items: Item[], columns: number[][], u: Item, v: Item, left: number[], right: number[]): Point[] {
  const c = u.column;
  const mid = Math.round((right[c]! + left[c + 1]!) / 2);
  if (u.y === v.y) return [{ x: mid, y: u.y }];
  const from = isCard(u) ? Math.round((left[c]! + right[c]! + u.width) / 2) : right[c]!;
  const to = isCard(v) ? Math.round((left[c + 1]! + right[c + 1]! - v.width) / 2) : left[c + 1]!;
  const low = Math.min(u.y, v.y);
  const high = Math.max(u.y, v.y);
  // A bend beside a card is blocked by any wider card of that column between the two heights.
  const blocked = (col: number, self: Item, beyond: (item: Item) => boolean) =>
    columns[col]!.some((i) => {
      const item = items[i]!;
      return (
        item !== self &&
        isCard(item) &&
        beyond(item) &&
        item.y - item.height / 2 < high &&
        item.y + item.height / 2 > low
      );
    });
  const nearU = !blocked(c, u, (item) => (left[c]! + right[c]! + item.width) / 2 > from);
  const nearV = !blocked(c + 1, v, (item) => (left[c + 1]! + right[c + 1]! - item.width) / 2 < to);
  if (!nearU && !nearV)
    return [
      { x: right[c]!, y: u.y },
      { x: left[c + 1]!, y: v.y },
    ];
  const fan = u.next.length - v.prev.length;
  const bendNearU = !nearV || (nearU && (fan > 0 || (fan === 0 && mid - from > to - mid)));
  return [{ x: mid, y: bendNearU ? v.y : u.y }];
}

/**
 * Orders the items of each column to keep edge crossings few: a depth-first start, then barycentre sweeps
 * right and left, keeping the best ordering seen.
 */
function orderColumns(items: Item[]): number[][] {
  const columns: number[][] = [];
  const seen = new Uint8Array(items.length);
  const visit = (i: number) => {
    if (seen[i]) return;
    seen[i] = 1;
    const c = items[i]!.column;
    while (columns.length <= c) columns.push([]);
    columns[c]!.push(i);
    for (const j of items[i]!.next) visit(j);
  };
  const start = items.map((_, i) => i).sort((a, b) => items[a]!.column - items[b]!.column || a - b);
  for (const i of start) visit(i);

  const position = new Float64Array(items.length);
  const index = () => {
    for (const members of columns) for (const [k, i] of members.entries()) position[i] = k;
  };
  index();
  let best = columns.map((members) => [...members]);
  let fewest = crossings(items, columns, position);
  for (let sweep = 0; sweep < 8 && fewest > 0; sweep++) {
    const right = sweep % 2 === 0;
    const centre = new Float64Array(items.length);
    for (let k = 1; k < columns.length; k++) {
      const members = columns[right ? k : columns.length - 1 - k]!;
      for (const i of members) {
        const links = right ? items[i]!.prev : items[i]!.next;
        let sum = 0;
        for (const j of links) sum += position[j]!;
        centre[i] = links.length ? sum / links.length : position[i]!;
      }
      members.sort((a, b) => centre[a]! - centre[b]! || position[a]! - position[b]!);
      for (const [p, i] of members.entries()) position[i] = p;
    }
    const count = crossings(items, columns, position);
    if (count < fewest) {
      fewest = count;
      best = columns.map((members) => [...members]);
    }
  }
  return best;
}

/** Edge crossings between consecutive columns for the given positions. */
function crossings(items: Item[], columns: number[][], position: Float64Array): number {
  let count = 0;
  for (const members of columns) {
    const pairs: number[] = [];
    for (const i of members) for (const j of items[i]!.next) pairs.push(position[i]!, position[j]!);
    for (let p = 0; p < pairs.length; p += 2) {
      for (let q = p + 2; q < pairs.length; q += 2) {
        if ((pairs[p]! - pairs[q]!) * (pairs[p + 1]! - pairs[q + 1]!) < 0) count++;
      }
    }
  }
  return count;
}

/**
 * Vertical centres, whole pixels, for the items of each column in their order: stacked `gap` apart, then
 * moved toward their neighbours in the columns either side. Each round sets one column at a time to the
 * positions nearest (least squares) the weighted average of each item's neighbours that keep the order
 * and the gaps (a pool-adjacent-violators fit), sweeping right then left, until nothing moves (or for 24
 * rounds: later ones only stretch the picture a little). Links between edge passages weigh most, so an
 * edge across several columns runs straight.
 */
function placeVertically(items: Item[], columns: number[][], gap: number): void {
  const count = items.length;
  const y = new Float64Array(count);
  // Each item's neighbours in the columns either side and the weight of each link, packed.
  const first = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) first[i + 1] = first[i]! + items[i]!.prev.length + items[i]!.next.length;
  const neighbour = new Int32Array(first[count]!);
  const weight = new Float64Array(first[count]!);
  for (let i = 0; i < count; i++) {
    let at = first[i]!;
    for (const j of [...items[i]!.prev, ...items[i]!.next]) {
      neighbour[at] = j;
      weight[at++] = isCard(items[i]!) ? (isCard(items[j]!) ? 1 : 2) : isCard(items[j]!) ? 2 : 8;
    }
  }
  // Where each item sits below the first of its column when all are packed `gap` apart.
  const offset = new Float64Array(count);
  for (const members of columns) {
    for (let k = 1; k < members.length; k++) {
      const [a, b] = [members[k - 1]!, members[k]!];
      offset[b] = offset[a]! + (items[a]!.height + items[b]!.height) / 2 + gap;
    }
    // Every column starts packed and centred on the same line, the focus's.
    const half = offset[members.at(-1)!]! / 2;
    for (const i of members) y[i] = offset[i]! - half;
  }
  const longest = Math.max(...columns.map((members) => members.length));
  const blockValue = new Float64Array(longest);
  const blockWeight = new Float64Array(longest);
  const blockSize = new Int32Array(longest);
  const place = (members: number[]): number => {
    let blocks = 0;
    for (const i of members) {
      let sum = 0;
      let total = 0;
      for (let at = first[i]!; at < first[i + 1]!; at++) {
        sum += weight[at]! * y[neighbour[at]!]!;
        total += weight[at]!;
      }
      // An item without neighbours keeps its place, lightly.
      let value = (total ? sum / total : y[i]!) - offset[i]!;
      let mass = total || 1e-3;
      let size = 1;
      // Pool adjacent violators: y - offset must not decrease down the column.
      while (blocks > 0 && blockValue[blocks - 1]! >= value) {
        blocks--;
        value = (blockValue[blocks]! * blockWeight[blocks]! + value * mass) / (blockWeight[blocks]! + mass);
        mass += blockWeight[blocks]!;
        size += blockSize[blocks]!;
      }
      blockValue[blocks] = value;
      blockWeight[blocks] = mass;
      blockSize[blocks++] = size;
    }
    let moved = 0;
    let k = 0;
    for (let b = 0; b < blocks; b++) {
      for (let n = 0; n < blockSize[b]!; n++) {
        const i = members[k++]!;
        const to = blockValue[b]! + offset[i]!;
        moved = Math.max(moved, Math.abs(to - y[i]!));
        y[i] = to;
      }
    }
    return moved;
  };
  for (let round = 0; round < 24; round++) {
    let moved = 0;
    for (let k = 0; k < columns.length; k++)
      moved = Math.max(moved, place(columns[round % 2 ? columns.length - 1 - k : k]!));
    if (moved < 0.5) break;
  }
  // Whole pixels, without closing any gap.
  for (const members of columns) {
    for (let k = 0; k < members.length; k++) {
      const i = members[k]!;
      y[i] = Math.round(y[i]!);
      if (k) y[i] = Math.max(y[i]!, y[members[k - 1]!]! + offset[i]! - offset[members[k - 1]!]!);
    }
  }
  // Edges a few pixels off straight look like mistakes: an item moves onto a neighbour's line when that is
  // near, leaves its column's gaps open, and bends its links no more in sum than before.
  const cost = (i: number, at: number) => {
    let sum = 0;
    for (let a = first[i]!; a < first[i + 1]!; a++) sum += weight[a]! * Math.abs(at - y[neighbour[a]!]!);
    return sum;
  };
  for (let round = 0; round < 2; round++) {
    for (let c = 0; c < columns.length; c++) {
      const members = columns[round ? columns.length - 1 - c : c]!;
      for (let k = 0; k < members.length; k++) {
        const i = members[k]!;
        const above = k ? y[members[k - 1]!]! + offset[i]! - offset[members[k - 1]!]! : Number.NEGATIVE_INFINITY;
        const below =
          k + 1 < members.length
            ? y[members[k + 1]!]! - offset[members[k + 1]!]! + offset[i]!
            : Number.POSITIVE_INFINITY;
        const stay = cost(i, y[i]!);
        let best = y[i]!;
        let bestCost = Number.POSITIVE_INFINITY;
        for (let a = first[i]!; a < first[i + 1]!; a++) {
          const to = y[neighbour[a]!]!;
          if (Math.abs(to - y[i]!) > straighten || to < above || to > below) continue;
          const c = cost(i, to);
          if (c > stay) continue;
          if (c < bestCost || (c === bestCost && Math.abs(to - y[i]!) < Math.abs(best - y[i]!))) {
            best = to;
            bestCost = c;
          }
        }
        y[i] = best;
      }
    }
  }
  for (let i = 0; i < count; i++) items[i]!.y = y[i]!;
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
