import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { SearchFilters, SearchResult } from '../../../mcp-server/catalog/schemas.js';
import { searchCatalog } from '../../../mcp-server/catalog/search.js';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { createMcpServer } from '../../../mcp-server/server.js';
import { createRng } from './prng.js';
import type { BenchQuery, QueryCategory } from './queries.js';
import { type LatencySummary, summarize, timed } from './stats.js';

export interface PathResult {
  overall: LatencySummary;
  byCategory: Partial<Record<QueryCategory, LatencySummary>>;
  errors: string[];
  /** The slowest queries, for finding out why a percentile is high. */
  slowest: { category: QueryCategory; query: string; filters?: SearchFilters; ms: number }[];
}

export interface SearchMeasurement {
  queries: number;
  passes: number;
  direct: PathResult;
  mcp: PathResult;
  /** Exact-name queries whose expected asset came back first (a sanity check that search still finds things). */
  exactTop1: { hits: number; of: number };
  /** Mean candidates per query (`total`), which drives fusion and facet cost. */
  meanTotal: number;
}

type Runner = (q: BenchQuery) => Promise<SearchResult>;

async function connectClient(ctx: ServiceContext): Promise<{ client: Client; close: () => Promise<void> }> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const server = createMcpServer(ctx);
  await server.connect(serverTransport);
  const client = new Client({ name: 'dataops-bench', version: '1.0.0' });
  await client.connect(clientTransport);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

async function runPasses(
  name: string,
  queries: BenchQuery[],
  run: Runner,
  passes: number,
  seed: number,
): Promise<PathResult & { results: Map<BenchQuery, SearchResult> }> {
  const rng = createRng(seed);
  const samples: { q: BenchQuery; ms: number }[] = [];
  const errors: string[] = [];
  const results = new Map<BenchQuery, SearchResult>();
  for (let pass = 0; pass < passes; pass++) {
    for (const q of rng.shuffle([...queries])) {
      try {
        const { result, ms } = await timed(() => run(q));
        samples.push({ q, ms });
        results.set(q, result);
      } catch (error) {
        errors.push(`${name} "${q.query}": ${(error as Error).message}`);
      }
    }
  }
  const categories = [...new Set(queries.map((q) => q.category))];
  return {
    overall: summarize(samples.map((s) => s.ms)),
    byCategory: Object.fromEntries(
      categories.map((c) => [c, summarize(samples.filter((s) => s.q.category === c).map((s) => s.ms))]),
    ),
    errors,
    slowest: [...samples]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 8)
      .map((s) => ({ category: s.q.category, query: s.q.query, filters: s.q.filters, ms: Math.round(s.ms * 10) / 10 })),
    results,
  };
}

/**
 * Times the query set (a) calling `searchCatalog` in-process and (b) end to end through a real MCP client
 * over InMemoryTransport calling `catalog_search`. One unrecorded warm-up pass precedes each.
 */
export async function measureSearch(
  ctx: ServiceContext,
  queries: BenchQuery[],
  options: { passes: number; seed: number },
): Promise<SearchMeasurement> {
  const direct: Runner = (q) => searchCatalog(ctx, { query: q.query, filters: q.filters, limit: 10 });
  const { client, close } = await connectClient(ctx);
  const viaMcp: Runner = async (q) => {
    const result = await client.callTool({
      name: 'catalog_search',
      arguments: { query: q.query, ...q.filters, limit: 10 },
    });
    if (result.isError) throw new Error(JSON.stringify(result.content));
    return result.structuredContent as unknown as SearchResult;
  };
  try {
    await runPasses('warm-up', queries, direct, 1, options.seed);
    const directResult = await runPasses('direct', queries, direct, options.passes, options.seed + 1);
    await runPasses('warm-up', queries, viaMcp, 1, options.seed + 2);
    const mcpResult = await runPasses('mcp', queries, viaMcp, options.passes, options.seed + 3);
    const exact = queries.filter((q) => q.expectName);
    const exactHits = exact.filter((q) => directResult.results.get(q)?.hits[0]?.name === q.expectName).length;
    const totals = [...directResult.results.values()].map((r) => r.total);
    const strip = ({ results: _results, ...rest }: PathResult & { results: unknown }): PathResult => rest;
    return {
      queries: queries.length,
      passes: options.passes,
      direct: strip(directResult),
      mcp: strip(mcpResult),
      exactTop1: { hits: exactHits, of: exact.length },
      meanTotal: Math.round(totals.reduce((s, v) => s + v, 0) / Math.max(1, totals.length)),
    };
  } finally {
    await close();
  }
}
