/** The result of one quality check, as checks.ts stores it and the check kinds (checks-schema.ts) produce it. */

/** What a check measured: a number (a count, a statistic), the facts behind its verdict, or nothing when it could not run. */
/** A count or statistic; the earliest or latest of a date or time column is its text. */
export type Observed = number | string | Record<string, unknown> | null;

export interface CheckResult {
  ruleId: string;
  rule: string;
  type: string;
  column: string | null;
  dimension: string;
  severity: string;
  passed: boolean;
  checkedRows: number | null;
  failedRows: number | null;
  observed: Observed;
  /** What was expected and what was found, in one line. */
  summary: string;
  evidence: Evidence;
}

export interface Evidence {
  statement?: string;
  sample?: Record<string, unknown>[];
  error?: string;
  [key: string]: unknown;
}
