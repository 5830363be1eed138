import type { Rng } from '../search/prng.js';

/** Generated metric histories with labelled anomalies, for the anomaly benchmark. */

export type EventKind = 'spike' | 'drop' | 'level_shift' | 'stale';

export interface LabelledEvent {
  kind: EventKind;
  /** First anomalous day (index into the series). */
  start: number;
  /** Days a detector may report it on: the spike's day, a stale stretch, the first 3 days of a shift. */
  detectBy: number;
  /** Days after `start` that are not normal: flags there are neither false positives nor hits (a shift settling in). */
  settles: number;
  /** Size in noise standard deviations (0 for stale). */
  magnitude: number;
}

export interface GeneratedSeries {
  metric: string;
  values: number[];
  events: LabelledEvent[];
}

export interface SeriesSpec {
  days: number;
  /** Smallest and largest anomaly, in noise standard deviations. */
  magnitude: [number, number];
}

const metrics = [
  // name, level range, trend per day (share of level), weekly amplitude (share of level), noise (share of level)
  { metric: 'row_count', level: [2e4, 2e6], trend: [0, 0.004], weekly: [0.02, 0.15], noise: [0.005, 0.02] },
  { metric: 'null_rate', level: [0.01, 0.2], trend: [-0.001, 0.001], weekly: [0, 0.1], noise: [0.01, 0.05] },
  { metric: 'distinct_count', level: [500, 5e5], trend: [0, 0.003], weekly: [0.01, 0.1], noise: [0.005, 0.02] },
  { metric: 'mean', level: [10, 5000], trend: [-0.002, 0.002], weekly: [0, 0.08], noise: [0.01, 0.04] },
] as const;

const between = (rng: Rng, [lo, hi]: readonly [number, number]) => lo + rng.next() * (hi - lo);

/** A standard normal draw (Box-Muller). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * One series: level, linear trend, a weekly pattern (a random weekday profile, often with quiet
 * weekends), Gaussian noise, and up to three labelled anomalies after the first five weeks, spaced so
 * each settles before the next.
 */
export function generateSeries(rng: Rng, spec: SeriesSpec): GeneratedSeries {
  const m = rng.pick(metrics);
  const level = between(rng, m.level);
  const trend = between(rng, m.trend) * level;
  const amplitude = between(rng, m.weekly) * level;
  const sigma = between(rng, m.noise) * level;
  const weekendDip = rng.chance(0.6);
  const profile = Array.from({ length: 7 }, (_, wd) => (weekendDip && wd >= 5 ? -1 : gaussian(rng) * 0.5));
  const values = Array.from(
    { length: spec.days },
    (_, d) => level + trend * d + amplitude * profile[d % 7]! + sigma * gaussian(rng),
  );

  const events: LabelledEvent[] = [];
  let next = 35 + rng.int(0, 10);
  const count = rng.int(0, 3);
  while (events.length < count && next < spec.days - 5) {
    const kind = rng.pick(['spike', 'drop', 'level_shift', 'stale'] as const);
    const magnitude = kind === 'stale' ? 0 : between(rng, spec.magnitude);
    const start = next;
    if (kind === 'spike' || kind === 'drop') {
      values[start]! += (kind === 'spike' ? 1 : -1) * magnitude * sigma;
      events.push({ kind, start, detectBy: start, settles: 0, magnitude });
      next = start + rng.int(7, 25);
    } else if (kind === 'level_shift') {
      const shift = (rng.chance(0.5) ? 1 : -1) * magnitude * sigma;
      for (let d = start; d < spec.days; d++) values[d]! += shift;
      events.push({ kind, start, detectBy: start + 2, settles: 13, magnitude });
      next = start + 21 + rng.int(0, 10);
    } else {
      const length = rng.int(3, 7);
      for (let d = start; d < Math.min(spec.days, start + length); d++) values[d] = values[start - 1]!;
      events.push({ kind, start, detectBy: start + length - 1, settles: length - 1, magnitude });
      next = start + length + rng.int(7, 20);
    }
  }
  return { metric: m.metric, values, events };
}
