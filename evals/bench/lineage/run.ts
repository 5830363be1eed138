/**
 * Lineage benchmark: `lineage_impact` and `lineage_get` on a generated graph of 250k assets and ~1M edges
 * in a scratch database on the Postgres server. Not a test: it prints figures (and writes results.json
 * with --out).
 *
 *   npx tsx evals/bench/lineage/run.ts [--nodes 250000] [--edges 1000000] [--queries 100] [--passes 3]
 *     [--column-queries 3] [--seed N] [--out]
 *
 * The scratch database is dropped at the end, on failure and on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createDb } from '../../../db/create-db.js';
import { createScratchDatabase } from '../../../db/scratch-database.js';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { lineageImpact } from '../../../mcp-server/lineage/analysis.js';
import { benchContext, defaultServerUrl } from '../bench-runtime.js';
import { cleanupAll, cleanupOnSignals, onCleanup, wasInterrupted } from '../search/cleanup.js';
import { formatMs, summarize, timed } from '../search/stats.js';
import { explain, hopFrontier, hopQueries, recording, sqlText } from './explain.js';
import { defaultSpec, type GraphSpec, loadGraph, reachCount, readAdjacency } from './generate-graph.js';
import { impact, lineage, lineagePhases, measure, medianMs, type ScenarioResult, type Start } from './measure.js';
import { checkTargets, type HopTiming, type LineageBenchResults, printSummary, scenarios, variants } from './report.js';
import { pickStarts, type Starts } from './starts.js';

const resultsPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '250000' },
    edges: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '100' },
    passes: { type: 'string', default: '3' },
    'column-queries': { type: 'string', default: '3' },
    seed: { type: 'string', default: '20241125' },
    out: { type: 'boolean', default: false },
  },
});
const seed = Number(args.seed);
const passes = Number(args.passes);
const queries = Number(args.queries);
const spec: GraphSpec = { ...defaultSpec, nodes: Number(args.nodes), edges: Number(args.edges), seed };
const serverUrl = process.env.DATAOPS_BENCH_SERVER_URL ?? defaultServerUrl;
/** Depths and sizes the targets name. */
const smallDepth = 10;
const worstDepth = 9;
const worstTarget = 60_000;
/** Guards the scratch database's sessions: the product's slowest hop must not run forever. */
const statementTimeout = '300s';

