/**
 * Pipeline benchmark: a join-aggregate pipeline over a generated fact table (1M rows by default) and a
 * dimension, run through `runPipeline` against the same query written by hand (`create table … as`), in the
 * same run, passes alternating. It prints the ratio of a run without per-node stats (the compiled CTE statement
 * written in one transaction) to the hand-written query, the issue's target being at most 1.2, and the ratio of
 * a run that also counts and times every node. Not a test.
 *
 *   npx tsx evals/bench/pipeline/run.ts [--rows 1000000] [--passes 3]
 *
 * The scratch database is dropped at the end, on failure and on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createDb } from '../../../db/create-db.js';
import { createScratchDatabase } from '../../../db/scratch-database.js';
import { syncSource } from '../../../mcp-server/catalog/sync.js';
import { assetUrn } from '../../../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../../../mcp-server/connectors/postgres/postgres-connector.js';
import { addNode, connect } from '../../../mcp-server/pipelines/edit.js';
import { runPipeline } from '../../../mcp-server/pipelines/run.js';
import { createPipeline, savePipelineVersion } from '../../../mcp-server/pipelines/store.js';
import { benchContext, defaultServerUrl } from '../bench-runtime.js';
import { cleanupAll, cleanupOnSignals, onCleanup, wasInterrupted } from '../search/cleanup.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, passes: { type: 'string', default: '3' } },
});
const rows = Number(args.rows);
const passes = Number(args.passes);
const serverUrl = process.env.DATAOPS_BENCH_SERVER_URL ?? defaultServerUrl;
const targetRatio = 1.2;

const handWritten = `create table hand_totals as
  select c.region, c.segment, sum(o.amount) as revenue, count(*) as orders
  from orders o join customers c on c.customer_id = o.customer_id
  group by c.region, c.segment`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  cleanupOnSignals();
  const scratch = await createScratchDatabase(serverUrl, 'dataops_bench_pipeline');
  onCleanup('scratch database', scratch.drop);
  const source = postgres(scratch.url, { max: 1, onnotice: () => {} });
  onCleanup('source connection', () => source.end());
  console.log(`generating ${rows.toLocaleString()} orders in ${scratch.name}…`);
  await source.unsafe(`
    create table customers as select g as customer_id, (array['NORTH','SOUTH','EAST','WEST'])[1 + g % 4] as region,
      (array['GOV','MIL','CIV'])[1 + g % 3] as segment from generate_series(1, 10000) g;
    alter table customers add primary key (customer_id);
    create table orders as select g::bigint as order_id, 1 + (g::bigint * 7919) % 10000 as customer_id,
      round((random() * 1000)::numeric, 2) as amount from generate_series(1, ${rows}) g;`);
  // Vacuum cannot run inside the implicit transaction of a multi-statement query.
  await source.unsafe('vacuum analyze customers');
  await source.unsafe('vacuum analyze orders');

  const catalog = await createDb({ target: 'memory://' });
  onCleanup('catalog', () => catalog.close());
  const ctx = await benchContext(catalog);
  await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'bench' }).discover(), {
    connection: scratch.url,
  });
  const urn = (table: string) => assetUrn('postgres', 'bench', 'public', table);
  const { id } = await createPipeline(ctx, { name: 'revenue by region and segment' });
  const saved = await savePipelineVersion(ctx, id, 'benchmark graph', (graph) => {
    let g = addNode(graph, { id: 'orders', type: 'source_dataset', config: { urn: urn('orders') } }).graph;
    g = addNode(g, { id: 'customers', type: 'source_dataset', config: { urn: urn('customers') } }).graph;
    g = addNode(g, {
      id: 'joined',
      type: 'join',
      config: { on: [{ left: 'customer_id', right: 'customer_id' }] },
    }).graph;
    g = connect(connect(g, { source: 'orders', target: 'joined', targetHandle: 'left' }), {
      source: 'customers',
      target: 'joined',
      targetHandle: 'right',
    });
    const measures = [
      { name: 'revenue', fn: 'sum', column: 'amount' },
      { name: 'orders', fn: 'count' },
    ];
    g = addNode(g, {
      id: 'totals',
      type: 'aggregate',
      after: 'joined',
      config: { groupBy: ['region', 'segment'], measures },
    }).graph;
    return addNode(g, { id: 'out', type: 'destination_table', after: 'totals', config: { table: 'pipeline_totals' } })
      .graph;
  });
  if (saved.issues.length) throw new Error(saved.issues.map((i) => i.message).join('; '));

  const hand: number[] = [];
  const write: number[] = [];
  const whole: number[] = [];
  const lean: number[] = [];
  // The table the runs wrote (a dev run writes the configured name suffixed `_dev`).
  let written = '';
  for (let pass = 1; pass <= passes; pass++) {
    await source.unsafe('drop table if exists hand_totals');
    const started = performance.now();
    await source.unsafe(handWritten);
    hand.push(performance.now() - started);
    const run = await runPipeline(ctx, id, { trigger: 'benchmark', timeoutSeconds: 3600, nodeStats: true });
    if (run.status !== 'succeeded') throw new Error(`run failed: ${run.error}`);
    write.push(run.stats.destinations.out!.ms);
    written = run.stats.destinations.out!.table;
    whole.push(run.stats.totalMs);
    const fast = await runPipeline(ctx, id, { trigger: 'benchmark', timeoutSeconds: 3600, nodeStats: false });
    if (fast.status !== 'succeeded') throw new Error(`run failed: ${fast.error}`);
    lean.push(fast.stats.totalMs);
    const nodes = Object.entries(run.stats.nodes).map(([node, s]) => `${node} ${s.ms} ms`);
    console.log(
      `pass ${pass}: hand-written ${hand.at(-1)!.toFixed(0)} ms; run without node stats ${lean.at(-1)} ms; ` +
        `run with node stats ${whole.at(-1)} ms (its write ${write.at(-1)} ms; ${nodes.join(', ')})`,
    );
  }
  const [same] = await source.unsafe(`select count(*)::int as n from (
    (select * from hand_totals except all select region, segment, revenue, orders from ${written})
    union all (select region, segment, revenue, orders from ${written} except all select * from hand_totals)) d`);
  if (same!.n !== 0) throw new Error(`the pipeline's output differs from the hand-written query's in ${same!.n} rows`);
  const ratio = (times: number[]) => (median(times) / median(hand)).toFixed(2);
  const leanRatio = median(lean) / median(hand);
  console.log(
    `\n${rows.toLocaleString()} rows, median of ${passes}: hand-written ${median(hand).toFixed(0)} ms; ` +
      `run without node stats ${median(lean)} ms (ratio ${leanRatio.toFixed(2)}, target ≤ ${targetRatio}: ` +
      `${leanRatio <= targetRatio ? 'met' : 'not met'}); run with per-node counts ${median(whole)} ms (ratio ${ratio(whole)}), ` +
      `its write alone ${median(write)} ms (ratio ${ratio(write)}); outputs identical`,
  );
}

main()
  .catch((error) => {
    if (!wasInterrupted()) console.error(error);
    process.exitCode = 1;
  })
  .finally(cleanupAll);
