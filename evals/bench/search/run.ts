/**
 * Catalog search and ingestion benchmark. Not a test: it prints figures and writes results.json.
 *
 *   npx tsx evals/bench/search/run.ts [--assets N] [--target server|pglite|both] [--tables N] [--passes N]
 *
 * Scratch databases (on the server named by DATAOPS_BENCH_SERVER_URL, else the local test server) and
 * PGlite directories are removed at the end, on failure and on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { queryRows } from '../../../db/create-db.js';
import { defaultServerUrl } from '../bench-runtime.js';
import { type Catalog, catalogSizes, loadEstate, openCatalog, type Target } from './catalog.js';
import { cleanupAll, cleanupOnSignals, wasInterrupted } from './cleanup.js';
import { explainRetrieval, explainSearch } from './explain.js';
import { estateStats, generateEstate } from './generate-estate.js';
import { benchIngest } from './ingest-bench.js';
import { measureSearch } from './measure-search.js';
import { buildQueries } from './queries.js';
import { type BenchResults, checkTargets, printSummary, type TargetRun } from './report.js';
import { formatMs, timed } from './stats.js';

const resultsPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
const defaultAssets: Record<Target, number> = { server: 100_000, pglite: 10_000 };

const { values: args } = parseArgs({
  options: {
    assets: { type: 'string' },
    target: { type: 'string', default: 'both' },
    tables: { type: 'string', default: '10000' },
    passes: { type: 'string', default: '3' },
    seed: { type: 'string', default: '20240917' },
  },
});
if (!['server', 'pglite', 'both'].includes(args.target!)) throw new Error('--target must be server, pglite or both');
const targets: Target[] = args.target === 'both' ? ['server', 'pglite'] : [args.target as Target];
const seed = Number(args.seed);
const passes = Number(args.passes);
const tables = Number(args.tables);
const serverUrl = process.env.DATAOPS_BENCH_SERVER_URL ?? defaultServerUrl;

async function statisticsNote(catalog: Catalog): Promise<string> {
  if (catalog.target === 'pglite') {
    const [stats] = await queryRows<{ n: number }>(
      catalog.database.db,
      sql`select count(*)::int as n from pg_stats where tablename = 'assets'`,
    );
    return stats!.n > 0
      ? 'planner statistics from the ANALYZE each large sync runs (PGlite runs no autovacuum); measured as loaded'
      : 'no planner statistics (PGlite runs no autovacuum); measured as loaded';
  }
  const [row] = await queryRows<{ auto: string | null; autovacuum: string }>(
    catalog.database.db,
    sql`select last_autoanalyze::text as auto, current_setting('autovacuum') as autovacuum
      from pg_stat_user_tables where relname = 'assets'`,
  );
  await catalog.database.db.execute(sql`analyze`);
  if (row?.auto) return 'autovacuum had analyzed assets; ANALYZE run again before measuring';
  return `ANALYZE run after load (autovacuum ${row?.autovacuum === 'off' ? 'is off on this server' : 'had not reached it yet'})`;
}

async function benchTarget(target: Target): Promise<TargetRun> {
  const assets = args.assets ? Number(args.assets) : defaultAssets[target];
  console.log(`\n== ${target}: generating ${assets} assets (seed ${seed})`);
  const generated = await timed(async () => generateEstate({ assets, seed }));
  const estate = generated.result;
  const stats = estateStats(estate);
  const queries = buildQueries(estate, seed);
  console.log(
    `  ${stats.assets} assets, ${stats.columns} columns, ${stats.sources} sources in ${formatMs(generated.ms)}`,
  );
  const catalog = await openCatalog(target, serverUrl, 'dataops_bench_search');
  try {
    console.log(`  loading through syncSource (one transaction per source)...`);
    const load = await loadEstate(catalog, estate);
    console.log(`  loaded in ${formatMs(load.ms)} (${load.assetsPerSecond} assets/s)`);
    const statistics = await statisticsNote(catalog);
    const sizes = await catalogSizes(catalog);
    console.log(`  EXPLAIN ANALYZE of the retrieval queries...`);
    const explain = await explainRetrieval(catalog.ctx);
    console.log(`  measuring ${queries.length} queries x ${passes} passes, direct then through MCP...`);
    const loadBefore = os.loadavg()[0]!;
    const search = await measureSearch(catalog.ctx, queries, { passes, seed });
    const loadAverage = [loadBefore, os.loadavg()[0]!].map((l) => Math.round(l * 100) / 100);
    // Where the time goes in the slowest queries: per-retriever timings from their plans.
    const slowest = new Map(search.direct.slowest.map((s) => [`${s.query}${JSON.stringify(s.filters ?? {})}`, s]));
    for (const s of [...slowest.values()].slice(0, 3)) {
      const plans = await explainSearch(catalog.ctx, { query: s.query, filters: s.filters, limit: 10 });
      explain.push(...plans.map((e) => ({ ...e, label: `slowest: ${e.label}` })));
    }
    console.log(`  direct p95 ${formatMs(search.direct.overall.p95)}, MCP p95 ${formatMs(search.mcp.overall.p95)}`);
    const run: TargetRun = {
      target,
      estate: stats,
      queries: queries.length,
      load,
      statistics,
      sizes,
      loadAverage,
      explain,
      search,
    };
    if (target === 'pglite') {
      await catalog.database.db.execute(sql`analyze`);
      console.log('  measuring again after ANALYZE...');
      run.searchAfterAnalyze = await measureSearch(catalog.ctx, queries, { passes, seed });
      run.explain.push(...(await explainRetrieval(catalog.ctx)).map((e) => ({ ...e, label: `${e.label} +ANALYZE` })));
    }
    return run;
  } finally {
    await catalog.dispose();
  }
}

async function environment(): Promise<Record<string, unknown>> {
  const env: Record<string, unknown> = {
    node: process.version,
    cpus: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
  };
  if (!targets.includes('server') && tables === 0) return env;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select version() as version, current_setting('shared_buffers') as shared_buffers,
      current_setting('work_mem') as work_mem, current_setting('effective_cache_size') as effective_cache_size,
      current_setting('maintenance_work_mem') as maintenance_work_mem, current_setting('autovacuum') as autovacuum,
      (select default_version from pg_available_extensions where name = 'vector') as pgvector`;
    env.server = row;
  } finally {
    await admin.end({ timeout: 5 });
  }
  return env;
}

async function main(): Promise<void> {
  cleanupOnSignals();
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    environment: {},
    options: { targets, assets: args.assets ?? defaultAssets, tables, passes, seed },
    runs: [],
    ingest: [],
    targets: [],
    indexFailures: [],
    errors: [],
  };
  try {
    results.environment = await environment();
    for (const target of targets) results.runs.push(await benchTarget(target));
    if (tables > 0) {
      for (const catalog of targets) {
        console.log(`\n== ingestion: ${tables} tables, Postgres connector into a ${catalog} catalog`);
        results.ingest.push(await benchIngest({ serverUrl, tables, seed, catalog }));
      }
    }
  } catch (error) {
    results.errors.push(String((error as Error).stack ?? error));
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
  if (wasInterrupted()) {
    console.error('interrupted: results.json left as it was');
    return;
  }
  for (const run of results.runs) {
    for (const e of run.explain.filter((x) => !x.usesExpectedIndex)) {
      results.indexFailures.push(
        `${run.target}: ${e.label} "${e.query}" did not use ${e.expectedIndex} (used: ${e.indexesUsed.join(', ') || 'none'})`,
      );
    }
    for (const path of [run.search.direct, run.search.mcp]) results.errors.push(...path.errors.slice(0, 5));
  }
  if (results.indexFailures.length > 0) process.exitCode = 1;
  results.targets = checkTargets(results);
  results.finishedAt = new Date().toISOString();
  await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results);
  console.log(`\nresults written to ${path.relative(process.cwd(), resultsPath)}`);
}

await main();
