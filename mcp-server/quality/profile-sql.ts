/**
 * The SQL a profile pushes down to a source, in the two dialects the readers speak: one full scan of
 * aggregates, and statements over a sample (the whole table when it is small) for what needs grouping or
 * sorting per column (distinct values, top values, value patterns, lengths, quantiles).
 */

export type Dialect = 'postgres' | 'mysql';

/** How a column is profiled: numbers get moments and quantiles, text lengths and patterns, and so on. */
export type ColumnKind = 'number' | 'text' | 'boolean' | 'temporal' | 'other' | 'skipped';

export interface ProfiledColumn {
  name: string;
  dataType: string;
  kind: ColumnKind;
}

/** Quantiles reported for numeric columns (0 and 1 are the exact min and max of the full scan). */
export const quantileLevels = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
export const topValueCount = 10;
export const patternCount = 5;
/** Longer values are cut before their shape is taken, so free text still falls into a few patterns. */
export const patternLength = 40;

const postgresSkipped =
  /(\[\]$|^(json|jsonb|xml|bytea|tsvector|tsquery|point|line|lseg|box|path|polygon|circle|geometry|geography|txid_snapshot|pg_))/;
const mysqlSkipped =
  /^(json|tinyblob|blob|mediumblob|longblob|binary|varbinary|bit|geometry|point|linestring|polygon|multi|geometrycollection)/;

/** Sorts a column into a profiling kind from its type as the connector recorded it. */
export function columnKind(dialect: Dialect, dataType: string): ColumnKind {
  const t = dataType.toLowerCase().trim();
  if (dialect === 'postgres') {
    if (postgresSkipped.test(t)) return 'skipped';
    if (/^(smallint|integer|bigint|numeric|decimal|real|double precision)/.test(t)) return 'number';
    if (/^(text|character|char|varchar|citext|name)\b/.test(t)) return 'text';
    if (t === 'boolean') return 'boolean';
    if (/^(date|timestamp|time)\b/.test(t)) return 'temporal';
    return 'other';
  }
  if (mysqlSkipped.test(t)) return 'skipped';
  if (/^tinyint\(1\)/.test(t) || t === 'boolean' || t === 'bool') return 'boolean';
  if (/^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real)\b/.test(t)) return 'number';
  if (/^(char|varchar|tinytext|text|mediumtext|longtext)\b/.test(t)) return 'text';
  if (/^(date|datetime|timestamp|time|year)\b/.test(t)) return 'temporal';
  return 'other';
}

export function quoteIdent(dialect: Dialect, name: string): string {
  return dialect === 'postgres' ? `"${name.replace(/"/g, '""')}"` : `\`${name.replace(/`/g, '``')}\``;
}

function asText(dialect: Dialect, expr: string): string {
  return `cast(${expr} as ${dialect === 'postgres' ? 'text' : 'char'})`;
}

function asFloat(dialect: Dialect, expr: string): string {
  // Postgres averages bigint and numeric in numeric arithmetic; double precision is several times faster
  // over a large table and precise enough for a mean and a standard deviation.
  return dialect === 'postgres' ? `cast(${expr} as double precision)` : expr;
}

/**
 * One pass of aggregates over `from` (the table, or a sample of it). Column aliases are positional
 * (`c0_nonnull`, `c0_min`, …) so no column name has to survive being an alias. With `moments`, it also
 * takes min, max, mean, standard deviation and true counts; without, only row and non-null counts,
 * which cost the least per row.
 */
export function aggregateSql(dialect: Dialect, from: string, columns: ProfiledColumn[], moments: boolean): string {
  const parts = ['count(*) as n'];
  columns.forEach((c, i) => {
    const q = quoteIdent(dialect, c.name);
    parts.push(`count(${q}) as c${i}_nonnull`);
    if (!moments) return;
    if (c.kind === 'number' || c.kind === 'text' || c.kind === 'temporal') {
      parts.push(`${asText(dialect, `min(${q})`)} as c${i}_min`, `${asText(dialect, `max(${q})`)} as c${i}_max`);
    }
    if (c.kind === 'number') {
      parts.push(`avg(${asFloat(dialect, q)}) as c${i}_mean`, `stddev_samp(${asFloat(dialect, q)}) as c${i}_stddev`);
    } else if (c.kind === 'boolean') {
      parts.push(`sum(case when ${q} then 1 else 0 end) as c${i}_true`);
    }
  });
  return `select ${parts.join(', ')} from ${from}`;
}

/** Where the sample comes from: the whole table, or about `fraction` of its rows. */
export interface SampleClause {
  fraction: number;
  /** `system`: Postgres TABLESAMPLE SYSTEM (whole pages); `random`: each row with probability `fraction`. */
  method: 'all' | 'system' | 'random';
}

