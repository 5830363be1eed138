/**
 * Event-loop benchmark: does a long piece of work on the embedded catalog hold the server's other requests?
 * It starts `dataops start` on a fresh data directory (the demo loads), then times `/healthz` and
 * `catalog_search` (through POST /api/tools) back to back, first idle, then while the demo's largest
 * profile (contracts.payments, refreshed) and a run of the demo pipeline execute. With `--baseline <git
 * rev>` it does the same with that revision's server (an export of it beside this one), e.g. the last one
 * that ran PGlite in the server's thread. It also times `select 1` on PGlite in this thread against the
 * same through the worker's socket. Not a test: it prints figures (and writes results.json with --out).
 *
 *   npx tsx evals/bench/event-loop/run.ts [--baseline <rev>] [--rounds 3] [--out]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import { startEmbeddedServer } from '../../../db/embedded/embedded-server.js';
import { formatMs, type LatencySummary as Latencies, summarize as percentiles } from '../search/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const searches = ['contract spend', 'payments', 'vendor', 'supply depot', 'requisitions', 'obligations'];
/** The targets, during the work. */
const targets = { healthz: 50, search: 250 };

interface ServerFigures {
  design: string;
  idle: { healthz: Latencies; search: Latencies };
  busy: { healthz: Latencies; search: Latencies };
  /** Seconds each piece of work took, per round. */
  work: { profile: number[]; pipeline: number[] };
}

async function main() {
  const temps: string[] = [];
  const temp = (prefix: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };
  try {
    const servers: ServerFigures[] = [];
    servers.push(await measureServer(root, 'worker thread (this tree)', temp('dataops-bench-loop-')));
    if (args.baseline) {
      const baseline = temp('dataops-bench-baseline-');
      execFileSync(
        'sh',
        ['-c', `git archive ${JSON.stringify(args.baseline)} | tar -x -C ${JSON.stringify(baseline)}`],
        {
          cwd: root,
        },
      );
      symlinkSync(path.join(root, 'node_modules'), path.join(baseline, 'node_modules'));
      servers.push(await measureServer(baseline, `main thread (${args.baseline})`, temp('dataops-bench-loop-')));
    }
    const overhead = await selectOneOverhead(temp('dataops-bench-select-'));
    report(servers, overhead);
    if (args.out) {
      writeFileSync(path.join(here, 'results.json'), `${JSON.stringify({ servers, overhead }, null, 2)}\n`);
    }
  } finally {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  }
}

async function measureServer(tree: string, design: string, dataDir: string): Promise<ServerFigures> {
  process.stderr.write(`${design}: starting dataops start on ${dataDir} (the demo loads first)…\n`);
  const started = performance.now();
  const server = await startServer(tree, dataDir);
  process.stderr.write(`${design}: listening after ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  try {
    const call = async (tool: string, input: unknown) => {
      const res = await fetch(`${server.url}/api/tools/${tool}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${tool}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    };
    const healthz = async () => {
      const res = await fetch(`${server.url}/healthz`);
      if (!res.ok) throw new Error(`/healthz: ${res.status}`);
      await res.arrayBuffer();
    };
    let n = 0;
    const search = () => call('catalog_search', { query: searches[n++ % searches.length] });
    const found = (await call('catalog_search', { query: 'payments', limit: 10 })) as {
      hits: { name: string; urn: string }[];
    };
    const payments = found.hits.find((h) => h.name === 'payments');
    if (!payments) throw new Error('the demo has no payments table');
    for (let i = 0; i < 10; i++) await Promise.all([healthz(), search()]);

    const idleHealthz = await probe(healthz, () => false, 300);
    const idleSearch = await probe(search, () => false, 100);
    const busy = { healthz: [] as number[], search: [] as number[] };
    const work = { profile: [] as number[], pipeline: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      let done = false;
      const timed = async (run: () => Promise<unknown>, into: number[]) => {
        const start = performance.now();
        await run();
        into.push((performance.now() - start) / 1000);
      };
      const running = Promise.all([
        timed(() => call('quality_profile', { urn: payments.urn, refresh: true }), work.profile),
        timed(() => call('pipelines_run', { pipeline: 'monthly contract spend by vendor' }), work.pipeline),
      ]).finally(() => {
        done = true;
      });
      const [h, s] = await Promise.all([probe(healthz, () => done), probe(search, () => done), running]);
      busy.healthz.push(...h);
      busy.search.push(...s);
      process.stderr.write(
        `${design}: round ${round + 1}: profile ${work.profile.at(-1)!.toFixed(1)} s, pipeline ${work.pipeline.at(-1)!.toFixed(1)} s\n`,
      );
    }
    return {
      design,
      idle: { healthz: percentiles(idleHealthz), search: percentiles(idleSearch) },
      busy: { healthz: percentiles(busy.healthz), search: percentiles(busy.search) },
      work,
    };
  } finally {
    await server.stop();
  }
}

