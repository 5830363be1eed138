/**
 * Value classification for files without a schema (CSV, TSV, JSON, NDJSON). Each value is classified on its
 * own; a column's type is resolved from the set of kinds seen over all its values, so the result does not
 * depend on row order and one odd value degrades the column instead of being ignored.
 */

export type ValueKind =
  | 'integer'
  | 'bigint'
  | 'double'
  | 'numeric'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'time'
  | 'text'
  | 'json';

// Spellings that mean "no value" in exported CSV (R writes NA, pandas NaN, MySQL \N).
const MISSING_TOKENS = new Set(['', 'null', 'NULL', 'Null', 'NA', 'N/A', 'n/a', 'NaN', '\\N']);

/** True when a trimmed CSV cell stands for a missing value. */
export function isMissingToken(value: string): boolean {
  return MISSING_TOKENS.has(value);
}

// Leading zeros (zip codes, account numbers) are identifiers, not numbers: they stay text.
const INTEGER = /^[+-]?(?:0|[1-9]\d*)$/;
const DECIMAL = /^[+-]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// Money and thousands-grouped amounts: $1,234.56, -€12, 1,234,567.
const FORMATTED_NUMBER = /^[+-]?(?:[$€£¥]\s?)?(?:\d{1,3}(?:,\d{3})+|0|[1-9]\d*)(?:\.\d+)?$/;
const HAS_FORMATTING = /[$€£¥,]/;
const ISO_DATE = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$/;
const ISO_TIMESTAMP =
  /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(\s?(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?$/i;
const MONTH_DAY_YEAR = /^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})$/;
const DAY_MONTH_YEAR = /^(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})$/;
const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;
const BOOLEAN = /^(?:true|false)$/i;

const MONTHS = new Map<string, number>();
for (const [index, name] of [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
].entries()) {
  MONTHS.set(name, index + 1);
  MONTHS.set(name.slice(0, 3), index + 1);
}
MONTHS.set('sept', 9);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || year < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1]! + (month === 2 && leap ? 1 : 0);
}

function isValidTime(hour: number, minute: number, second: number): boolean {
  return hour <= 23 && minute <= 59 && second <= 60;
}

function integerKind(value: string): ValueKind {
  const digits = value.length - (value[0] === '+' || value[0] === '-' ? 1 : 0);
  if (digits < 10) return 'integer';
  if (digits > 19) return 'numeric';
  const n = BigInt(value);
  if (n >= -2147483648n && n <= 2147483647n) return 'integer';
  if (n >= -9223372036854775808n && n <= 9223372036854775807n) return 'bigint';
  return 'numeric';
}

function dateKind(value: string): ValueKind | undefined {
  let m = ISO_DATE.exec(value);
  if (m) return isValidDate(Number(m[1]), Number(m[3]), Number(m[4])) ? 'date' : undefined;
  m = ISO_TIMESTAMP.exec(value);
  if (m) {
    const ok =
      isValidDate(Number(m[1]), Number(m[3]), Number(m[4])) &&
      isValidTime(Number(m[5]), Number(m[6]), Number(m[7] ?? 0));
    if (!ok) return undefined;
    return m[8] ? 'timestamptz' : 'timestamp';
  }
  m = MONTH_DAY_YEAR.exec(value);
  if (m) {
    const month = MONTHS.get(m[1]!.toLowerCase());
    return month && isValidDate(Number(m[3]), month, Number(m[2])) ? 'date' : undefined;
  }
  m = DAY_MONTH_YEAR.exec(value);
  if (m) {
    const month = MONTHS.get(m[2]!.toLowerCase());
    return month && isValidDate(Number(m[3]), month, Number(m[1])) ? 'date' : undefined;
  }
  m = SLASH_DATE.exec(value);
  if (m) {
    // Month/day order is ambiguous (US vs European); either reading that is a real date makes it a date.
    const [a, b, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return isValidDate(year, a, b) || isValidDate(year, b, a) ? 'date' : undefined;
  }
  m = TIME.exec(value);
  if (m) return isValidTime(Number(m[1]), Number(m[2]), Number(m[3] ?? 0)) ? 'time' : undefined;
  return undefined;
}

/** Classifies a trimmed, non-missing text value (a CSV cell or a JSON string). */
export function classifyText(value: string): ValueKind {
  const first = value.charCodeAt(0);
  const digitLike = (first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46;
  if (digitLike) {
    if (INTEGER.test(value)) return integerKind(value);
    if (DECIMAL.test(value)) return 'double';
  }
  if (FORMATTED_NUMBER.test(value) && HAS_FORMATTING.test(value)) return 'numeric';
  if (BOOLEAN.test(value)) return 'boolean';
  const date = dateKind(value);
  if (date) return date;
  if ((first === 123 || first === 91) && isJsonContainer(value)) return 'json';
  return 'text';
}

function isJsonContainer(value: string): boolean {
  const last = value[value.length - 1];
  if (last !== '}' && last !== ']') return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null;
  } catch {
    return false;
  }
}

/** Classifies a parsed JSON value; null and blank strings are missing (undefined). */
export function classifyJsonValue(value: unknown): ValueKind | undefined {
  switch (typeof value) {
    case 'number':
      if (!Number.isInteger(value)) return 'double';
      if (Math.abs(value) <= 2147483647) return 'integer';
      return Math.abs(value) < 2 ** 63 ? 'bigint' : 'numeric';
    case 'boolean':
      return 'boolean';
    case 'string': {
      const trimmed = value.trim();
      return trimmed === '' ? undefined : classifyText(trimmed);
    }
    case 'object':
      return value === null ? undefined : 'json';
    default:
      return undefined;
  }
}

const NUMERIC_ORDER: ValueKind[] = ['integer', 'bigint', 'double', 'numeric'];
const NUMERIC_NAMES: Record<string, string> = {
  integer: 'integer',
  bigint: 'bigint',
  double: 'double precision',
  numeric: 'numeric',
};
const TEMPORAL: ValueKind[] = ['date', 'timestamp', 'timestamptz'];

function within(kinds: ReadonlySet<ValueKind>, allowed: ValueKind[]): boolean {
  for (const kind of kinds) if (!allowed.includes(kind)) return false;
  return true;
}

/**
 * Resolves the kinds seen in one column to a Postgres type name. `nestedWins`: in JSON files every value is
 * valid JSON, so one object or array makes the whole column `json`; in CSV a plain-text cell is not JSON.
 */
export function resolveColumnType(kinds: ReadonlySet<ValueKind>, nestedWins: boolean): string {
  if (kinds.size === 0) return 'text';
  if (kinds.has('json')) return nestedWins || !kinds.has('text') ? 'json' : 'text';
  if (within(kinds, NUMERIC_ORDER)) {
    const widest = NUMERIC_ORDER.filter((kind) => kinds.has(kind)).at(-1)!;
    return NUMERIC_NAMES[widest]!;
  }
  if (within(kinds, ['boolean'])) return 'boolean';
  if (within(kinds, ['time'])) return 'time';
  if (within(kinds, TEMPORAL)) {
    if (kinds.has('timestamptz')) return 'timestamp with time zone';
    return kinds.has('timestamp') ? 'timestamp' : 'date';
  }
  return 'text';
}
