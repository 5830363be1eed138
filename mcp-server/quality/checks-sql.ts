import { DataOpsError } from '../../core/errors.js';
import {
  type Bounds,
  formats,
  isoTime,
  isTimeType,
  type QualityRule,
  strftimeRegex,
  type ValueBounds,
} from './rules.js';
import {
  type CheckedExpression,
  checkExpression,
  type Dialect,
  quoteName,
  renderExpression,
} from './rules-expression.js';

/**
 * Compiles a rule into SQL pushed down to the source: row rules into two predicates over the table
 * aliased `t` (which rows are checked, which of those fail), table rules into one statement each.
 * Statements are built per use with a fresh placeholder list, because MySQL's `?` are positional.
 */

export interface Table {
  namespace: string;
  name: string;
  columns: { name: string; dataType: string }[];
}

/** Collects parameters and hands out the dialect's placeholders in the order the text uses them. */
export class Statement {
  readonly params: unknown[] = [];
  constructor(readonly dialect: Dialect) {}
  param = (value: unknown): string => {
    this.params.push(value);
    return this.dialect === 'mysql' ? '?' : `$${this.params.length}`;
  };
  name = (identifier: string): string => quoteName(this.dialect, identifier);
  text = (expression: string): string => `cast(${expression} as ${this.dialect === 'mysql' ? 'char' : 'text'})`;
  regex = (expression: string, pattern: string): string =>
    this.dialect === 'mysql'
      ? // A binary collation makes MySQL's match case-sensitive, as Postgres' `~` is.
        `(${this.text(expression)} collate utf8mb4_bin regexp ${this.param(pattern)})`
      : `(${this.text(expression)} ~ ${this.param(pattern)})`;
  list = (values: unknown[]): string => values.map(this.param).join(', ');
}

export interface RowPlan {
  kind: 'rows';
  /** The relation the predicates read: the table, or the table with a copy count for uniqueness. */
  from: (s: Statement) => string;
  checked: (s: Statement) => string;
  failed: (s: Statement) => string;
  /** Columns shown for failing rows. */
  columns: string[];
  /** For uniqueness: the number of distinct values that occur more than once (Soda's duplicate_count). */
  duplicates?: (s: Statement) => string;
}

export interface ValuePlan {
  kind: 'value';
  statement: (s: Statement) => string;
}

export interface SchemaPlan {
  kind: 'schema';
}

export interface QueryPlan {
  kind: 'query';
  statement: (s: Statement) => string;
}

export type Plan = RowPlan | ValuePlan | SchemaPlan | QueryPlan;

const copies = 'dataops_copies';

