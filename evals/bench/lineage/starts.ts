import type postgres from 'postgres';
import { createRng } from '../search/prng.js';
import type { GraphSpec } from './generate-graph.js';
import { type Adjacency, reachCount } from './generate-graph.js';
import type { Start } from './measure.js';

export interface Starts {
  /** Nodes whose downstream within `smallDepth` hops is at most `smallLimit` nodes, drawn uniformly. */
  small: Start[];
  /** The hub whose `worstDepth`-hop downstream is nearest `worstTarget` from above. */
  worst: Start;
  /** The node reaching the most within 20 hops: far more than a 100 ms budget can walk. */
  widest: Start;
  /** Uniformly drawn nodes, for getLineage. */
  random: Start[];
  /** Nodes with column lineage downstream, and one such column each. */
  columns: Start[];
  /** Hubs and their `worstDepth`-hop reach, largest first. */
  hubs: { n: number; fanOut: number; reach: number }[];
}

export interface StartOptions {
  queries: number;
  smallDepth: number;
  smallLimit: number;
  worstDepth: number;
  worstTarget: number;
  columnQueries: number;
  seed: number;
}

/** Picks the start nodes of every scenario by counting reachable sets in memory (not through the services). */
export async function pickStarts(
  client: postgres.Sql,
  graph: Adjacency,
  spec: GraphSpec,
  options: StartOptions,
): Promise<Starts> {
  const rng = createRng(options.seed);
  const seen = new Int32Array(graph.nodes);
  let stamp = 0;
  const start = (n: number, reach: number): Start => ({
    n,
    id: graph.ids[n]!,
    urn: graph.urns[n]!,
    layer: graph.layer[n]!,
    reach,
  });
  const perLayer = graph.nodes / spec.layers;
  const hubs: Starts['hubs'] = [];
  for (let layer = 0; layer < spec.hubLayers; layer++) {
    for (let i = 0; i < spec.hubsPerLayer; i++) {
      const n = layer * perLayer + i;
      const fanOut = graph.offsets[n + 1]! - graph.offsets[n]!;
      hubs.push({ n, fanOut, reach: reachCount(graph, n, options.worstDepth, seen, ++stamp) });
    }
  }
  hubs.sort((a, b) => b.reach - a.reach);
  const above = hubs.filter((h) => h.reach >= options.worstTarget);
  const worstHub = above.length > 0 ? above[above.length - 1]! : hubs[0]!;
  const widestHub = hubs[0]!;

  const small: Start[] = [];
  const taken = new Set<number>();
  for (let tries = 0; small.length < options.queries && tries < options.queries * 50; tries++) {
    const n = rng.int(0, graph.nodes - 1);
    if (taken.has(n)) continue;
    const reach = reachCount(graph, n, options.smallDepth, seen, ++stamp);
    if (reach > options.smallLimit) continue;
    taken.add(n);
    small.push(start(n, reach));
  }
  const random: Start[] = [];
  for (let i = 0; i < options.queries; i++) random.push(start(rng.int(0, graph.nodes - 1), -1));

  // Column walks: nodes of column domains in the middle layers, with a column that has mappings downstream.
  const candidates = await client.unsafe<{ n: number; column: string }[]>(
    `select distinct on (b.n) b.n, c.from_column as column
       from bench_nodes b join lineage_edges e on e.from_asset_id = b.id join column_lineage c on c.edge_id = e.id
       where b.domain % ${spec.columnDomainEvery} = 0 and b.layer between ${Math.floor(spec.layers / 3)}
         and ${spec.layers - 3} and c.to_column is not null and b.slot = ${1 + (options.seed % 7)}
       order by b.n, c.from_column limit 200`,
  );
  const columns = rng.sample(candidates, options.columnQueries).map((c) => ({
    ...start(c.n, reachCount(graph, c.n, options.smallDepth, seen, ++stamp)),
    column: c.column,
  }));
  return {
    small,
    worst: start(worstHub.n, worstHub.reach),
    widest: start(widestHub.n, reachCount(graph, widestHub.n, 20, seen, ++stamp)),
    random,
    columns,
    hubs,
  };
}
