import {
  aggregateSql,
  type ColumnKind,
  type Dialect,
  distributionSql,
  type ProfiledColumn,
  quantileLevels,
  quoteIdent,
  type SampleClause,
  sampledFrom,
} from './profile-sql.js';

/** A column's statistics as stored in `profiles.column_stats` and returned by `quality_profile`. */
export interface ColumnProfile {
  dataType: string;
  kind: ColumnKind;
  nulls: number;
  /** Nulls over rows; null for an empty table. */
  nullRate: number | null;
  distinct?: DistinctCount;
  min?: number | string | null;
  max?: number | string | null;
  mean?: number | null;
  stddev?: number | null;
  /** `p01` … `p99`, interpolated between neighbouring values as `percentile_cont` does. */
  quantiles?: Record<string, number>;
  /**
   * With a sample: with 95% confidence every quantile's true rank lies within this many rank points
   * (0..1) of the one asked for (Dvoretzky–Kiefer–Wolfowitz bound for the sample size).
   */
  quantileRankError?: number;
  /** With min, max, mean and standard deviation from a sample: the standard error of the mean. */
  meanStandardError?: number;
  length?: { min: number; max: number; mean: number } | null;
  trueCount?: number;
  topValues?: { value: string; count: number; share: number }[];
  /** Shapes of values: A an upper-case letter, a lower-case, 9 a digit, anything else as it is. */
  patterns?: { pattern: string; share: number }[];
  /**
   * The statistics that come from a sample rather than every row (row and null counts never do): see
   * `distinct.bounds`, `quantileRankError` and `meanStandardError` for their error; a sampled min and max
   * are values the column holds, the true ones at least as far out.
   */
  estimated?: string[];
  /** Why a column got only a null count (json, arrays, binary and geometric values are not compared). */
  skipped?: string;
}

export interface DistinctCount {
  value: number;
  exact: boolean;
  /**
   * `exact`: counted over every row; `duj1`: Haas and Stokes' Duj1 estimator over the sample (the one
   * Postgres's ANALYZE uses), with `bounds` that always hold: at least the values seen, at most those plus
   * every row the sample left out.
   */
  method: 'exact' | 'duj1';
  bounds?: [number, number];
}

export interface ProfileRun {
  rowCount: number;
  columnStats: Record<string, ColumnProfile>;
  details: {
    dialect: Dialect;
    sample: { method: SampleClause['method']; fraction: number };
    /** Whether min, max, mean, standard deviation and true counts were taken over every row. */
    exactMoments: boolean;
    statements: number;
    durationMs: number;
  };
}

export interface ReadQuery {
  dialect: Dialect;
  query<T = Record<string, unknown>>(statement: string, params?: unknown[]): Promise<T[]>;
}

export interface ProfileLimits {
  /**
   * Up to this many rows everything is exact; above it distinct values, quantiles, top values, patterns
   * and lengths come from a sample of about this many rows (as many as Postgres's ANALYZE reads).
   */
  sampleRows: number;
  /**
   * Up to this many rows (as the catalog estimates them) min, max, mean and standard deviation are taken
   * over every row; above it they come from the sample too, so a profile costs little more than
   * counting rows and nulls.
   */
  exactRows: number;
}
export const defaultProfileLimits: ProfileLimits = { sampleRows: 30_000, exactRows: 1_000_000 };

/** Postgres allows 1,664 result columns; an aggregate statement holds at most 6 per column. */
const aggregateChunk = 200;
const distributionChunk = 100;

/**
 * Profiles one table or view through a source reader: a full scan of aggregates, then a sample (the
 * whole table up to `sampleRows` rows) for what needs grouping or sorting.
 */