export async function compileRule(rule: QualityRule, table: Table, dialect: Dialect): Promise<Plan> {
  const config = rule.config as Record<string, unknown>;
  const names = table.columns.map((c) => c.name);
  const where = typeof config.where === 'string' ? await checkExpression(config.where, names) : null;
  const relation = (s: Statement) => `${s.name(table.namespace)}.${s.name(table.name)}`;
  const filtered = (s: Statement) => (where ? ` where ${renderExpression(where, dialect, s.param)}` : '');
  const plainFrom = (s: Statement) => `${relation(s)} t${filtered(s)}`;
  const column = rule.columnName ?? '';
  const c = (s: Statement) => `t.${s.name(column)}`;
  const rows = (plan: Omit<RowPlan, 'kind' | 'from'> & { from?: RowPlan['from'] }): RowPlan => ({
    kind: 'rows',
    from: plainFrom,
    ...plan,
  });
  // NULL in a value list matches no row (rows with NULL are not compared with the list): left out.
  const listOf = (key: string) => ((config[key] as unknown[] | undefined) ?? []).filter((v) => v !== null);
  const missing = (s: Statement) => {
    const parts = [`${c(s)} is null`];
    const values = (config.missingValues as unknown[] | undefined) ?? [];
    if (values.length) parts.push(`${c(s)} in (${s.list(values)})`);
    if (config.missingFormat) parts.push(s.regex(c(s), formats[config.missingFormat as keyof typeof formats]));
    return `(${parts.join(' or ')})`;
  };

  switch (rule.type) {
    case 'not_null':
      return rows({ checked: () => '1=1', failed: (s) => `${c(s)} is null`, columns: [column] });
    case 'missing':
      return rows({ checked: () => '1=1', failed: missing, columns: [column] });
    case 'accepted_values': {
      const values = listOf('values');
      return rows({
        checked: (s) => `${c(s)} is not null`,
        // An empty list accepts nothing: every checked row fails, as Great Expectations' empty value_set.
        failed: (s) => (values.length ? `${c(s)} not in (${s.list(values)})` : '1=1'),
        columns: [column],
      });
    }
    case 'invalid':
      return rows({
        checked: (s) =>
          config.includeNull ? `not coalesce(${missing(s)} and ${c(s)} is not null, false)` : `not ${missing(s)}`,
        failed: (s) => invalidPredicate(s, c(s), config, rule),
        columns: [column],
      });
    case 'unique':
    case 'compound_unique': {
      const keys = rule.type === 'unique' ? [column] : (config.columns as string[]);
      // Which rows with NULLs are left out: for one column, those with NULL; for several, by default only
      // those where every key is NULL (Great Expectations' ignore_row_if default); NULLs group as equal.
      const ignore =
        rule.type === 'unique'
          ? 'any_value_is_missing'
          : config.nullsEqual === true
            ? 'never'
            : String(config.ignoreRowIf ?? 'all_values_are_missing');
      const keyList = (s: Statement, alias = '') => keys.map((k) => `${alias}${s.name(k)}`).join(', ');
      const present = (s: Statement, alias: string) =>
        ignore === 'never'
          ? '1=1'
          : `(${keys.map((k) => `${alias}${s.name(k)} is not null`).join(ignore === 'any_value_is_missing' ? ' and ' : ' or ')})`;
      return rows({
        // Rows that share their key with another row, counted with a window: NULLs group together
        // there, so whole-row duplicates with empty columns are found when NULLs count as equal.
        from: (s) =>
          `(select t.*, count(*) over (partition by ${keyList(s, 't.')}) as ${copies} from ${plainFrom(s)}) t`,
        checked: (s) => present(s, 't.'),
        failed: () => `t.${copies} > 1`,
        columns: keys,
        duplicates: (s) =>
          `select count(*) as n from (select ${keyList(s, 't.')} from ${plainFrom(s)}${where ? ' and' : ' where'} ${present(s, 't.')} group by ${keyList(s, 't.')} having count(*) > 1) d`,
      });
    }
    case 'relationships': {
      const target = config.target as { namespace: string; name: string } | undefined;
      if (!target) {
        throw new DataOpsError(
          'invalid_input',
          `the table rule "${rule.name}" references is not in this source's catalog, or you may not see it`,
        );
      }
      return rows({
        checked: (s) => `${c(s)} is not null`,
        failed: (s) =>
          `not exists (select 1 from ${s.name(target.namespace)}.${s.name(target.name)} p where p.${s.name(String(config.field))} = ${c(s)})`,
        columns: [column],
      });
    }
    case 'expression': {
      const expression = await checkExpression(config.expression as string, names);
      return rows({
        checked: () => '1=1',
        // Like a CHECK constraint: a row fails when the expression is false; NULL is not a failure.
        failed: (s) => `not ${renderExpression(expression, dialect, s.param)}`,
        columns: expression.columns,
      });
    }
    case 'row_count':
      return { kind: 'value', statement: (s) => `select count(*) as v from ${plainFrom(s)}` };
    case 'distribution':
      return {
        kind: 'value',
        statement: (s) =>
          `select ${statistic(s, c(s), String(config.statistic), table, column)} as v from ${plainFrom(s)}`,
      };
    case 'freshness':
      return { kind: 'value', statement: (s) => `select ${s.text(`max(${c(s)})`)} as v from ${plainFrom(s)}` };
    case 'schema':
      return { kind: 'schema' };
    case 'dbt_test':
      return dbtPlan(rule, dialect);
  }
  throw new DataOpsError('invalid_input', `rule "${rule.name}" has an unknown type ${rule.type}`);
}

