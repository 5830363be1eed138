/**
 * Anomaly benchmark: the detector of mcp-server/quality/anomaly-detect.ts on generated daily metric
 * histories (trend, weekly seasonality, Gaussian noise) with labelled spikes, drops, level shifts and
 * stale stretches. Not a test: it prints the false-positive rate and the recall (and writes
 * results.json with --out).
 *
 *   npx tsx evals/bench/anomaly/run.ts [--series 2000] [--days 140] [--seed 7] [--min 6] [--max 12] [--out]
 *
 * A day is judged from the days before it only, as the scheduler sees it. A labelled event is found
 * when a flag falls on its detection days; a flag on any normal day is a false positive.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { detectSeriesAnomalies, minimumHistoryDays } from '../../../mcp-server/quality/anomaly-detect.js';
import { createRng } from '../search/prng.js';
import { type EventKind, generateSeries } from './generate-series.js';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '2000' },
    days: { type: 'string', default: '140' },
    seed: { type: 'string', default: '7' },
    min: { type: 'string', default: '6' },
    max: { type: 'string', default: '12' },
    out: { type: 'boolean', default: false },
  },
});

const spec = { days: Number(args.days), magnitude: [Number(args.min), Number(args.max)] as [number, number] };
const rng = createRng(Number(args.seed));
const byKind = new Map<EventKind, { events: number; found: number }>();
let normalDays = 0;
let falsePositives = 0;
let cleanSeries = 0;
let cleanSeriesFlagged = 0;

for (let i = 0; i < Number(args.series); i++) {
  const series = generateSeries(rng, spec);
  const verdict = detectSeriesAnomalies({ start: 0, values: series.values });
  if (verdict.status !== 'judged') throw new Error('a generated series is longer than the minimum history');
  const flagged = new Set(verdict.findings.map((f) => Math.round(Date.parse(`${f.day}T00:00:00Z`) / 86_400_000)));
  const labelled = new Set<number>();
  for (const e of series.events) {
    for (let d = e.start; d <= e.start + Math.max(e.settles, e.detectBy - e.start); d++) labelled.add(d);
    const tally = byKind.get(e.kind) ?? { events: 0, found: 0 };
    tally.events++;
    for (let d = e.start; d <= e.detectBy; d++) {
      if (flagged.has(d)) {
        tally.found++;
        break;
      }
    }
    byKind.set(e.kind, tally);
  }
  let seriesFlagged = false;
  for (let d = minimumHistoryDays; d < series.values.length; d++) {
    if (labelled.has(d)) continue;
    normalDays++;
    if (flagged.has(d)) {
      falsePositives++;
      seriesFlagged = true;
    }
  }
  if (series.events.length === 0) {
    cleanSeries++;
    if (seriesFlagged) cleanSeriesFlagged++;
  }
}

const events = [...byKind.values()].reduce((s, t) => s + t.events, 0);
const found = [...byKind.values()].reduce((s, t) => s + t.found, 0);
const fpr = falsePositives / normalDays;
const recall = found / events;
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const lines = [
  `anomaly benchmark: ${args.series} series of ${spec.days} days (seed ${args.seed}), anomalies of ${spec.magnitude[0]}-${spec.magnitude[1]} noise standard deviations`,
  `false-positive rate: ${pct(fpr)} (${falsePositives} of ${normalDays} normal days judged; target < 5 %)`,
  `recall: ${pct(recall)} (${found} of ${events} labelled anomalies; target >= 90 %)`,
  ...[...byKind.entries()].map(([kind, t]) => `  ${kind}: ${t.found} of ${t.events} (${pct(t.found / t.events)})`),
  `series without anomalies flagged at least once: ${cleanSeriesFlagged} of ${cleanSeries}`,
  fpr < 0.05 && recall >= 0.9 ? 'targets met' : 'targets missed',
];
process.stdout.write(`${lines.join('\n')}\n`);
if (args.out) {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
  const kinds = Object.fromEntries([...byKind.entries()].map(([k, t]) => [k, { ...t, recall: t.found / t.events }]));
  const results = {
    spec,
    seed: Number(args.seed),
    series: Number(args.series),
    fpr,
    recall,
    falsePositives,
    normalDays,
    events,
    found,
    kinds,
  };
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}