/** The FROM clause of a sample; the fraction is a number the profiler computed, never user text. */
export function sampledFrom(dialect: Dialect, table: string, sample: SampleClause): string {
  if (sample.method === 'system') {
    // REPEATABLE: every statement of a profile reads the same pages.
    return `${table} tablesample system (${(sample.fraction * 100).toFixed(6)}) repeatable (7)`;
  }
  if (sample.method === 'random') {
    return `${table} where ${dialect === 'postgres' ? 'random()' : 'rand(7)'} < ${sample.fraction.toFixed(8)}`;
  }
  return table;
}

function patternOf(dialect: Dialect, expr: string): string {
  const cut = `substr(${asText(dialect, expr)}, 1, ${patternLength})`;
  if (dialect === 'postgres') {
    return `translate(${cut}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '${'A'.repeat(26)}${'a'.repeat(26)}${'9'.repeat(10)}')`;
  }
  // (?-i): a case-insensitive collation would otherwise fold both letter classes into one.
  return `regexp_replace(regexp_replace(regexp_replace(${cut}, '[0-9]', '9'), '(?-i)[a-z]', 'a'), '(?-i)[A-Z]', 'A')`;
}

/**
 * One statement over the sample, returning rows `(col, kind, v, a, b, c)`:
 * `freq` (a distinct values, b values seen once, c non-null rows), `top` (v value, a count),
 * `pattern` (v shape, a count), `length` (a min, b max, c mean), and for quantiles either
 * `quantiles` (v Postgres's percentile_cont array) or `rank` (v value, a its rank, b non-null rows).
 * Each column's values are grouped once (`g0`, `g1`, …) for its distinct and top values.
 */
export function distributionSql(
  dialect: Dialect,
  table: string,
  columns: ProfiledColumn[],
  sample: SampleClause,
): string {
  const num = (expr: string) => (dialect === 'postgres' ? `cast(${expr} as double precision)` : expr);
  const nullText = dialect === 'postgres' ? 'cast(null as text)' : 'null';
  const nullNum = dialect === 'postgres' ? 'cast(null as double precision)' : 'null';
  const materialized = dialect === 'postgres' ? 'materialized ' : '';
  const profiled = columns.map((c, i) => ({ ...c, i })).filter((c) => c.kind !== 'skipped');
  if (profiled.length === 0) return '';
  const select = profiled.map((c) => `${quoteIdent(dialect, c.name)} as c${c.i}`).join(', ');
  const ctes = [`s as ${materialized}(select ${select} from ${sampledFrom(dialect, table, sample)})`];
  const branches: string[] = [];
  for (const c of profiled) {
    const col = `c${c.i}`;
    const g = `g${c.i}`;
    ctes.push(
      `${g} as ${materialized}(select ${col} as v, count(*) as f from s where ${col} is not null group by ${col})`,
    );
    branches.push(
      `select ${c.i} as col, 'freq' as kind, ${nullText} as v, ${num('count(*)')} as a, ${num('sum(case when f = 1 then 1 else 0 end)')} as b, ${num('sum(f)')} as c from ${g}`,
      `select * from (select ${c.i} as col, 'top' as kind, ${asText(dialect, 'v')} as v, ${num('f')} as a, ${nullNum} as b, ${nullNum} as c from ${g} order by f desc, v limit ${topValueCount}) t${c.i}`,
    );
    if (c.kind === 'text') {
      branches.push(
        // Shapes of the distinct values, weighted by how often each occurs: each value is shaped once.
        `select * from (select ${c.i} as col, 'pattern' as kind, p as v, ${num('sum(f)')} as a, ${nullNum} as b, ${nullNum} as c from (select ${patternOf(dialect, 'v')} as p, f from ${g}) x group by p order by sum(f) desc, p limit ${patternCount}) p${c.i}`,
        `select ${c.i} as col, 'length' as kind, ${nullText} as v, ${num(`min(char_length(${col}))`)} as a, ${num(`max(char_length(${col}))`)} as b, ${num(`avg(char_length(${col}))`)} as c from s`,
      );
    }
    if (c.kind === 'number' && dialect === 'postgres') {
      branches.push(
        `select ${c.i} as col, 'quantiles' as kind, cast(percentile_cont(array[${quantileLevels.join(', ')}]) within group (order by cast(${col} as double precision)) as text) as v, ${nullNum} as a, ${nullNum} as b, ${nullNum} as c from s`,
      );
    } else if (c.kind === 'number') {
      // MySQL and MariaDB have no ordered-set percentile: the ranks either side of each quantile's
      // position, which the profiler interpolates as percentile_cont does.
      const ranks = quantileLevels.flatMap((q) => [`floor(${q} * (n - 1)) + 1`, `floor(${q} * (n - 1)) + 2`]);
      branches.push(
        `select ${c.i} as col, 'rank' as kind, ${asText(dialect, 'v')} as v, rn as a, n as b, null as c from (select ${col} as v, row_number() over (order by ${col}) as rn, count(*) over () as n from s where ${col} is not null) r where rn in (${ranks.join(', ')})`,
      );
    }
  }
  return `with ${ctes.join(', ')} ${branches.join(' union all ')}`;
}