function invalidPredicate(s: Statement, c: string, config: Record<string, unknown>, rule: QualityRule): string {
  const parts: string[] = [];
  if (config.includeNull) parts.push(`${c} is null`);
  const valid = (config.validValues as unknown[] | undefined)?.filter((v) => v !== null);
  if (valid?.length) parts.push(`${c} not in (${s.list(valid)})`);
  const invalid = (config.invalidValues as unknown[] | undefined)?.filter((v) => v !== null);
  if (invalid?.length) parts.push(`${c} in (${s.list(invalid)})`);
  if (config.format) parts.push(`not ${s.regex(c, formats[config.format as keyof typeof formats])}`);
  if (typeof config.regex === 'string') parts.push(`not ${s.regex(c, config.regex)}`);
  if (typeof config.strftime === 'string') {
    const pattern = strftimeRegex(config.strftime, (m) => {
      throw new DataOpsError('invalid_input', `rule "${rule.name}": ${m}`);
    });
    parts.push(`not ${s.regex(c, pattern)}`);
  }
  const length = `char_length(${s.text(c)})`;
  if (typeof config.minLength === 'number') parts.push(`${length} < ${s.param(config.minLength)}`);
  if (typeof config.maxLength === 'number') parts.push(`${length} > ${s.param(config.maxLength)}`);
  // A date or time bound is compared by the database with the column's own type.
  if (config.min !== undefined) parts.push(`${c} ${config.minExclusive ? '<=' : '<'} ${s.param(config.min)}`);
  if (config.max !== undefined) parts.push(`${c} ${config.maxExclusive ? '>=' : '>'} ${s.param(config.max)}`);
  // An invalid-values list given empty (GE's empty value_set for "not in set") says no value is invalid.
  if (parts.length === 0 && Array.isArray(config.invalidValues)) return 'false';
  if (parts.length === 0) {
    throw new DataOpsError(
      'invalid_input',
      `rule "${rule.name}" (invalid) says nothing about what is valid: give validValues, invalidValues, format, regex, strftime, a length or a range`,
    );
  }
  // A comparison with NULL is unknown, never a failure: only includeNull makes NULL invalid.
  return `coalesce(${parts.join(' or ')}, false)`;
}

function statistic(s: Statement, c: string, name: string, table: Table, column: string): string {
  const type = table.columns.find((k) => k.name === column)?.dataType.toLowerCase() ?? '';
  // Booleans average as 0/1 (true counts 1), as Great Expectations coerces them.
  const number = type.startsWith('bool') && s.dialect === 'postgres' ? `cast(${c} as integer)` : c;
  const length = `char_length(${s.text(c)})`;
  // The earliest and latest of dates and times are read as text, so no driver shifts them into its time zone.
  if ((name === 'min' || name === 'max') && isTimeType(type)) return s.text(`${name}(${c})`);
  switch (name) {
    case 'mean':
      return `avg(${number})`;
    case 'sum':
      return `sum(${number})`;
    case 'min':
      return `min(${c})`;
    case 'max':
      return `max(${c})`;
    case 'stddev':
      return `stddev_samp(${number})`;
    case 'distinct_count':
      return `count(distinct ${c})`;
    case 'proportion_unique':
      return `(case when count(${c}) = 0 then null else 1.0 * count(distinct ${c}) / count(${c}) end)`;
    case 'min_length':
      return `min(${length})`;
    case 'max_length':
      return `max(${length})`;
    case 'avg_length':
      return `avg(${length})`;
  }
  throw new DataOpsError('invalid_input', `unknown statistic ${name}`);
}

