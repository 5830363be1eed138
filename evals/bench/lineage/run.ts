/**
 * Lineage benchmark: `lineage_impact` and `lineage_get` on a generated graph of 250k assets and ~1M edges
 * in a scratch database on the Postgres server. Not a test: it prints figures (and writes results.json
 * with --out).
 *
 *   npx tsx evals/bench/lineage/run.ts [--nodes 250000] [--edges 1000000] [--queries 100] [--passes 3]
 *     [--column-queries 3] [--seed N] [--skip-ab] [--out]
 *
 * Besides the product as shipped it measures, on the same database, the hop query and indexes it
 * proposes (proposed-hop.ts), unless --skip-ab. The scratch database is dropped at the end, on failure
 * and on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createDb } from '../../../db/create-db.js';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { lineageImpact } from '../../../mcp-server/lineage/analysis.js';
import { createTestContext } from '../../../test/helpers/test-context.js';
import { createScratchDatabase, serverUrl as defaultServerUrl } from '../../../test/helpers/test-db.js';
import { cleanupAll, cleanupOnSignals, onCleanup, wasInterrupted } from '../search/cleanup.js';
import { formatMs, summarize, timed } from '../search/stats.js';
import { explain, hopQueries, recording } from './explain.js';
import { defaultSpec, type GraphSpec, loadGraph, reachCount, readAdjacency } from './generate-graph.js';
import { impact, lineage, lineagePhases, measure, medianMs, type ScenarioResult, type Start } from './measure.js';
import {
  compositeIndexes,
  hopParams,
  proposedColumnHopSql,
  proposedHopSql,
  sqlText,
  withProposedHop,
} from './proposed-hop.js';
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
    'skip-ab': { type: 'boolean', default: false },
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

/** The scenarios of one variant (product, or product with the proposal swapped in). */
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
    const hop = hopParams(s.query);
    if (hop)
      hops.push({
        hop: hops.length + 1,
        frontier: hop.frontier.length,
        rows: s.rows,
        ms: Math.round(s.ms),
        query: s.query,
      });
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

/** EXPLAIN ANALYZE of the proposed hop on one frontier, `times` times: median execution time and buffers. */
async function hopPlan(ctx: ServiceContext, query: SQL, times: number) {
  const hop = hopParams(query)!;
  const sql = proposedHopSql(ctx.principal, hop.frontier, hop.direction, hop.kinds, hop.asOf);
  const plans = [];
  for (let i = 0; i < times; i++) plans.push(await explain(ctx, 'proposed hop', sql));
  const ms = plans.map((p) => p.executionMs).sort((a, b) => a - b);
  return {
    frontier: hop.frontier.length,
    executionMs: ms[ms.length >> 1]!,
    buffers: plans.at(-1)!.buffers,
    indexes: plans.at(-1)!.indexes,
  };
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
    const ctx = await createTestContext(database);
    const trips: number[] = [];
    for (let i = 0; i < 200; i++) trips.push((await timed(() => ctx.db.execute(sql`select 1`))).ms);
    results.roundTrip = summarize(trips);

    // Plans first, on a cold-ish cache: one hop of a small walk and hop 3 of the worst case, as sent.
    const smallStart = starts.small.find((s) => s.reach >= 300) ?? starts.small[0]!;
    const smallHop = (await hopQueries(ctx, smallStart.id, 'downstream', 2)).statements[2]!;
    const bigHop = (await hopQueries(ctx, starts.worst.id, 'downstream', 2)).statements[2]!;
    const explainHops = async (label: string, print: boolean) => {
      for (const [name, query] of [
        ['small walk, hop 3', smallHop],
        ['60k hub, hop 3', bigHop],
      ] as const) {
        const hop = hopParams(query)!;
        const frontier = `${name}, frontier ${hop.frontier.length}`;
        if (!label) results.plans.push(await explain(ctx, `hopRows (${frontier})`, query, print));
        const proposed = proposedHopSql(ctx.principal, hop.frontier, hop.direction, hop.kinds, hop.asOf);
        results.plans.push(await explain(ctx, `proposed hop (${frontier})${label}`, proposed, print));
      }
    };
    console.log('\n== EXPLAIN (ANALYZE, BUFFERS) of hop queries');
    await explainHops('', true);
    const columnStart = starts.columns[0];
    const columnFrontier = columnStart ? [{ asset: columnStart.id, column: columnStart.column! }] : [];
    const columnSpy = recording(ctx);
    if (columnStart) {
      await lineageImpact(columnSpy.ctx, { urn: columnStart.urn, column: columnStart.column, depth: 1 });
      const columnHop = columnSpy.statements.find((s) =>
        /from column_lineage c join lineage_edges e/.test(sqlText(s.query)),
      );
      if (columnHop) results.plans.push(await explain(ctx, 'columnHopRows (frontier 1)', columnHop.query));
      results.plans.push(
        await explain(
          ctx,
          'proposed column hop (frontier 1)',
          proposedColumnHopSql(ctx.principal, columnFrontier, ctx.clock()),
        ),
      );
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
    if (!args['skip-ab']) {
      const swap = withProposedHop(ctx);
      results.sameResults = await compareResults(ctx, swap.ctx, starts.small.slice(0, 20));
      const widestHop = await runVariant(results, variants.proposed, swap.ctx, starts);
      const before = widestHop ? await hopPlan(ctx, widestHop, 3) : undefined;
      if (swap.replaced === 0)
        results.errors.push('the product hop query was not recognised: the A/B measured the product twice');
      console.log('\n== replacing lineage_from_idx / lineage_to_idx with (id, kind) indexes');
      for (const statement of compositeIndexes.apply) await loader.unsafe(statement);
      await explainHops(` + (id, kind) indexes`, false);
      if (widestHop && before) results.indexAB = { before, after: await hopPlan(ctx, widestHop, 3) };
      if (columnStart) {
        results.plans.push(
          await explain(
            ctx,
            'proposed column hop + column_lineage (from_asset_id, from_column)',
            proposedColumnHopSql(ctx.principal, columnFrontier, ctx.clock()),
          ),
        );
      }
      await runVariant(results, variants.proposedIndexes, swap.ctx, starts);
      results.phases.push({
        variant: variants.proposedIndexes,
        phases: await lineagePhases(swap.ctx, starts.random.slice(0, 50), 3),
      });
      results.scenarios.push(
        await measure(
          scenarios.small,
          variants.productIndexes,
          starts.small,
          impact(ctx, { depth: smallDepth, budgetMs: 30_000 }),
          {
            passes,
            seed,
            warmup: 10,
          },
        ),
      );
    }
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

/** Impact results through the product's hop query and through the proposed one, compared in full. */
async function compareResults(product: ServiceContext, proposed: ServiceContext, starts: Start[]) {
  const differences: string[] = [];
  for (const start of starts) {
    const request = { urn: start.urn, depth: smallDepth, budgetMs: 30_000 };
    const [a, b] = [await lineageImpact(product, request), await lineageImpact(proposed, request)];
    const key = (r: typeof a) =>
      JSON.stringify({ ...r, assets: r.assets.map((x) => [x.urn, x.distance, x.via, x.dependency]) });
    if (key(a) !== key(b)) differences.push(`${start.urn}: ${a.total} vs ${b.total} assets`);
  }
  return { checked: starts.length, identical: starts.length - differences.length, differences };
}

await main();