async function environment(): Promise<Record<string, unknown>> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select version() as version, current_setting('shared_buffers') as shared_buffers,
      current_setting('work_mem') as work_mem, current_setting('autovacuum') as autovacuum,
      current_setting('random_page_cost') as random_page_cost`;
    return {
      node: process.version,
      cpus: os.cpus().length,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      server: row,
    };
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** The scenarios, each through the real lineageImpact / getLineage. */
async function runVariant(
  results: LineageBenchResults,
  variant: string,
  ctx: ServiceContext,
  starts: Starts,
): Promise<SQL | undefined> {
  // Every call goes through a recording context, to split its time into hops, other queries and the rest.
  const recorder = recording(ctx);
  const options = { passes, seed, recorder };
  const slow = 30_000;
  console.log(`\n== ${variant}`);
  const add = async (result: Promise<ScenarioResult>) => {
    const s = await result;
    results.scenarios.push(s);
    console.log(
      `  ${s.scenario}: p50 ${formatMs(s.p50)}, p95 ${formatMs(s.p95)} (${s.runs} runs, ${s.reached.median} reached)`,
    );
  };
  const impactOf = (request: Parameters<typeof impact>[1]) => impact(recorder.ctx, request);
  const repeated = (start: Start) => Array.from({ length: 5 }, () => start);
  await add(
    measure(scenarios.small, variant, starts.small, impactOf({ depth: smallDepth, budgetMs: 30_000 }), {
      ...options,
      warmup: 10,
      repeatBelowMs: slow,
    }),
  );
  const budget = impactOf({ depth: 20, budgetMs: 100, maxAssets: 300_000 });
  const once = { ...options, repeatBelowMs: slow };
  await add(measure(scenarios.budgetWidest, variant, repeated(starts.widest), budget, once));
  await add(measure(scenarios.budgetWorst, variant, repeated(starts.worst), budget, once));
  // The product's worst case takes minutes: it runs once. The last call's hops are kept.
  const worst = impactOf({ depth: worstDepth, budgetMs: 60_000, maxAssets: 300_000 });
  await add(measure(scenarios.worst, variant, repeated(starts.worst), worst, once));
  const hops: (HopTiming & { query: SQL })[] = [];
  for (const s of recorder.statements) {
    const frontier = hopFrontier(s.query);
    if (frontier !== null)
      hops.push({ hop: hops.length + 1, frontier, rows: s.rows, ms: Math.round(s.ms), query: s.query });
  }
  results.worstHops.push({ variant, hops: hops.map(({ query, ...h }) => h) });
  const widest = hops.reduce<(typeof hops)[number] | undefined>(
    (w, h) => (w && w.frontier >= h.frontier ? w : h),
    undefined,
  );
  await add(
    measure(scenarios.lineage, variant, starts.random, lineage(recorder.ctx, 3), {
      ...options,
      warmup: 10,
      repeatBelowMs: slow,
    }),
  );
  return widest?.query;
}

async function main(): Promise<void> {
  cleanupOnSignals();
  const results: LineageBenchResults = {
    startedAt: new Date().toISOString(),
    environment: {},
    options: { ...spec, queries, passes, columnQueries: Number(args['column-queries']), statementTimeout },
    expectedWorstReach: 0,
    scenarios: [],
    phases: [],
    worstHops: [],
    plans: [],
    targets: [],
    errors: [],
  };
  try {
    results.environment = await environment();
    const scratch = await createScratchDatabase(serverUrl, 'dataops_bench_lineage');
    const drop = onCleanup(`database ${scratch.name}`, scratch.drop);
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`alter database ${scratch.name} set statement_timeout = '${statementTimeout}'`);
    await admin.end();
    const database = await createDb({ target: scratch.url });
    const close = onCleanup(`connection to ${scratch.name}`, () => database.close());
    const loader = postgres(scratch.url, { max: 1, onnotice: () => {} });
    const closeLoader = onCleanup(`loader connection to ${scratch.name}`, () => loader.end({ timeout: 5 }));
    await loader.unsafe('set statement_timeout = 0');

    console.log(`== generating ${spec.nodes} assets and ~${spec.edges} edges in ${scratch.name} (seed ${seed})`);
    const loaded = await loadGraph(loader, spec);
    console.log(`  loaded in ${formatMs(loaded.ms)}: ${loaded.assets} assets, ${loaded.edges} edges`);
    const adjacency = await timed(() => readAdjacency(loader));
    const graph = adjacency.result;
    results.graph = { ...loaded, adjacencyMs: Math.round(adjacency.ms) };
    const starts = await pickStarts(loader, graph, spec, {
      queries,
      smallDepth,
      smallLimit: 1_000,
      worstDepth,
      worstTarget,
      columnQueries: Number(args['column-queries']),
      seed,
    });
    results.expectedWorstReach = starts.worst.reach;
    const reaches = starts.small.map((s) => s.reach).sort((a, b) => a - b);
    results.starts = {
      small: {
        count: starts.small.length,
        reachMin: reaches[0],
        reachMedian: reaches[reaches.length >> 1],
        reachMax: reaches.at(-1),
      },
      worst: {
        urn: starts.worst.urn,
        layer: starts.worst.layer,
        reach: starts.worst.reach,
        fanOut: starts.hubs.find((h) => h.n === starts.worst.n)?.fanOut,
      },
      widest: { urn: starts.widest.urn, reach20: starts.widest.reach },
      topHubs: starts.hubs.slice(0, 3),
      columns: starts.columns.map((c) => `${c.urn}#${c.column}`),
    };
    const seen = new Int32Array(graph.nodes);
    let stamp = 0;
    results.memoryBfs = {
      worstReach: starts.worst.reach,
      worstMs: await medianMs(5, () => reachCount(graph, starts.worst.n, worstDepth, seen, ++stamp)),
      widestReach: starts.widest.reach,
      widestMs: await medianMs(5, () => reachCount(graph, starts.widest.n, 20, seen, ++stamp)),
      buildMs: Math.round(adjacency.ms),
    };
    const ctx = await benchContext(database);
    const trips: number[] = [];
    for (let i = 0; i < 200; i++) trips.push((await timed(() => ctx.db.execute(sql`select 1`))).ms);
    results.roundTrip = summarize(trips);

    // Plans first, on a cold-ish cache: one hop of a small walk and hop 3 of the worst case, as sent.
    const smallStart = starts.small.find((s) => s.reach >= 300) ?? starts.small[0]!;
    const smallHop = (await hopQueries(ctx, smallStart.id, 'downstream', 2)).statements[2]!;
    const bigHop = (await hopQueries(ctx, starts.worst.id, 'downstream', 2)).statements[2]!;
    console.log('\n== EXPLAIN (ANALYZE, BUFFERS) of hop queries');
    for (const [name, query] of [
      ['small walk, hop 3', smallHop],
      ['60k hub, hop 3', bigHop],
    ] as const) {
      results.plans.push(await explain(ctx, `hop (${name}, frontier ${hopFrontier(query)})`, query, true));
    }
    const columnStart = starts.columns[0];
    if (columnStart) {
      const columnSpy = recording(ctx);
      await lineageImpact(columnSpy.ctx, { urn: columnStart.urn, column: columnStart.column, depth: 1 });
      const columnHop = columnSpy.statements.find((s) => /from m join column_lineage c/.test(sqlText(s.query)));
      if (columnHop) results.plans.push(await explain(ctx, 'column hop (frontier 1)', columnHop.query));
    }

    await runVariant(results, variants.product, ctx, starts);
    results.phases.push({ variant: variants.product, phases: await lineagePhases(ctx, starts.random.slice(0, 50), 3) });
    results.scenarios.push(
      await measure(
        scenarios.column,
        variants.product,
        starts.columns,
        impact(ctx, { depth: smallDepth, budgetMs: 60_000 }),
        {
          passes: 1,
          seed,
        },
      ),
    );
    await closeLoader();
    await close();
    await drop();
  } catch (error) {
    results.errors.push(String((error as Error).stack ?? error));
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
  if (wasInterrupted()) return;
  results.targets = checkTargets(results);
  results.finishedAt = new Date().toISOString();
  printSummary(results);
  if (args.out) {
    await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nresults written to ${path.relative(process.cwd(), resultsPath)}`);
  }
}

await main();