export async function profileRelation(
  reader: ReadQuery,
  target: { namespace: string; name: string; kind: string; estimatedRows: number | null },
  columns: ProfiledColumn[],
  limits: ProfileLimits = defaultProfileLimits,
): Promise<ProfileRun> {
  const started = performance.now();
  const { dialect } = reader;
  const q = (s: string) => quoteIdent(dialect, s);
  const table = target.namespace ? `${q(target.namespace)}.${q(target.name)}` : q(target.name);
  let statements = 0;
  const aggregates = async (from: string, moments: boolean) => {
    const out: Record<string, unknown> = {};
    for (const chunk of chunks(columns, aggregateChunk)) {
      const [row] = await reader.query<Record<string, unknown>>(aggregateSql(dialect, from, chunk.items, moments));
      statements++;
      for (const [key, value] of Object.entries(row ?? {})) out[renumber(key, chunk.offset)] = value;
    }
    return out;
  };

  const exactMoments = target.estimatedRows === null || target.estimatedRows <= limits.exactRows;
  const full = await aggregates(table, exactMoments);
  const rowCount = toNumber(full.n) ?? 0;
  const sample: SampleClause =
    rowCount <= limits.sampleRows
      ? { method: 'all', fraction: 1 }
      : {
          // Page sampling reads only the sampled pages; views have no pages, so their rows are drawn one by one.
          method: dialect === 'postgres' && target.kind !== 'view' ? 'system' : 'random',
          fraction: limits.sampleRows / rowCount,
        };
  const moments = exactMoments ? full : await aggregates(sampledFrom(dialect, table, sample), true);
  const sampled: SampleRow[] = [];
  for (const chunk of chunks(columns, distributionChunk)) {
    const statement = distributionSql(dialect, table, chunk.items, sample);
    if (!statement) continue;
    const rows = await reader.query<SampleRow>(statement);
    statements++;
    for (const r of rows) sampled.push({ ...r, col: (toNumber(r.col) ?? 0) + chunk.offset });
  }

  const columnStats: Record<string, ColumnProfile> = {};
  columns.forEach((c, i) => {
    const facts = { rowCount, full, moments, momentsSampled: !exactMoments && sample.method !== 'all' };
    columnStats[c.name] = columnProfile(
      c,
      i,
      facts,
      sampled.filter((r) => r.col === i),
    );
  });
  return {
    rowCount,
    columnStats,
    details: {
      dialect,
      sample,
      exactMoments: exactMoments || sample.method === 'all',
      statements,
      durationMs: Math.round(performance.now() - started),
    },
  };
}

interface SampleRow {
  col: number;
  kind: 'freq' | 'top' | 'pattern' | 'length' | 'quantiles' | 'rank';
  v: string | null;
  a: unknown;
  b: unknown;
  c: unknown;
}

interface TableFacts {
  rowCount: number;
  /** The full scan's aggregates. */
  full: Record<string, unknown>;
  /** Where min, max, mean and standard deviation came from: the full scan or the sample. */
  moments: Record<string, unknown>;
  momentsSampled: boolean;
}

function columnProfile(column: ProfiledColumn, i: number, facts: TableFacts, rows: SampleRow[]): ColumnProfile {
  const { rowCount, full, moments, momentsSampled } = facts;
  const nonNull = toNumber(full[`c${i}_nonnull`]) ?? 0;
  const nulls = rowCount - nonNull;
  const profile: ColumnProfile = {
    dataType: column.dataType,
    kind: column.kind,
    nulls,
    nullRate: rowCount === 0 ? null : nulls / rowCount,
  };
  if (column.kind === 'skipped') {
    profile.skipped = `${column.dataType} values are not compared; only nulls are counted`;
    return profile;
  }
  const estimated: string[] = [];
  const momentRows = toNumber(moments[`c${i}_nonnull`]) ?? 0;
  if (column.kind === 'number' || column.kind === 'text' || column.kind === 'temporal') {
    const parse = column.kind === 'number' ? toNumber : (v: unknown) => (v === undefined ? null : (v as string | null));
    profile.min = parse(moments[`c${i}_min`]);
    profile.max = parse(moments[`c${i}_max`]);
    if (momentsSampled) estimated.push('min', 'max');
  }
  if (column.kind === 'number') {
    profile.mean = toNumber(moments[`c${i}_mean`]);
    profile.stddev = toNumber(moments[`c${i}_stddev`]);
    if (momentsSampled) {
      estimated.push('mean', 'stddev');
      if (profile.stddev !== null && momentRows > 0) profile.meanStandardError = profile.stddev / Math.sqrt(momentRows);
    }
  } else if (column.kind === 'boolean') {
    const trues = toNumber(moments[`c${i}_true`]) ?? 0;
    profile.trueCount = momentsSampled && momentRows > 0 ? Math.round((trues * nonNull) / momentRows) : trues;
    if (momentsSampled) estimated.push('trueCount');
  }

  const freq = rows.find((r) => r.kind === 'freq');
  const seenDistinct = toNumber(freq?.a) ?? 0;
  const singletons = toNumber(freq?.b) ?? 0;
  const sampleNonNull = toNumber(freq?.c) ?? 0;
  const complete = sampleNonNull >= nonNull;
  if (!complete) estimated.push('distinct', 'topValues', 'patterns', 'length', 'quantiles');
  profile.distinct = complete
    ? { value: seenDistinct, exact: true, method: 'exact' }
    : {
        value: duj1(sampleNonNull, seenDistinct, singletons, nonNull),
        exact: false,
        method: 'duj1',
        bounds: [seenDistinct, seenDistinct + (nonNull - sampleNonNull)],
      };
  // A sampled count is scaled up to the table; a share is the value's part of the non-null rows.
  const scale = complete || sampleNonNull === 0 ? 1 : nonNull / sampleNonNull;
  const share = (n: number) => (sampleNonNull === 0 ? 0 : n / sampleNonNull);
  profile.topValues = rows
    .filter((r) => r.kind === 'top')
    .map((r) => ({
      value: String(r.v),
      count: Math.round((toNumber(r.a) ?? 0) * scale),
      share: share(toNumber(r.a) ?? 0),
    }))
    .sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : 1));
  if (column.kind === 'text') {
    profile.patterns = rows
      .filter((r) => r.kind === 'pattern')
      .map((r) => ({ pattern: String(r.v), share: share(toNumber(r.a) ?? 0) }))
      .sort((x, y) => y.share - x.share || (x.pattern < y.pattern ? -1 : 1));
    const length = rows.find((r) => r.kind === 'length');
    profile.length =
      length && toNumber(length.a) !== null
        ? { min: toNumber(length.a)!, max: toNumber(length.b)!, mean: toNumber(length.c)! }
        : null;
  }
  if (column.kind === 'number') {
    const array = rows.find((r) => r.kind === 'quantiles');
    profile.quantiles = array ? quantilesFromArray(array.v) : quantilesFromRanks(rows.filter((r) => r.kind === 'rank'));
    if (!complete && sampleNonNull > 0) {
      profile.quantileRankError = Math.sqrt(Math.log(2 / 0.05) / (2 * sampleNonNull));
    }
  }
  if (estimated.length > 0) profile.estimated = estimated.filter((k) => k in profile);
  return profile;
}

