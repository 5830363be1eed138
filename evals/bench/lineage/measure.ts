import os from 'node:os';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { lineageImpact } from '../../../mcp-server/lineage/analysis.js';
import type { LineageColumnEdge } from '../../../mcp-server/lineage/graph.js';
import { layoutLineage } from '../../../mcp-server/lineage/layout.js';
import { buildGraph, getLineage, type WalkedEdge, walk } from '../../../mcp-server/lineage/queries.js';
import { createRng } from '../search/prng.js';
import { formatMs, type LatencySummary, summarize, timed } from '../search/stats.js';
import type { Recorded } from './explain.js';
import { hopFrontier } from './explain.js';

/** A start node: its number in the generated graph, asset id and URN, and what the graph says it reaches. */
export interface Start {
  n: number;
  id: string;
  urn: string;
  layer: number;
  /** Downstream nodes within the scenario's depth, counted in memory (-1 when not counted). */
  reach: number;
  column?: string;
}

export interface Outcome {
  reached: number;
  partial: boolean;
}

export interface ScenarioResult {
  scenario: string;
  variant: string;
  runs: number;
  passes: number;
  /** Median over passes of each pass's percentiles (the machine is shared: one pass can be unlucky). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  perPass: LatencySummary[];
  reached: { min: number; median: number; max: number };
  partial: number;
  errors: string[];
  /** Wall time of the calls that failed (e.g. cancelled by statement_timeout); not in the percentiles. */
  failedMs: number[];
  /** 1-minute load average before and after. */
  loadAverage: number[];
  /** Where a call's time goes (medians over calls), when measured through a recording context. */
  split?: { hopsMs: number; otherQueriesMs: number; inProcessMs: number; statements: number };
  note?: string;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

const round = (ms: number) => Math.round(ms * 10) / 10;

export interface MeasureOptions {
  passes: number;
  seed: number;
  /** Unmeasured calls first (distinct starts), so caches and plans are warm. */
  warmup?: number;
  /** Stop after the first call that takes longer than this: too slow to repeat. */
  repeatBelowMs?: number;
  /** The recording context `run` goes through: each call's statements split its time. */
  recorder?: { statements: Recorded[] };
}

/** Runs `run` on every start, `passes` times in a shuffled order each pass, and summarises the latencies. */
export async function measure(
  scenario: string,
  variant: string,
  starts: Start[],
  run: (start: Start) => Promise<Outcome>,
  options: MeasureOptions,
): Promise<ScenarioResult> {
  const rng = createRng(options.seed);
  const errors: string[] = [];
  for (const start of starts.slice(0, options.warmup ?? 0)) await run(start).catch(() => {});
  const loadBefore = os.loadavg()[0]!;
  const perPass: LatencySummary[] = [];
  const reached: number[] = [];
  let partial = 0;
  let note: string | undefined;
  const split = { hops: [] as number[], other: [] as number[], process: [] as number[], statements: [] as number[] };
  const failedMs: number[] = [];
  let began = 0;
  let stopped = false;
  for (let pass = 0; pass < options.passes && !stopped; pass++) {
    const samples: number[] = [];
    for (const start of rng.shuffle([...starts])) {
      try {
        if (options.recorder) options.recorder.statements.length = 0;
        began = performance.now();
        const { result, ms } = await timed(() => run(start));
        samples.push(ms);
        if (options.recorder) {
          const statements = options.recorder.statements;
          const hops = statements.filter((s) => hopFrontier(s.query) !== null).reduce((t, s) => t + s.ms, 0);
          const all = statements.reduce((t, s) => t + s.ms, 0);
          split.hops.push(hops);
          split.other.push(all - hops);
          split.process.push(ms - all);
          split.statements.push(statements.length);
        }
        if (pass === 0) reached.push(result.reached);
        if (result.partial) partial++;
        if (options.repeatBelowMs !== undefined && ms > options.repeatBelowMs) {
          note = `stopped after ${samples.length} call(s): one took over ${options.repeatBelowMs / 1000} s`;
          stopped = true;
          break;
        }
      } catch (error) {
        const ms = performance.now() - began;
        failedMs.push(ms);
        // drizzle's message is the whole statement; the server's reason is in `cause`.
        const reason =
          ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message.split('\n')[0];
        errors.push(`${start.urn}: failed after ${formatMs(ms)}: ${reason}`);
        if (options.repeatBelowMs !== undefined && ms > options.repeatBelowMs) {
          note = `stopped after a call failed after ${formatMs(ms)}`;
          stopped = true;
          break;
        }
      }
    }
    if (samples.length > 0) perPass.push(summarize(samples));
  }
  const runs = perPass.reduce((s, p) => s + p.n, 0);
  return {
    scenario,
    variant,
    runs,
    passes: perPass.length,
    p50: median(perPass.map((p) => p.p50)),
    p95: median(perPass.map((p) => p.p95)),
    p99: median(perPass.map((p) => p.p99)),
    max: Math.max(...perPass.map((p) => p.max)),
    perPass,
    reached:
      reached.length === 0
        ? { min: 0, median: 0, max: 0 }
        : { min: Math.min(...reached), median: median(reached), max: Math.max(...reached) },
    partial,
    errors,
    failedMs: failedMs.map((ms) => Math.round(ms)),
    loadAverage: [loadBefore, os.loadavg()[0]!].map((l) => Math.round(l * 100) / 100),
    split:
      options.recorder && split.hops.length > 0
        ? {
            hopsMs: round(median(split.hops)),
            otherQueriesMs: round(median(split.other)),
            inProcessMs: round(median(split.process)),
            statements: median(split.statements),
          }
        : undefined,
    note,
  };
}

/** `lineageImpact` downstream of an asset (or one column); `reached` is the number of impacted assets. */
export function impact(ctx: ServiceContext, request: { depth: number; budgetMs: number; maxAssets?: number }) {
  return async (start: Start): Promise<Outcome> => {
    const result = await lineageImpact(ctx, { urn: start.urn, column: start.column ?? null, ...request });
    return { reached: result.total, partial: result.partial };
  };
}

/** `getLineage` both ways; `reached` is the number of nodes in the laid-out graph (groups count once). */
export function lineage(ctx: ServiceContext, depth: number) {
  return async (start: Start): Promise<Outcome> => {
    const graph = await getLineage(ctx, { urn: start.urn, direction: 'both', depth });
    return { reached: graph.nodes.length, partial: graph.truncated };
  };
}

export interface LineagePhases {
  /** Both walks (upstream then downstream), as getLineage runs them. */
  walk: LatencySummary;
  /** buildGraph: asset details and column mappings of the walked nodes and edges. */
  build: LatencySummary;
  /** layoutLineage (mcp-server/lineage/layout.ts): collapsing crowded layers and dagre placement. */
  layout: LatencySummary;
  nodesWalked: number;
  nodesShown: number;
}

/**
 * getLineage's three steps timed one by one, the same calls getLineage makes (walk, buildGraph,
 * layoutLineage), to tell how much of a `lineage_get` is the layout.
 */
export async function lineagePhases(ctx: ServiceContext, starts: Start[], depth: number): Promise<LineagePhases> {
  const times = { walk: [] as number[], build: [] as number[], layout: [] as number[] };
  const walked: number[] = [];
  const shown: number[] = [];
  for (const start of starts) {
    const asOf = ctx.clock();
    // getLineage's defaults: 500 nodes, data flow (`derives`) only.
    const options = { depth, asOf, maxNodes: 500, kinds: ['derives'] as ('derives' | 'references')[] };
    const walks = await timed(async () => [
      await walk(ctx, start.id, 'upstream', options),
      await walk(ctx, start.id, 'downstream', options),
    ]);
    const layers = new Map<string, number>();
    const edges = new Map<string, WalkedEdge & { columns?: LineageColumnEdge[] }>();
    for (const w of walks.result) {
      for (const [id, layer] of w.layers) if (!layers.has(id) || layer !== 0) layers.set(id, layer);
      for (const [id, edge] of w.edges) edges.set(id, edge);
    }
    const graph = await timed(() =>
      buildGraph(ctx, {
        focusId: start.id,
        focus: start.urn,
        focusColumn: null,
        direction: 'both',
        depth,
        asOf,
        layers,
        edges,
        truncated: walks.result.some((w) => w.truncated),
      }),
    );
    const laid = await timed(async () => layoutLineage(graph.result));
    times.walk.push(walks.ms);
    times.build.push(graph.ms);
    times.layout.push(laid.ms);
    walked.push(layers.size);
    shown.push(laid.result.nodes.length);
  }
  return {
    walk: summarize(times.walk),
    build: summarize(times.build),
    layout: summarize(times.layout),
    nodesWalked: median(walked),
    nodesShown: median(shown),
  };
}

/** Median wall time of `work` over `times` runs. */
export async function medianMs(times: number, work: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) samples.push((await timed(async () => work())).ms);
  return Math.round(median(samples) * 100) / 100;
}
