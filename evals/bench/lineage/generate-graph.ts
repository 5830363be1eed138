import type postgres from 'postgres';

/**
 * A layered lineage graph generated in the database with SQL (generate_series, insert ... select), not
 * through the services: 250k assets and ~1M `derives` edges load in well under a minute this way.
 *
 * Shape, meant to look like a real estate:
 * - `layers` layers of equal size; layer 0 holds source tables, the last layer dashboards and data products.
 * - Each layer is split into `domains` (teams). A node reads 1 to 8 upstream nodes (mean `edges / nodes`),
 *   mostly from its own domain and the previous 1 to 3 layers (60/25/10 %, 5 % from any earlier layer),
 *   skewed towards the first nodes of a domain's layer.
 * - A share of reads (`hubShare`) goes to shared hub nodes (conformed dimensions, reference tables): the
 *   first `hubsPerLayer` nodes of each of the first `hubLayers` layers, Zipf-like, so a few hubs have a
 *   fan-out in the thousands and reach much of the graph while most nodes reach only part of their domain.
 * - Nodes of every `columnDomainEvery`-th domain have 6 columns, and their incoming edges 2 column
 *   mappings each (mostly DIRECT, some INDIRECT), so column walks have data.
 */
export interface GraphSpec {
  nodes: number;
  edges: number;
  layers: number;
  domains: number;
  hubLayers: number;
  hubsPerLayer: number;
  hubShare: number;
  columnDomainEvery: number;
  seed: number;
}

export const defaultSpec: Omit<GraphSpec, 'nodes' | 'edges' | 'seed'> = {
  layers: 25,
  domains: 200,
  hubLayers: 4,
  hubsPerLayer: 40,
  hubShare: 0.06,
  columnDomainEvery: 4,
};

export interface LoadedGraph {
  spec: GraphSpec;
  assets: number;
  edges: number;
  columns: number;
  columnLineage: number;
  /** Wall time of each load step, in ms. */
  steps: Record<string, number>;
  ms: number;
}

/**
 * Loads the graph into a migrated, empty catalog. `bench_nodes` (node number -> asset id, layer, domain)
 * stays in the scratch database so the benchmark can pick start nodes by number.
 */
