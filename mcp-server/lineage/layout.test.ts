import { describe, expect, it } from 'vitest';
import {
  assetNode,
  demoLineageGraph,
  edge,
  loneLineageGraph,
  starLineageGraph,
  wideLineageGraph,
} from '../../test/fixtures/lineage-graphs.js';
import type { LineageGraph, LineageGraphNode } from './graph.js';
import { layoutLineage, lineageEdgeRoutes } from './layout.js';

function node(graph: LineageGraph, qualifiedName: string): LineageGraphNode {
  const found = graph.nodes.find((n) => n.data.qualifiedName === qualifiedName);
  if (!found) throw new Error(`no node ${qualifiedName}`);
  return found;
}

const centreX = (n: LineageGraphNode) => n.position.x + n.width / 2;

function overlaps(a: LineageGraphNode, b: LineageGraphNode): boolean {
  return (
    a.position.x < b.position.x + b.width &&
    b.position.x < a.position.x + a.width &&
    a.position.y < b.position.y + b.height &&
    b.position.y < a.position.y + a.height
  );
}

function expectNoOverlaps(graph: LineageGraph) {
  for (const [i, a] of graph.nodes.entries()) {
    for (const b of graph.nodes.slice(i + 1)) expect(overlaps(a, b), `${a.id} overlaps ${b.id}`).toBe(false);
  }
}

/**
 * Four hops each way around one focus, 12 tables a hop, each fed by one or two tables a hop nearer the
 * focus; every fifth also by a table two hops nearer (an edge across a column), every seventh by a
 * neighbour of the same hop.
 */
function deepGraph(): LineageGraph {
  const focus = assetNode('core.focus', 0);
  const hops = new Map<number, LineageGraphNode[]>([[0, [focus]]]);
  for (let layer = -4; layer <= 4; layer++) {
    if (layer === 0) continue;
    const side = layer < 0 ? 'up' : 'down';
    hops.set(
      layer,
      Array.from({ length: 12 }, (_, i) =>
        assetNode(`${side}${Math.abs(layer)}.t${String(i).padStart(2, '0')}`, layer),
      ),
    );
  }
  const edges = [];
  for (const [layer, members] of hops) {
    if (layer === 0) continue;
    const inward = Math.sign(layer);
    const near = hops.get(layer - inward)!;
    const far = hops.get(layer - 2 * inward);
    for (const [i, n] of members.entries()) {
      const feeds = [near[(i * 5) % near.length]!, near[(i * 7 + 3) % near.length]!];
      if (far && i % 5 === 0) feeds.push(far[(i * 3) % far.length]!);
      for (const m of new Set(feeds)) edges.push(layer > 0 ? edge(m, n) : edge(n, m));
      if (i % 7 === 6) edges.push(edge(members[i - 1]!, n, 'references'));
    }
  }
  return { ...demoLineageGraph(), focus: focus.id, depth: 4, nodes: [...hops.values()].flat(), edges };
}