/** Failing rows a dbt test counts at most: a test returning more has failed, and counting on is only load. */
export const dbtFailureCap = 1_000_000;

/**
 * A dbt test kept with its SQL (a singular test, or a generic one compiled by dbt) returns its failing
 * rows; it runs on the source it was written for, and only as a single SELECT. Its SQL reaches here already
 * through the source-query gate (rules-sql.ts), with every table qualified.
 */
async function dbtPlan(rule: QualityRule, dialect: Dialect): Promise<QueryPlan> {
  const code = (rule.config as { sql?: unknown }).sql;
  if (typeof code !== 'string') {
    throw new DataOpsError(
      'invalid_input',
      `dbt test "${rule.name}" was kept without SQL (a generic test of a package): run it with dbt and ingest run_results.json`,
    );
  }
  if (dialect !== 'postgres') {
    throw new DataOpsError('invalid_input', `dbt test "${rule.name}" runs only on a Postgres source`);
  }
  const { parseSql } = await import('../sql/parse.js');
  const statements = await parseSql(code);
  if (statements.length !== 1 || !statements[0]!.SelectStmt) {
    throw new DataOpsError('invalid_input', `dbt test "${rule.name}" is not a single SELECT statement`);
  }
  return {
    kind: 'query',
    statement: () =>
      `select count(*) as v from (select 1 from (\n${code}\n) dbt_test_failures limit ${dbtFailureCap + 1}) capped`,
  };
}

/**
 * A date or time as milliseconds, comparable with another read the same way: one without a zone is taken
 * as UTC on both sides, so `2001-01-01 12:00:01` from the database equals the bound `2001-01-01T12:00:01`.
 */
export function timeValue(text: string): number | null {
  const trimmed = text.trim();
  if (!isoTime.test(trimmed)) return null;
  let iso = trimmed.replace(' ', 'T').replace(/ (?=[Z+-])/, '');
  if (/^[0-9-]+$/.test(iso)) iso += 'T00:00:00';
  iso = iso.replace(/([+-][0-9]{2})$/, '$1:00').replace(/([+-][0-9]{2})([0-9]{2})$/, '$1:$2');
  if (!/(Z|[+-][0-9]{2}:[0-9]{2})$/.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

const comparable = (v: number | string | null | undefined): number | null | undefined =>
  typeof v === 'string' ? timeValue(v) : v;

/** Whether `value` is within `bounds` (an unknown value never is); dates and times compare as times. */
export function withinBounds(observed: number | string | null, given: Bounds | ValueBounds): boolean {
  const value = comparable(observed);
  if (value === null || value === undefined || Number.isNaN(value)) return false;
  const bounds = { ...given, min: comparable(given.min), max: comparable(given.max) };
  if (bounds.min === null || bounds.max === null) return false;
  const aboveMin = bounds.min === undefined || (bounds.minExclusive ? value > bounds.min : value >= bounds.min);
  const belowMax = bounds.max === undefined || (bounds.maxExclusive ? value < bounds.max : value <= bounds.max);
  const inside = aboveMin && belowMax;
  return bounds.outside ? !inside : inside;
}

/** Bounds as a person reads them: `between 10 and 15`, `< 11`, `= 4`, `not between (10 and 15]`. */
export function describeBounds(bounds: Bounds | ValueBounds): string {
  const { min, max } = bounds;
  let text: string;
  if (min !== undefined && max !== undefined) {
    text =
      min === max && !bounds.minExclusive && !bounds.maxExclusive
        ? `= ${min}`
        : `between ${bounds.minExclusive ? '(' : ''}${min} and ${max}${bounds.maxExclusive ? ')' : ''}`;
  } else if (min !== undefined) text = `${bounds.minExclusive ? '>' : '>='} ${min}`;
  else if (max !== undefined) text = `${bounds.maxExclusive ? '<' : '<='} ${max}`;
  else text = 'any value';
  return bounds.outside ? `not ${text}` : text;
}

export type { CheckedExpression };
