/**
 * Anomaly detection on a metric's daily history (row count, null rate, distinct count, mean, hours
 * since the last change), tolerant of trend and weekly seasonality. Pure functions: no database.
 *
 * Method (a robust seasonal baseline):
 * - Observations are bucketed by UTC day (the last value of a day counts).
 * - The trend is the median of the seasonal differences (x[d] - x[d-7]) / 7 over the last 8 weeks, so a
 *   weekly pattern cancels out and a few outliers do not move it.
 * - The value expected on day d is the median of the same weekday in the three previous weeks, each
 *   carried forward by the trend. A median of three ignores one earlier spike; a level shift stops
 *   being news after two weeks, when two of the three reference days have shifted.
 * - The residual's scale is 1.4826 × the median absolute deviation of the same residuals over the
 *   previous eight weeks (a robust standard deviation), floored at 0.2 % of the expected value so a
 *   perfectly flat metric does not flag rounding.
 * - A value more than `threshold` scales away is a spike (above) or a drop (below).
 * - Stale: a value that stays exactly the same for `staleDays` days or more, on a metric whose history
 *   never held still that long, means the data stopped changing (a stuck load).
 *
 * A day can be judged only with 28 days of history before it: three weeks of same-weekday references,
 * plus a week of residuals to measure the noise. With less, the answer says how much there is.
 */

export interface Observation {
  at: Date;
  value: number;
}

export type AnomalyKind = 'spike' | 'drop' | 'stale';

export interface AnomalyFinding {
  /** The UTC day judged, `YYYY-MM-DD`. */
  day: string;
  kind: AnomalyKind;
  value: number;
  expected: number;
  /** The band a normal value falls in. */
  low: number;
  high: number;
  /** How many robust standard deviations the value is from the expected one (0 for stale). */
  score: number;
}

export interface AnomalyOptions {
  /** Robust standard deviations that make a value anomalous (default 4). */
  threshold?: number;
  /** Days a value must stay exactly the same to count as stale (default 3). */
  staleDays?: number;
  /** The smallest noise scale, in the metric's unit: below it a change is resolution, not news. */
  minScale?: number;
  /** Report only values above the band (for a metric where lower is never a problem, like data age). */
  spikesOnly?: boolean;
}

export type SeriesVerdict =
  | { status: 'insufficient_history'; days: number; needed: number }
  | { status: 'judged'; days: number; findings: AnomalyFinding[] };

/** Days of history a day needs before it can be judged. */
export const minimumHistoryDays = 28;
const referenceWeeks = 3;
const trendWeeks = 8;
const scaleWeeks = 8;
const defaultThreshold = 4;
const defaultStaleDays = 3;
const dayMs = 86_400_000;

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A daily series: `values[i]` is day `start + i`, or undefined for a day without an observation. */
export interface DailySeries {
  start: number;
  values: (number | undefined)[];
}

/** Buckets observations by UTC day; the last observation of a day wins. */
export function toDailySeries(observations: Observation[]): DailySeries {
  const finite = observations.filter((o) => Number.isFinite(o.value)).sort((a, b) => a.at.getTime() - b.at.getTime());
  if (finite.length === 0) return { start: 0, values: [] };
  const start = Math.floor(finite[0]!.at.getTime() / dayMs);
  const values: (number | undefined)[] = [];
  for (const o of finite) values[Math.floor(o.at.getTime() / dayMs) - start] = o.value;
  return { start, values };
}

export function dayLabel(dayNumber: number): string {
  return new Date(dayNumber * dayMs).toISOString().slice(0, 10);
}

