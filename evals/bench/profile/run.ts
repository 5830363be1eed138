/**
 * Profiling benchmark: a generated table (10M rows by default) in a scratch database on the Postgres
 * server, ingested through the real connector with its connection kept; in the same run it times a bare
 * `select count(*)` and the full profile (`profileAsset`, through the source reader), alternating them,
 * and prints the ratio. It then checks the sampled estimates against exact SQL (timed apart, not part of
 * the ratio). Not a test: it prints figures (and writes results.json with --out).
 *
 *   npx tsx evals/bench/profile/run.ts [--rows 10000000] [--passes 3] [--out]
 *
 * The scratch database is dropped at the end, on failure and on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { desc, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { createDb } from '../../../db/create-db.js';
import { assets, profiles } from '../../../db/schema/index.js';
import { createScratchDatabase } from '../../../db/scratch-database.js';
import { syncSource } from '../../../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../../../mcp-server/connectors/postgres/postgres-connector.js';
import { profileAsset } from '../../../mcp-server/quality/profile.js';
import type { ColumnProfile } from '../../../mcp-server/quality/profile-stats.js';
import { benchContext, defaultServerUrl } from '../bench-runtime.js';
import { cleanupAll, cleanupOnSignals, onCleanup, wasInterrupted } from '../search/cleanup.js';

const resultsPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    passes: { type: 'string', default: '3' },
    out: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const passes = Number(args.passes);
const serverUrl = process.env.DATAOPS_BENCH_SERVER_URL ?? defaultServerUrl;
/** The target: the profile at 40% or more of bare-scan speed, i.e. at most 2.5 times the count's time. */
const targetRatio = 2.5;

/** Several column types with known shapes: a key, a low- and a mid-cardinality code, money, measurements, dates, flags, text with nulls. */
const generateSql = (n: number) => `
  create table shipments as
  select g::bigint as id,
    (array['NORTH','SOUTH','EAST','WEST','CENTRAL'])[1 + g % 5] as region,
    'DEP-' || lpad((g % 20000)::text, 5, '0') as depot_code,
    round((random() * 10000)::numeric, 2) as amount,
    random() * 100 as weight_kg,
    (g % 1000)::int as priority,
    timestamptz '2020-01-01' + (g % 2000) * interval '1 day' + (g % 86400) * interval '1 second' as shipped_at,
    (g % 3 = 0) as hazardous,
    case when g % 10 = 0 then null else 'Route ' || (g % 50000)::text end as note
  from generate_series(1, ${n}) g;
  alter table shipments add primary key (id);`;

async function main() {
  cleanupOnSignals();
  const scratch = await createScratchDatabase(serverUrl, 'dataops_bench_profile');
  onCleanup('scratch database', scratch.drop);
  const source = postgres(scratch.url, { max: 1, onnotice: () => {} });
  onCleanup('source connection', () => source.end());
  console.log(`generating ${rows.toLocaleString()} rows in ${scratch.name}…`);
  let started = performance.now();
  await source.unsafe(generateSql(rows));
  // Hint bits set and the visibility map written, as on a table that has lived a while.
  await source.unsafe('vacuum analyze shipments');
  const generateMs = performance.now() - started;
  const [size] = await source`select pg_total_relation_size('shipments')::float8 as bytes,
    pg_relation_size('shipments')::float8 as heap`;
  console.log(`generated in ${(generateMs / 1000).toFixed(1)} s; heap ${(size!.heap / 2 ** 20).toFixed(0)} MiB`);

  const catalog = await createDb({ target: 'memory://' });
  onCleanup('catalog', () => catalog.close());
  const ctx = await benchContext(catalog);
  await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'bench' }).discover(), {
    connection: scratch.url,
  });
  const [asset] = await ctx.db.select().from(assets).where(eq(assets.name, 'shipments'));

  // One warm-up of each, so both measure a table in the server's cache as far as it fits.
  await source`select count(*) from shipments`;
  await profileAsset(ctx, asset!.id);
  const countMs: number[] = [];
  const profileMs: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    started = performance.now();
    await source`select count(*) from shipments`;
    countMs.push(performance.now() - started);
    started = performance.now();
    await profileAsset(ctx, asset!.id);
    profileMs.push(performance.now() - started);
    console.log(`pass ${pass + 1}: count(*) ${fmt(countMs.at(-1)!)}, profile ${fmt(profileMs.at(-1)!)}`);
  }
  const count = median(countMs);
  const profile = median(profileMs);
  const ratio = profile / count;

  const [latest] = await ctx.db
    .select()
    .from(profiles)
    .where(eq(profiles.assetId, asset!.id))
    .orderBy(desc(profiles.profiledAt))
    .limit(1);
  const stats = latest!.columnStats as unknown as Record<string, ColumnProfile>;
  console.log('checking the sampled estimates against exact SQL (not timed in the ratio)…');
  const accuracy = await checkEstimates(source, stats);

  const results = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))) },
    rows,
    heapMiB: Math.round(size!.heap / 2 ** 20),
    passes,
    countMs: countMs.map(Math.round),
    profileMs: profileMs.map(Math.round),
    medianCountMs: Math.round(count),
    medianProfileMs: Math.round(profile),
    ratio: Number(ratio.toFixed(2)),
    speedShare: Number((count / profile).toFixed(3)),
    target: `profile time <= ${targetRatio} x count(*) time (>= 40% of bare-scan speed)`,
    met: ratio <= targetRatio,
    sample: latest!.details,
    accuracy,
  };
  console.log(`\ncount(*) median ${fmt(count)}; profile median ${fmt(profile)}`);
  console.log(
    `profile / count(*) = ${ratio.toFixed(2)}: the profile runs at ${(100 / ratio).toFixed(0)}% of bare-scan speed (target >= 40%: ${results.met ? 'met' : 'missed'})`,
  );
  for (const a of accuracy) console.log(`  ${a.what}: estimated ${a.estimated}, exact ${a.exact} (${a.error})`);
  if (args.out && !wasInterrupted()) {
    await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${resultsPath}`);
  }
}

/** Exact distinct counts and the true rank of each sampled median, to compare with what the profile states. */
async function checkEstimates(source: postgres.Sql, stats: Record<string, ColumnProfile>) {
  const out: { what: string; estimated: number; exact: number; error: string }[] = [];
  for (const column of ['region', 'depot_code', 'priority', 'note', 'amount']) {
    const [row] = await source.unsafe(`select count(distinct "${column}")::float8 as d from shipments`);
    const d = stats[column]!.distinct!;
    out.push({
      what: `distinct ${column} (${d.method}, bounds ${d.bounds?.join('..') ?? 'exact'})`,
      estimated: d.value,
      exact: row!.d,
      error: `${((100 * (d.value - row!.d)) / row!.d).toFixed(1)}%`,
    });
  }
  for (const column of ['weight_kg', 'amount']) {
    const p50 = stats[column]!.quantiles!.p50!;
    const [row] = await source.unsafe(`select avg(("${column}" <= $1)::int)::float8 as r from shipments`, [p50]);
    out.push({
      what: `rank of the sampled median of ${column} (stated rank error ±${stats[column]!.quantileRankError!.toFixed(4)})`,
      estimated: 0.5,
      exact: Number(row!.r.toFixed(5)),
      error: `${(row!.r - 0.5).toFixed(5)} rank`,
    });
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(cleanupAll);
