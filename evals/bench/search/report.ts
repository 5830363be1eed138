import type { LoadResult, Target } from './catalog.js';
import type { ExplainResult } from './explain.js';
import type { IngestResult } from './ingest-bench.js';
import type { SearchMeasurement } from './measure-search.js';
import { formatMs, type LatencySummary } from './stats.js';

export interface TargetRun {
  target: Target;
  estate: { sources: number; assets: number; columns: number; foreignKeys: number };
  queries: number;
  load: LoadResult;
  /** Whether planner statistics existed when search was measured, and where they came from. */
  statistics: string;
  sizes: Record<string, string>;
  /** 1-minute load average before and after the search measurement: the machine may be shared. */
  loadAverage: number[];
  explain: ExplainResult[];
  search: SearchMeasurement;
  /** PGlite has no autovacuum: the same measurement after a manual ANALYZE, to show what statistics change. */
  searchAfterAnalyze?: SearchMeasurement;
}

export interface TargetCheck {
  metric: string;
  target: string;
  measured: string;
  status: 'met' | 'MISSED' | 'not run' | 'n/a';
  note?: string;
}

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  environment: Record<string, unknown>;
  options: Record<string, unknown>;
  runs: TargetRun[];
  ingest: IngestResult[];
  targets: TargetCheck[];
  indexFailures: string[];
  errors: string[];
}

const pad = (text: string, width: number) => text.padEnd(width);
const lpad = (text: string, width: number) => text.padStart(width);

function latencyRow(label: string, s: LatencySummary): string {
  return `${pad(label, 34)}${[s.p50, s.p95, s.p99, s.mean, s.max].map((v) => lpad(formatMs(v), 10)).join('')}${lpad(String(s.n), 6)}`;
}

/** Checks each target against the runs that measured it, at the scale the target names. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const p95 = (
    target: Target,
    path: 'direct' | 'mcp',
    limitMs: number,
    scale: number,
    metric: string,
    run = results.runs.find((r) => r.target === target),
  ) => {
    if (!run) return checks.push({ metric, target: `≤ ${limitMs} ms`, measured: '-', status: 'not run' });
    const measured = run.search[path].overall.p95;
    checks.push({
      metric,
      target: `≤ ${limitMs} ms`,
      measured: `${formatMs(measured)} @ ${run.estate.assets} assets`,
      status: run.estate.assets !== scale ? 'n/a' : measured <= limitMs ? 'met' : 'MISSED',
      note: run.estate.assets !== scale ? `target is at ${scale} assets` : undefined,
    });
  };
  p95('server', 'direct', 15, 100_000, 'server search p95, in the database');
  p95('server', 'mcp', 25, 100_000, 'server search p95, through MCP');
  p95('pglite', 'direct', 50, 10_000, 'PGlite search p95, in the database');
  p95('pglite', 'mcp', 50, 10_000, 'PGlite search p95, through MCP');
  for (const ingest of results.ingest) {
    checks.push({
      metric: `ingest ${ingest.tables} tables (${ingest.catalog} catalog)`,
      target: '≤ 30 s for 10k',
      measured: `${formatMs(ingest.totalMs)} (${ingest.tablesPerSecond} tables/s)`,
      status: ingest.tables !== 10_000 ? 'n/a' : ingest.totalMs <= 30_000 ? 'met' : 'MISSED',
    });
  }
  if (results.ingest.length === 0) {
    checks.push({ metric: 'ingest 10k tables', target: '≤ 30 s', measured: '-', status: 'not run' });
  }
  return checks;
}

export function printSummary(results: BenchResults): void {
  const out: string[] = ['', '='.repeat(100), 'SEARCH BENCHMARK SUMMARY', '='.repeat(100)];
  const header = `${pad('', 34)}${['p50', 'p95', 'p99', 'mean', 'max'].map((h) => lpad(h, 10)).join('')}${lpad('n', 6)}`;
  for (const run of results.runs) {
    const { load, estate } = run;
    out.push(
      '',
      `${run.target}: ${estate.assets} assets, ${estate.columns} columns, ${estate.sources} sources; ` +
        `load ${formatMs(load.ms)} (${load.assetsPerSecond} assets/s); ${run.statistics}`,
      `  machine load average (1 min) before/after search measurement: ${run.loadAverage.join(' / ')}`,
      `  sizes: ${Object.entries(run.sizes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      header,
      latencyRow(`  ${run.target} searchCatalog (direct)`, run.search.direct.overall),
      latencyRow(`  ${run.target} catalog_search via MCP`, run.search.mcp.overall),
    );
    if (run.searchAfterAnalyze) {
      out.push(
        latencyRow('  after ANALYZE: direct', run.searchAfterAnalyze.direct.overall),
        latencyRow('  after ANALYZE: via MCP', run.searchAfterAnalyze.mcp.overall),
      );
    }
    out.push('  direct, by query category:');
    for (const [category, s] of Object.entries(run.search.direct.byCategory))
      out.push(latencyRow(`    ${category}`, s));
    out.push(
      `  exact-name queries answered first: ${run.search.exactTop1.hits}/${run.search.exactTop1.of}; mean candidates per query ${run.search.meanTotal}`,
      `  slowest (direct): ${run.search.direct.slowest
        .slice(0, 4)
        .map((s) => `"${s.query}" ${formatMs(s.ms)}`)
        .join('; ')}`,
      '  EXPLAIN ANALYZE:',
    );
    for (const e of run.explain) {
      const verdict = e.usesExpectedIndex ? 'ok  ' : 'FAIL';
      const seq = e.seqScans.map((s) => `Seq Scan assets ${s.rows} rows ${s.ms} ms`).join(', ');
      out.push(
        `    [${verdict}] ${pad(e.label, 52)} "${e.query}" ${formatMs(e.executionMs)}; indexes: ${e.indexesUsed.join(', ') || 'none'}${seq ? `; ${seq}` : ''}`,
      );
      if (e.retrieverMs) {
        const parts = Object.entries(e.retrieverMs).map(([alias, ms]) => `${alias} ${formatMs(ms)}`);
        out.push(`           per retriever (UNION ALL branch): ${parts.join(', ')}`);
      }
    }
  }
  for (const i of results.ingest) {
    out.push(
      '',
      `ingestion (${i.catalog} catalog): ${i.tables} tables, ${i.columns} columns, ${i.foreignKeys} FKs; ` +
        `discover ${formatMs(i.discoverMs)} + syncSource ${formatMs(i.syncMs)} = ${formatMs(i.totalMs)} ` +
        `(${i.tablesPerSecond} tables/s); unchanged re-sync ${formatMs(i.resyncUnchangedMs)}; load average ${i.loadAverage.join(' / ')}`,
      `  discover steps: ${Object.entries(i.discoverPhasesMs)
        .map(([k, v]) => `${k} ${formatMs(v)}`)
        .join(', ')}`,
    );
  }
  out.push('', `${pad('target', 46)}${pad('goal', 18)}${pad('measured', 32)}status`);
  for (const t of results.targets) {
    out.push(
      `${pad(t.metric, 46)}${pad(t.target, 18)}${pad(t.measured, 32)}${t.status}${t.note ? ` (${t.note})` : ''}`,
    );
  }
  if (results.indexFailures.length > 0) {
    out.push('', '!'.repeat(100), 'INDEX NOT USED:');
    for (const f of results.indexFailures) out.push(`  !! ${f}`);
    out.push('!'.repeat(100));
  }
  if (results.errors.length > 0) out.push('', 'ERRORS:', ...results.errors.map((e) => `  ${e}`));
  console.log(out.join('\n'));
}