/** The value expected on day `d` from the days before it, or undefined when the references are missing. */
function expectedAt(values: (number | undefined)[], d: number): number | undefined {
  const differences: number[] = [];
  for (let i = Math.max(7, d - trendWeeks * 7); i < d; i++) {
    const [now, before] = [values[i], values[i - 7]];
    if (now !== undefined && before !== undefined) differences.push((now - before) / 7);
  }
  if (differences.length < 7) return undefined;
  const slope = median(differences);
  const references: number[] = [];
  for (let k = 1; k <= referenceWeeks; k++) {
    const v = values[d - 7 * k];
    if (v !== undefined) references.push(v + 7 * k * slope);
  }
  return references.length === referenceWeeks ? median(references) : undefined;
}

/** Judges every day of the series that has enough history, or the last `judgeLastDays` of them. */
export function detectSeriesAnomalies(
  series: DailySeries,
  options: AnomalyOptions & { judgeLastDays?: number } = {},
): SeriesVerdict {
  const threshold = options.threshold ?? defaultThreshold;
  const staleDays = options.staleDays ?? defaultStaleDays;
  const { values } = series;
  const days = values.filter((v) => v !== undefined).length;
  if (values.length <= minimumHistoryDays) return { status: 'insufficient_history', days, needed: minimumHistoryDays };

  // Residuals of every day that has references; each day's scale comes from the residuals before it.
  const expected: (number | undefined)[] = values.map((v, d) => (v === undefined ? undefined : expectedAt(values, d)));
  const residual = values.map((v, d) => (v === undefined || expected[d] === undefined ? undefined : v - expected[d]!));

  // The noise is measured on the residuals of normal days only: an earlier spike or shift must not widen
  // the band and hide the next one. Days before the first judgeable one all count.
  const normal: (number | undefined)[] = residual.slice(0, minimumHistoryDays);
  const findings: AnomalyFinding[] = [];
  const firstReported = values.length - (options.judgeLastDays ?? values.length);
  // longestBefore[d]: the longest stretch of one repeated value that ended before day d, stale ones left out.
  const longestBefore: number[] = [];
  let longest = 0;
  for (let d = 0; d < minimumHistoryDays; d++) {
    longestBefore[d] = longest;
    if (values[d] !== undefined) longest = Math.max(longest, equalRunEndingAt(values, d));
  }
  for (let d = minimumHistoryDays; d < values.length; d++) {
    longestBefore[d] = longest;
    const value = values[d];
    const exp = expected[d];
    normal[d] = residual[d];
    if (value === undefined || exp === undefined) continue;
    const past = normal.slice(Math.max(0, d - scaleWeeks * 7), d).filter((r): r is number => r !== undefined);
    if (past.length < 7) continue;
    const center = median(past);
    const scale = Math.max(
      1.4826 * median(past.map((r) => Math.abs(r - center))),
      0.002 * Math.abs(exp),
      options.minScale ?? 1e-9,
    );
    const score = (value - exp - center) / scale;
    const band = { low: exp + center - threshold * scale, high: exp + center + threshold * scale };
    const run = equalRunEndingAt(values, d);
    let kind: AnomalyKind | undefined;
    const runStart = d - run + 1;
    // Stale needs two weeks before the stretch in which the value never held still this long.
    if (run >= staleDays && runStart >= 14 && run > longestBefore[runStart]!) kind = 'stale';
    else if (score > threshold || (score < -threshold && !options.spikesOnly)) kind = score > 0 ? 'spike' : 'drop';
    if (kind) normal[d] = undefined;
    // A stuck stretch that was reported does not become the new normal for later days.
    if (kind !== 'stale') longest = Math.max(longest, run);
    if (kind && d >= firstReported) {
      findings.push({
        day: dayLabel(series.start + d),
        kind,
        value,
        expected: exp,
        ...band,
        score: kind === 'stale' ? 0 : score,
      });
    }
  }
  return { status: 'judged', days, findings };
}

/** How many consecutive recorded days up to and including `d` hold exactly the value of day `d`. */
function equalRunEndingAt(values: (number | undefined)[], d: number): number {
  let run = 1;
  while (d - run >= 0 && values[d - run] !== undefined && values[d - run] === values[d]) run++;
  return run;
}