export async function loadGraph(client: postgres.Sql, spec: GraphSpec): Promise<LoadedGraph> {
  const perLayer = Math.floor(spec.nodes / spec.layers);
  const nodes = perLayer * spec.layers;
  const perDomain = Math.floor(perLayer / spec.domains);
  if (perDomain < 2) throw new Error(`--nodes ${spec.nodes} is too small for ${spec.layers} x ${spec.domains}`);
  // Mean fan-in so that the nodes below layer 0 carry `edges` edges (about 2 % of picks repeat an edge
  // and are dropped); k = 1 + floor(u * spread) is 1..8.
  const meanFanIn = (spec.edges * 1.02) / (nodes - perLayer);
  const spread = Math.min(7.999, Math.max(0, 2 * meanFanIn - 1));
  const steps: Record<string, number> = {};
  const step = async (name: string, statement: string) => {
    const start = performance.now();
    await client.unsafe(statement);
    steps[name] = Math.round(performance.now() - start);
  };
  const start = performance.now();
  await client.unsafe(`set maintenance_work_mem = '256MB'; set work_mem = '64MB'`);
  // The rows are valid by construction; skipping the per-row foreign-key triggers halves the load time.
  await client.unsafe(`set session_replication_role = replica`);
  await client.unsafe(`select setseed(${(spec.seed % 1_000_000) / 1_000_000})`);
  // Secondary indexes are built once after the load (faster than row by row) and are the same indexes.
  const indexes = await client.unsafe<{ name: string; definition: string }[]>(
    `select i.indexname as name, i.indexdef as definition from pg_indexes i
       where i.schemaname = 'public' and i.tablename in ('assets', 'columns', 'lineage_edges', 'column_lineage')
         and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
  );
  await client.unsafe(indexes.map((i) => `drop index ${i.name};`).join('\n'));
  await step(
    'nodes',
    `create table bench_nodes as
       select n, gen_random_uuid() as id, n / ${perLayer} as layer, n % ${perLayer} as idx,
         (n % ${perLayer}) % ${spec.domains} as domain, (n % ${perLayer}) / ${spec.domains} as slot,
         1 + floor(random() * ${spread})::int as fan_in
       from generate_series(0, ${nodes - 1}) n;
     alter table bench_nodes add primary key (n);
     create unique index bench_nodes_id_idx on bench_nodes (id);`,
  );
  const last = spec.layers - 1;
  await step(
    'assets',
    `insert into assets (id, urn, kind, namespace, name, qualified_name, classification, owner, status,
         description, created_at, updated_at)
       select id, 'urn:dataops:postgres:bench:' || ns || '.' || name,
         case when layer = 0 then 'table'
              when layer = ${last} then (array['dashboard','dashboard','dashboard','data_product','view'])[1 + n % 5]
              else (array['table','view','view','materialized_view','table'])[1 + n % 5] end,
         ns, name, ns || '.' || name, 'U', 'team' || lpad(domain::text, 3, '0') || '@example.org', 'active',
         'generated lineage benchmark asset', now(), now()
       from (select *, 'd' || lpad(domain::text, 3, '0') as ns,
               'l' || lpad(layer::text, 2, '0') || '_n' || lpad(n::text, 6, '0') as name from bench_nodes) b`,
  );
  // One row per read: pick the parent's layer and slot from random draws, then map numbers to asset ids.
  await step(
    'edges',
    `insert into lineage_edges (from_asset_id, to_asset_id, kind, origin, valid_from)
       select distinct p.id, c.id, 'derives', 'bench', timestamptz '2024-01-01'
       from (
         select c.n, c.layer, c.domain, random() as r1, random() as r2, random() as r3, random() as r4
         from bench_nodes c cross join lateral generate_series(1, c.fan_in) j
         where c.layer > 0
       ) r
       join bench_nodes c on c.n = r.n
       join bench_nodes p on p.n = case
         when r.r4 < ${spec.hubShare} then
           floor(r.r1 * least(r.layer, ${spec.hubLayers}))::int * ${perLayer}
             + floor(${spec.hubsPerLayer} * r.r2 * r.r2 * r.r2)::int
         else
           greatest(0, r.layer - case when r.r1 < 0.60 then 1 when r.r1 < 0.85 then 2 when r.r1 < 0.95 then 3
             else 1 + floor(r.r3 * r.layer)::int end) * ${perLayer}
             + r.domain + ${spec.domains} * floor(${perDomain} * power(r.r2, 1.5))::int
         end`,
  );
  await step(
    'columns',
    `insert into columns (asset_id, name, position, data_type)
       select b.id, 'c' || k, k, case when k = 1 then 'bigint' else 'text' end
       from bench_nodes b cross join generate_series(1, 6) k
       where b.domain % ${spec.columnDomainEvery} = 0`,
  );
  // Two mappings per edge into a column domain: c_i -> c_i (identity) and c_j -> c_k, 1 in 8 of them INDIRECT.
  await step(
    'column_lineage',
    `insert into column_lineage (edge_id, from_column, to_column, transformation_type, transformation_subtype)
       select e.id, 'c' || m.f, case when m.indirect then null else 'c' || m.t end,
         case when m.indirect then 'INDIRECT' else 'DIRECT' end,
         case when m.indirect then 'JOIN' when m.f = m.t then 'IDENTITY' else 'TRANSFORMATION' end
       from lineage_edges e
       join bench_nodes c on c.id = e.to_asset_id and c.domain % ${spec.columnDomainEvery} = 0
       join bench_nodes p on p.id = e.from_asset_id and p.domain % ${spec.columnDomainEvery} = 0
       cross join lateral (values
         (1 + (c.n + p.n) % 6, 1 + (c.n + p.n) % 6, false),
         (1 + (c.n * 7 + p.n) % 6, 1 + (p.n * 3 + c.n) % 6, (c.n + p.n * 5) % 8 = 0)) m(f, t, indirect)`,
  );
  await client.unsafe(`set session_replication_role = origin`);
  await step('indexes', indexes.map((i) => `${i.definition};`).join('\n'));
  await step('analyze', 'analyze');
  const ms = performance.now() - start;
  const [counts] = await client.unsafe<{ assets: number; edges: number; columns: number; columnLineage: number }[]>(
    `select (select count(*) from assets)::int as assets, (select count(*) from lineage_edges)::int as edges,
       (select count(*) from columns)::int as columns, (select count(*) from column_lineage)::int as "columnLineage"`,
  );
  return { spec, ...counts!, steps, ms: Math.round(ms) };
}

/** Downstream adjacency in compressed sparse rows over node numbers: children of n are targets[offsets[n]..offsets[n+1]). */
export interface Adjacency {
  nodes: number;
  offsets: Int32Array;
  targets: Int32Array;
  layer: Int32Array;
  domain: Int32Array;
  ids: string[];
  urns: string[];
}

/** Reads the generated graph back as node numbers, to count reachable sets without asking the services. */
export async function readAdjacency(client: postgres.Sql): Promise<Adjacency> {
  const nodeRows = await client.unsafe<{ n: number; layer: number; domain: number; id: string; urn: string }[]>(
    `select b.n, b.layer, b.domain, b.id::text, a.urn from bench_nodes b join assets a on a.id = b.id order by b.n`,
  );
  const nodes = nodeRows.length;
  const layer = new Int32Array(nodes);
  const domain = new Int32Array(nodes);
  const ids: string[] = new Array(nodes);
  const urns: string[] = new Array(nodes);
  for (const r of nodeRows) {
    layer[r.n] = r.layer;
    domain[r.n] = r.domain;
    ids[r.n] = r.id;
    urns[r.n] = r.urn;
  }
  // One text value per parent keeps a million edges to a few thousand rows over the wire.
  const edgeRows = await client.unsafe<{ n: number; children: string }[]>(
    `select p.n, string_agg(c.n::text, ',') as children
       from lineage_edges e join bench_nodes p on p.id = e.from_asset_id join bench_nodes c on c.id = e.to_asset_id
       where e.valid_to is null group by p.n`,
  );
  const lists = new Map<number, number[]>();
  let total = 0;
  for (const r of edgeRows) {
    const children = r.children.split(',').map(Number);
    lists.set(r.n, children);
    total += children.length;
  }
  const offsets = new Int32Array(nodes + 1);
  const targets = new Int32Array(total);
  let at = 0;
  for (let n = 0; n < nodes; n++) {
    offsets[n] = at;
    for (const c of lists.get(n) ?? []) targets[at++] = c;
  }
  offsets[nodes] = at;
  return { nodes, offsets, targets, layer, domain, ids, urns };
}

/**
 * Counts the nodes reachable downstream of `start` within `depth` hops (the start not counted), by
 * breadth-first search over the adjacency. `seen` is scratch space of `nodes` entries, reused across calls.
 */
export function reachCount(graph: Adjacency, start: number, depth: number, seen: Int32Array, stamp: number): number {
  let frontier = [start];
  seen[start] = stamp;
  let count = 0;
  for (let hop = 1; hop <= depth && frontier.length > 0; hop++) {
    const next: number[] = [];
    for (const n of frontier) {
      for (let i = graph.offsets[n]!; i < graph.offsets[n + 1]!; i++) {
        const c = graph.targets[i]!;
        if (seen[c] === stamp) continue;
        seen[c] = stamp;
        next.push(c);
      }
    }
    count += next.length;
    frontier = next;
  }
  return count;
}