/** Times `request` back to back (a 10 ms pause between) until `stop()` says so, or `count` times. */
async function probe(request: () => Promise<unknown>, stop: () => boolean, count = Number.POSITIVE_INFINITY) {
  const times: number[] = [];
  while (times.length < count && !stop()) {
    const start = performance.now();
    await request();
    times.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return times;
}

async function startServer(tree: string, dataDir: string) {
  const child = spawn(process.execPath, [path.join(tree, 'bin/dataops.js'), '--db', dataDir, 'start', '--port', '0'], {
    // The scheduler's own first cycle would profile every table meanwhile: off, so the work is what is measured.
    env: { ...process.env, DATAOPS_SCHEDULER_INTERVAL: '0', DATAOPS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+?) /.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`dataops start exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `select 1` on PGlite in this thread and through a worker's socket, on one directory, with the open times. */
async function selectOneOverhead(dataDir: string) {
  const times = async (query: () => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await query();
    const out: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const start = performance.now();
      await query();
      out.push(performance.now() - start);
    }
    return percentiles(out);
  };
  const extensions = { vector, pg_trgm };
  // The first open creates the database: done once beforehand, so both opens below find it there.
  await (await PGlite.create({ dataDir, extensions })).close();
  let start = performance.now();
  const pglite = await PGlite.create({ dataDir, extensions });
  const inProcessOpen = performance.now() - start;
  const inProcess = await times(() => pglite.query('select 1'));
  await pglite.close();
  start = performance.now();
  const server = await startEmbeddedServer(dataDir, { extensions: true, what: 'the benchmark database' });
  const workerOpen = performance.now() - start;
  const sql = server.client({ max: 1 });
  const worker = await times(() => sql`select 1`);
  await server.close();
  return { inProcess, inProcessOpen, worker, workerOpen };
}

function report(servers: ServerFigures[], overhead: Awaited<ReturnType<typeof selectOneOverhead>>) {
  const rows: string[][] = [];
  for (const s of servers) {
    for (const phase of ['idle', 'busy'] as const) {
      const { healthz, search } = s[phase];
      rows.push([
        s.design,
        phase === 'idle' ? 'idle' : 'during profile + pipeline run',
        ...[healthz.p50, healthz.p95, healthz.p99, healthz.max].map(ms),
        ...[search.p50, search.p95, search.p99, search.max].map(ms),
        `${healthz.n}/${search.n}`,
      ]);
    }
  }
  const header = ['design', 'phase', 'healthz p50', 'p95', 'p99', 'max', 'search p50', 'p95', 'p99', 'max', 'n'];
  process.stdout.write(`\n${renderTable(header, rows)}\n`);
  for (const s of servers) {
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
    process.stdout.write(
      `${s.design}: the work took ${mean(s.work.profile)} s (profile of contracts.payments) and ` +
        `${mean(s.work.pipeline)} s (pipeline run), mean of ${s.work.profile.length}\n`,
    );
  }
  const [mine] = servers;
  const met = mine!.busy.healthz.p99 <= targets.healthz && mine!.busy.search.p99 <= targets.search;
  process.stdout.write(
    `target during the work: /healthz p99 <= ${targets.healthz} ms, catalog_search p99 <= ${targets.search} ms: ` +
      `${met ? 'met' : 'NOT met'}\n`,
  );
  process.stdout.write(
    `\nselect 1: PGlite in this thread p50 ${ms(overhead.inProcess.p50)} p99 ${ms(overhead.inProcess.p99)}; ` +
      `through the worker's socket p50 ${ms(overhead.worker.p50)} p99 ${ms(overhead.worker.p99)}\n` +
      `open: in this thread ${ms(overhead.inProcessOpen)}, worker ${ms(overhead.workerOpen)} (with pgvector and pg_trgm)\n`,
  );
}

const ms = (value: number) => (value < 1 ? `${value.toFixed(2)} ms` : formatMs(value));

/** A Markdown table, so the output can go to evals/bench/README.md as it is. */
function renderTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

await main();
