import { describe, expect, it } from 'vitest';
import { detectSeriesAnomalies, minimumHistoryDays, toDailySeries } from './anomaly-detect.js';

/** 1,000 rows growing by 10 a day, 300 fewer on weekends (days 5 and 6 of each week), a fixed wobble as noise. */
function weeklySeries(days: number): number[] {
  const wobble = [3, -2, 5, -4, 1, -3, 2, 0, -1, 4, -5, 2, -2, 3, 1];
  return Array.from({ length: days }, (_, d) => 1000 + 10 * d - (d % 7 >= 5 ? 300 : 0) + wobble[d % wobble.length]!);
}

const judge = (values: (number | undefined)[], judgeLastDays?: number) =>
  detectSeriesAnomalies({ start: 0, values }, { judgeLastDays });

describe('anomaly detection on a metric history', () => {
  it('says how much history it has when there is too little to judge', () => {
    expect(judge(weeklySeries(20))).toEqual({ status: 'insufficient_history', days: 20, needed: minimumHistoryDays });
  });

  it('does not flag trend and weekly seasonality: every weekend dip is normal', () => {
    expect(judge(weeklySeries(120))).toMatchObject({ status: 'judged', days: 120, findings: [] });
  });

  it('flags a spike and a drop on the day they happen, with the expected value and band', () => {
    const values = weeklySeries(90);
    values[60] = values[60]! + 400;
    values[75] = values[75]! - 400;
    const verdict = judge(values);
    if (verdict.status !== 'judged') throw new Error('expected a verdict');
    expect(verdict.findings.map((f) => [f.day, f.kind])).toEqual([
      ['1970-03-02', 'spike'],
      ['1970-03-17', 'drop'],
    ]);
    const spike = verdict.findings[0]!;
    expect(spike.value).toBe(values[60]);
    expect(spike.expected).toBeGreaterThan(1000 + 10 * 60 - 20);
    expect(spike.expected).toBeLessThan(1000 + 10 * 60 + 20);
    expect(spike.high).toBeLessThan(spike.value);
  });

  it('a weekend value on a weekday is an anomaly even though the same value is normal on Saturdays', () => {
    const values = weeklySeries(70);
    values[64] = values[64]! - 300; // day 64 is a weekday (64 % 7 = 1)
    const verdict = judge(values, 10);
    expect(verdict).toMatchObject({ status: 'judged', findings: [{ day: '1970-03-06', kind: 'drop' }] });
  });

  it('reports a level shift when it starts, and accepts it as the new normal two weeks later', () => {
    const values = weeklySeries(110).map((v, d) => (d >= 60 ? v + 500 : v));
    const verdict = judge(values);
    if (verdict.status !== 'judged') throw new Error('expected a verdict');
    const days = verdict.findings.map((f) => f.day);
    expect(days[0]).toBe('1970-03-02');
    expect(verdict.findings.every((f) => f.kind === 'spike')).toBe(true);
    // Nothing from day 74 on: two of the three reference weeks have shifted.
    expect(days.filter((d) => d >= '1970-03-16')).toEqual([]);
  });

  it('flags a metric that stops changing when it always changed before (stale data)', () => {
    const values = weeklySeries(70);
    for (let d = 62; d < 66; d++) values[d] = values[61]!;
    const verdict = judge(values);
    expect(verdict).toMatchObject({
      status: 'judged',
      findings: [
        { day: '1970-03-05', kind: 'stale' },
        { day: '1970-03-06', kind: 'stale' },
        { day: '1970-03-07', kind: 'stale' },
      ],
    });
  });

  it('does not call a table that never changes stale, and flags its first change', () => {
    const values = Array.from({ length: 60 }, () => 500);
    expect(judge(values)).toMatchObject({ status: 'judged', findings: [] });
    values[59] = 480;
    expect(judge(values)).toMatchObject({ findings: [{ day: '1970-03-01', kind: 'drop', expected: 500 }] });
  });

  it('a null rate that was always zero and now is not is flagged', () => {
    const values = Array.from({ length: 40 }, () => 0);
    values[39] = 0.05;
    expect(judge(values)).toMatchObject({ findings: [{ kind: 'spike', value: 0.05 }] });
  });

  it('buckets observations by UTC day, the last of a day winning, and skips missing days', () => {
    const at = (iso: string) => new Date(iso);
    const series = toDailySeries([
      { at: at('2026-11-03T10:00:00Z'), value: 7 },
      { at: at('2026-11-01T08:00:00Z'), value: 1 },
      { at: at('2026-11-01T20:00:00Z'), value: 2 },
      { at: at('2026-11-02T00:30:00Z'), value: Number.NaN },
    ]);
    expect(series.values).toEqual([2, undefined, 7]);
    expect(new Date(series.start * 86_400_000).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});
