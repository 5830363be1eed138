import { sql } from 'drizzle-orm';
import { queryRows, type Tx } from '../../db/create-db.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import {
  type AnomalyFinding,
  detectSeriesAnomalies,
  minimumHistoryDays,
  type Observation,
  toDailySeries,
} from './anomaly-detect.js';

/** Metrics whose history is judged: from each profile run, and hours since the data last changed. */
export const anomalyMetrics = ['row_count', 'hours_since_change', 'null_rate', 'distinct_count', 'mean'] as const;
export type AnomalyMetric = (typeof anomalyMetrics)[number];

export interface MetricAnomaly extends AnomalyFinding {
  metric: AnomalyMetric;
  /** The column, for per-column metrics. */
  column: string | null;
}

export interface SchemaDrift {
  at: string;
  summary: string;
  /** Removed or retyped columns break readers; added ones rarely do. */
  breaking: boolean;
}

export interface AnomalyReport {
  asset: string;
  qualifiedName: string;
  /** Days of profile history, and how many a day needs before it can be judged. */
  history: { days: number; needed: number };
  metricsJudged: number;
  anomalies: MetricAnomaly[];
  schemaDrift: SchemaDrift[];
  /** Said when the history is too short to judge, or there is none. */
  note: string | null;
}

export const anomalyMethod =
  'Robust seasonal baseline on daily values: the same weekday of the three previous weeks, carried forward by the ' +
  'median weekly trend; a value more than 4 robust standard deviations (1.4826 × MAD of earlier normal residuals) ' +
  `away is a spike or drop; a value unchanged for 3+ days where it never held still is stale. Needs ${minimumHistoryDays} days of history.`;

interface ProfilePoint {
  profiledAt: string;
  rowCount: number | null;
  columnStats: Record<string, { nullRate?: number | null; distinct?: { value?: number } | null; mean?: number | null }>;
}

/** Every metric series of an asset, from its profile runs (oldest first). */
export function metricSeries(
  points: ProfilePoint[],
): { metric: AnomalyMetric; column: string | null; observations: Observation[] }[] {
  const series = new Map<string, { metric: AnomalyMetric; column: string | null; observations: Observation[] }>();
  const add = (metric: AnomalyMetric, column: string | null, at: Date, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    const key = `${metric}\u0000${column ?? ''}`;
    if (!series.has(key)) series.set(key, { metric, column, observations: [] });
    series.get(key)!.observations.push({ at, value });
  };
  let changedAt: Date | undefined;
  let previousRows: number | null | undefined;
  for (const p of points) {
    const at = new Date(p.profiledAt);
    add('row_count', null, at, p.rowCount);
    if (changedAt === undefined || p.rowCount !== previousRows) changedAt = at;
    previousRows = p.rowCount;
    add('hours_since_change', null, at, (at.getTime() - changedAt.getTime()) / 3_600_000);
    for (const [column, stats] of Object.entries(p.columnStats ?? {})) {
      add('null_rate', column, at, stats.nullRate);
      add('distinct_count', column, at, stats.distinct?.value);
      add('mean', column, at, stats.mean);
    }
  }
  return [...series.values()];
}

/**
 * Judges the last `lookbackDays` days of every metric of an asset, and lists its schema changes in
 * that time. Reads only; the scheduler turns what it finds into alerts.
 */
export async function findAnomalies(
  ctx: ServiceContext,
  urn: string,
  options: { lookbackDays?: number } = {},
): Promise<AnomalyReport> {
  const asset = await findVisibleAsset(ctx, urn);
  return anomaliesOf(
    ctx.db,
    { id: asset.id, urn: asset.urn, qualifiedName: asset.qualifiedName },
    ctx.clock(),
    options.lookbackDays ?? 7,
  );
}

export async function anomaliesOf(
  db: Pick<Tx, 'execute'>,
  asset: { id: string; urn: string; qualifiedName: string },
  now: Date,
  lookbackDays: number,
): Promise<AnomalyReport> {
  // One profile per day is what the method reads; older than 8 weeks plus the references is not needed.
  const points = await queryRows<ProfilePoint>(
    db,
    sql`select distinct on (date_trunc('day', profiled_at at time zone 'UTC'))
          to_char(profiled_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "profiledAt",
          row_count::float8 as "rowCount", column_stats as "columnStats"
        from profiles where asset_id = ${asset.id}
          and profiled_at > ${now.toISOString()}::timestamptz - interval '120 days'
          and profiled_at <= ${now.toISOString()}::timestamptz
        order by date_trunc('day', profiled_at at time zone 'UTC'), profiled_at desc`,
  );
  const since = new Date(now.getTime() - lookbackDays * 86_400_000);
  const anomalies: MetricAnomaly[] = [];
  let judged = 0;
  for (const s of metricSeries(points)) {
    const daily = toDailySeries(s.observations);
    const sinceDay = Math.floor(since.getTime() / 86_400_000) + 1;
    const judgeLastDays = Math.max(0, daily.start + daily.values.length - sinceDay);
    // Data age moves in steps of the profiling interval and is only news when it grows: half a day is its
    // resolution, and fresher than usual is never a problem.
    const ageOptions = s.metric === 'hours_since_change' ? { minScale: 12, spikesOnly: true } : {};
    const verdict = detectSeriesAnomalies(daily, { judgeLastDays, ...ageOptions });
    if (verdict.status !== 'judged') continue;
    judged++;
    for (const f of verdict.findings) anomalies.push({ metric: s.metric, column: s.column, ...f });
  }
  const drift = await queryRows<{ at: string; summary: string; breaking: boolean }>(
    db,
    sql`select to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at, summary,
          (jsonb_array_length(coalesce(details->'removed', '[]')) + jsonb_array_length(coalesce(details->'retyped', '[]'))) > 0 as breaking
        from activity_events where asset_id = ${asset.id} and type = 'schema_changed'
          and at > ${since.toISOString()}::timestamptz and at <= ${now.toISOString()}::timestamptz
        order by at desc, id desc`,
  );
  const days = points.length;
  const note =
    days === 0
      ? 'No profile history yet: the scheduler profiles every table daily (or run quality_profile).'
      : judged === 0
        ? `Not enough history to judge: ${days} day(s) of profiles, ${minimumHistoryDays + 1} needed (the method compares each day with the same weekday of earlier weeks).`
        : null;
  anomalies.sort((a, b) => (a.day === b.day ? Math.abs(b.score) - Math.abs(a.score) : a.day < b.day ? 1 : -1));
  return {
    asset: asset.urn,
    qualifiedName: asset.qualifiedName,
    history: { days, needed: minimumHistoryDays + 1 },
    metricsJudged: judged,
    anomalies,
    schemaDrift: drift,
    note,
  };
}