describe('layoutLineage', () => {
  it('puts upstream layers left of the focus and downstream layers right of it, one column a hop', () => {
    const graph = layoutLineage(demoLineageGraph());
    const payments = node(graph, 'contracts.payments');
    const vendors = node(graph, 'contracts.vendors');
    const contracts = node(graph, 'contracts.contracts');
    const focus = node(graph, 'contracts.vendor_spend_by_fy');
    const scorecard = node(graph, 'performance.vendor_scorecard');
    const job = node(graph, 'airflow.refresh_vendor_spend');
    const dashboard = node(graph, 'finance.spend_dashboard');

    const obligations = node(graph, 'contracts.obligations');
    expect(centreX(payments)).toBeLessThan(centreX(vendors));
    expect(centreX(vendors)).toBeLessThan(centreX(focus));
    expect(centreX(focus)).toBeLessThan(centreX(scorecard));
    expect(centreX(scorecard)).toBeLessThan(centreX(dashboard));
    // A layer is one column, unless edges between its own members need more: the foreign key from
    // vendors to contracts (both one hop upstream) puts contracts a column to the right, still left of the focus.
    expect(centreX(scorecard)).toBe(centreX(job));
    expect(centreX(vendors)).toBe(centreX(obligations));
    expect(centreX(vendors)).toBeLessThan(centreX(contracts));
    expect(centreX(contracts)).toBeLessThan(centreX(focus));
    expect(centreX(payments)).toBe(centreX(node(graph, 'contracts.programs')));
    expect(graph.nodes.filter((n) => n.type === 'group')).toEqual([]);
    expectNoOverlaps(graph);
  });

  it('sizes nodes to their labels and leaves the input untouched', () => {
    const input = demoLineageGraph();
    const before = structuredClone(input);
    const graph = layoutLineage(input);
    expect(input).toEqual(before);
    for (const n of graph.nodes) {
      expect(n.width).toBeGreaterThanOrEqual(176);
      expect(n.width).toBeLessThanOrEqual(300);
      expect(n.height).toBeGreaterThan(40);
    }
    const long = layoutLineage({
      ...input,
      nodes: input.nodes.map((n) =>
        n.data.focus ? { ...n, data: { ...n.data, label: 'vendor_spend_by_fiscal_year_and_quarter' } } : n,
      ),
    });
    const focus = long.nodes.find((n) => n.data.focus)!;
    expect(focus.width).toBeGreaterThan(node(graph, 'contracts.vendors').width);
    expect(focus.width).toBeLessThanOrEqual(300);
    expect(graph.edges).toHaveLength(input.edges.length);
  });

  it('is deterministic and does not depend on the order nodes and edges arrive in', () => {
    const input = wideLineageGraph(60);
    const first = layoutLineage(input);
    expect(layoutLineage(input)).toEqual(first);
    const shuffled = { ...input, nodes: [...input.nodes].reverse(), edges: [...input.edges].reverse() };
    expect(layoutLineage(shuffled)).toEqual(first);
  });

  it('collapses a crowded layer into one group node with the right count and re-pointed, deduplicated edges', () => {
    const input = wideLineageGraph(60);
    const graph = layoutLineage(input, { maxNodesPerLayer: 12 });
    const layer2 = graph.nodes.filter((n) => n.data.layer === 2);
    expect(layer2).toHaveLength(12);
    const group = graph.nodes.find((n) => n.type === 'group');
    expect(group).toMatchObject({
      id: 'group:2',
      type: 'group',
      data: { layer: 2, count: 49, label: '+49 more', kind: 'view', classification: 'S', focus: false },
    });
    // The focus, its upstream table and all three views it feeds stay.
    expect(graph.nodes.filter((n) => n.data.layer <= 1)).toHaveLength(5);
    expect(node(graph, 'logistics.shipments').data.focus).toBe(true);

    // Every node an edge names is shown; each view has one edge into the group, not one per report.
    const ids = new Set(graph.nodes.map((n) => n.id));
    for (const e of graph.edges) {
      expect(ids.has(e.source) && ids.has(e.target)).toBe(true);
    }
    const intoGroup = graph.edges.filter((e) => e.target === 'group:2');
    expect(intoGroup).toHaveLength(3);
    expect(new Set(intoGroup.map((e) => e.id)).size).toBe(3);
    const keys = graph.edges.map((e) => `${e.source}|${e.target}|${e.data.kind}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Shown reports plus what the group stands for add up to the original layer.
    expect(layer2.filter((n) => n.type === 'asset').length + group!.data.count).toBe(60);
    expectNoOverlaps(graph);
  });

  it('keeps every direct neighbour of the focus when they fit, and caps them when they do not', () => {
    const few = layoutLineage(starLineageGraph(11));
    expect(few.nodes).toHaveLength(12);
    expect(few.nodes.some((n) => n.type === 'group')).toBe(false);

    const many = layoutLineage(starLineageGraph(40), { maxNodesPerLayer: 8 });
    expect(many.nodes.find((n) => n.data.focus)?.data.qualifiedName).toBe('personnel.staff');
    const layer1 = many.nodes.filter((n) => n.data.layer === 1);
    expect(layer1).toHaveLength(8);
    expect(layer1.find((n) => n.type === 'group')?.data.count).toBe(33);
    expectNoOverlaps(many);
  });

  it('collapses a graph only once: laying out a laid-out graph changes nothing', () => {
    const once = layoutLineage(wideLineageGraph(60));
    expect(layoutLineage(once)).toEqual(once);
  });

  it('spreads a layer over more columns when its members feed each other, and survives cycles', () => {
    const input = demoLineageGraph();
    const [vendors, contracts] = ['contracts.vendors', 'contracts.contracts'].map((q) => node(input, q));
    // A foreign key each way between two tables of the same hop.
    input.edges.push({ ...input.edges.find((e) => e.source === vendors!.id && e.target === contracts!.id)! });
    input.edges.at(-1)!.id = 'reverse';
    input.edges.at(-1)!.source = contracts!.id;
    input.edges.at(-1)!.target = vendors!.id;
    const graph = layoutLineage(input);
    expect(layoutLineage(input)).toEqual(graph);
    expectNoOverlaps(graph);
    expect(centreX(node(graph, 'contracts.vendors'))).not.toBe(centreX(node(graph, 'contracts.contracts')));
    expect(centreX(node(graph, 'contracts.contracts'))).toBeLessThan(
      centreX(node(graph, 'contracts.vendor_spend_by_fy')),
    );
  });

  it('routes edges through the gaps between nodes, for the positions it gave', () => {
    const graph = layoutLineage(wideLineageGraph(60));
    const routes = lineageEdgeRoutes(graph)!;
    expect(routes.size).toBe(graph.edges.length);
    const inside = (p: { x: number; y: number }, n: LineageGraphNode) =>
      p.x > n.position.x && p.x < n.position.x + n.width && p.y > n.position.y && p.y < n.position.y + n.height;
    let bends = 0;
    for (const points of routes.values()) {
      for (const p of points) {
        bends++;
        for (const n of graph.nodes) expect(inside(p, n), `${JSON.stringify(p)} inside ${n.id}`).toBe(false);
      }
    }
    expect(bends).toBeGreaterThanOrEqual(graph.edges.length);

    const moved = { ...graph, nodes: graph.nodes.map((n, i) => (i ? n : { ...n, position: { x: -500, y: 0 } })) };
    expect(lineageEdgeRoutes(moved)).toBeNull();
  });

  it('lays out nine hops without overlaps, the same for any input order, edges clear of every card', () => {
    const input = deepGraph();
    const graph = layoutLineage(input);
    expect(graph.nodes).toHaveLength(input.nodes.length);
    expectNoOverlaps(graph);
    const shuffled = { ...input, nodes: [...input.nodes].reverse(), edges: [...input.edges].reverse() };
    expect(layoutLineage(shuffled)).toEqual(graph);

    const routes = lineageEdgeRoutes(graph)!;
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const clear = (p: { x: number; y: number }, n: LineageGraphNode) =>
      p.x <= n.position.x || p.x >= n.position.x + n.width || p.y <= n.position.y || p.y >= n.position.y + n.height;
    let across = 0;
    const problems: string[] = [];
    for (const e of graph.edges) {
      const points = routes.get(e.id)!;
      for (const p of points) {
        for (const n of graph.nodes) if (!clear(p, n)) problems.push(`${e.id} at ${p.x},${p.y} inside ${n.id}`);
      }
      const [s, t] = [byId.get(e.source)!, byId.get(e.target)!];
      // Across more than two columns an edge passes each column in between level, as a run of two points,
      // at least the node gap from the cards above and below.
      const between = graph.nodes.filter(
        (n) => n.position.x > s.position.x + s.width && n.position.x + n.width < t.position.x,
      );
      if (between.length === 0) continue;
      across++;
      const level = points.filter((p, i) => i > 0 && points[i - 1]!.y === p.y && points[i - 1]!.x < p.x);
      if (level.length === 0) problems.push(`${e.id} never runs level`);
      for (const p of level) {
        for (const n of graph.nodes) {
          if (p.x <= n.position.x || p.x > n.position.x + n.width) continue;
          const gap = Math.min(Math.abs(p.y - n.position.y), Math.abs(p.y - n.position.y - n.height));
          if (gap < 20) problems.push(`${e.id} passes ${gap} px from ${n.id}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(across).toBeGreaterThan(10);
  });

  it('lines up a chain and centres the focus on the nodes it fans out to', () => {
    const chain = ['a', 'b', 'c', 'd', 'e'].map((name, i) => assetNode(`chain.${name}`, i - 2));
    const graph = layoutLineage({
      ...loneLineageGraph(),
      focus: chain[2]!.id,
      nodes: chain,
      edges: chain.slice(1).map((n, i) => edge(chain[i]!, n)),
    });
    expect(new Set(graph.nodes.map((n) => n.position.y + n.height / 2))).toEqual(new Set([38]));

    const star = layoutLineage(starLineageGraph(11));
    const focus = star.nodes.find((n) => n.data.focus)!;
    const readers = star.nodes.filter((n) => n.data.layer === 1);
    const top = Math.min(...readers.map((n) => n.position.y));
    const bottom = Math.max(...readers.map((n) => n.position.y + n.height));
    expect(focus.position.y + focus.height / 2).toBe((top + bottom) / 2);
  });

  it('places a lone focus at the origin', () => {
    const graph = layoutLineage(loneLineageGraph());
    expect(graph.nodes).toHaveLength(1);
    expect(graph.nodes[0]!.position).toEqual({ x: 0, y: 0 });
    expect(graph.edges).toEqual([]);
  });
});