/**
 * Haas and Stokes' Duj1: n·d / (n − f1 + f1·n/N) for a sample of n non-null values holding d distinct
 * ones, f1 of them once, out of N. A sample where every value is seen once is taken as a unique column,
 * as Postgres's ANALYZE does.
 */
export function duj1(n: number, d: number, f1: number, total: number): number {
  if (n === 0) return 0;
  if (f1 === d) return total;
  const estimate = (n * d) / (n - f1 + (f1 * n) / total);
  return Math.round(Math.min(total, Math.max(d, estimate)));
}

function quantileKey(q: number): string {
  return `p${String(Math.round(q * 100)).padStart(2, '0')}`;
}

/** Postgres's `percentile_cont(array[…])` as text: `{1.5,2,…}`, null when the column has no values. */
function quantilesFromArray(text: string | null): Record<string, number> {
  if (!text) return {};
  const values = text.replace(/[{}]/g, '').split(',').map(Number);
  return Object.fromEntries(quantileLevels.map((q, k) => [quantileKey(q), values[k]!]));
}

function quantilesFromRanks(rows: SampleRow[]): Record<string, number> {
  const byRank = new Map(rows.map((r) => [toNumber(r.a)!, toNumber(r.v)!]));
  const n = toNumber(rows[0]?.b);
  const out: Record<string, number> = {};
  if (!n) return out;
  for (const q of quantileLevels) {
    const h = q * (n - 1);
    const lo = byRank.get(Math.floor(h) + 1)!;
    const hi = byRank.get(Math.floor(h) + 2) ?? lo;
    out[quantileKey(q)] = lo + (h - Math.floor(h)) * (hi - lo);
  }
  return out;
}

function chunks<T>(items: T[], size: number): { items: T[]; offset: number }[] {
  const out: { items: T[]; offset: number }[] = [];
  for (let offset = 0; offset < items.length; offset += size)
    out.push({ items: items.slice(offset, offset + size), offset });
  return out.length > 0 ? out : [{ items: [], offset: 0 }];
}

/** `c3_min` of a chunk starting at column 200 is `c203_min` of the table. */
function renumber(key: string, offset: number): string {
  return key.replace(/^c(\d+)_/, (_, n: string) => `c${Number(n) + offset}_`);
}

/** Drivers hand back counts as bigint, numeric strings or numbers; a profile stores plain numbers. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'bigint' ? Number(value) : Number(value);
  return Number.isFinite(n) ? n : null;
}
