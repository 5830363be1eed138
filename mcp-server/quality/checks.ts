import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { columns, qualityResults, qualityRules } from '../../db/schema/index.js';
import { type ReadTimeout, type SourceReader, withSourceReader } from '../connectors/source-reader.js';
import type { Principal, ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import { loadMaskingColumns, type MaskingColumn, maskRows } from '../governance/masking.js';
import type { CheckResult } from './check-result.js';
import { checkSchema } from './checks-schema.js';
import {
  compileRule,
  dbtFailureCap,
  describeBounds,
  type Plan,
  Statement,
  type Table,
  timeValue,
  withinBounds,
} from './checks-sql.js';
import { assetForChecks, type Bounds, type QualityRule, type ValueBounds } from './rules.js';
import { gatedRuleForRun } from './rules-sql.js';
import { scoreAsset } from './score.js';

/**
 * Runs an asset's rules against its source (one connection for the batch) and stores a result per rule
 * with its evidence: the counts, the observed value, the statement that computed it, and up to
 * `sampleSize` failing rows with personal data masked.
 */

export const sampleSize = 10;

export interface RunChecksRequest {
  assetId: string;
  /** Only these rules (enabled or not); by default every enabled rule of the asset. */
  ruleIds?: string[];
  /** How long each statement of a check may run (default `checkTimeoutSeconds`). */
  timeoutSeconds?: number;
}

/**
 * How long one statement of a check may run before the source cancels it. A Postgres server or MySQL
 * enforces it; an embedded (PGlite) source accepts it but cannot: there, dbt tests are bounded by their row cap.
 */
export const checkTimeoutSeconds = 120;

export async function runChecks(ctx: ServiceContext, request: RunChecksRequest): Promise<CheckResult[]> {
  const asset = await assetForChecks(ctx, request.assetId);
  const rules = await ctx.db
    .select()
    .from(qualityRules)
    .where(
      request.ruleIds
        ? and(eq(qualityRules.assetId, asset.id), inArray(qualityRules.id, request.ruleIds))
        : and(eq(qualityRules.assetId, asset.id), eq(qualityRules.enabled, true)),
    )
    .orderBy(asc(qualityRules.name));
  if (request.ruleIds && rules.length !== new Set(request.ruleIds).size) {
    throw new DataOpsError('not_found', `some of the rules asked for are not rules of ${asset.urn}`);
  }
  const runnable = rules.filter(isRunnable);
  if (runnable.length === 0) return [];
  if (!asset.sourceId) {
    throw new DataOpsError('invalid_input', `${asset.urn} belongs to no source whose data can be read`);
  }
  const tableColumns = await ctx.db
    .select({
      name: columns.name,
      dataType: columns.dataType,
      sensitivity: columns.sensitivity,
      pk: columns.isPrimaryKey,
    })
    .from(columns)
    .where(eq(columns.assetId, asset.id))
    .orderBy(asc(columns.position));
  const table: Table & { sourceId: string } = {
    namespace: asset.namespace,
    name: asset.name,
    columns: tableColumns,
    sourceId: asset.sourceId,
  };
  const masking = await loadMaskingColumns(ctx.db, asset.id);
  const keys = tableColumns.filter((c) => c.pk).map((c) => c.name);

  const timeout: ReadTimeout = {
    seconds: request.timeoutSeconds ?? checkTimeoutSeconds,
    what: 'the check',
    hint: 'narrow the rule (a filter, or a cheaper query)',
  };
  const results = await withSourceReader(
    ctx,
    asset.sourceId,
    async (reader) => {
      const out: CheckResult[] = [];
      for (const rule of runnable) {
        const result = await runRule(ctx, reader, await withTarget(ctx, rule, asset.sourceId!), table, {
          masking,
          keys,
        });
        if (result) out.push(result);
      }
      return out;
    },
    timeout,
  );
  if (results.length === 0) return [];
  const ranAt = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    await tx.insert(qualityResults).values(
      results.map((r) => ({
        ruleId: r.ruleId,
        assetId: asset.id,
        passed: r.passed,
        checkedRows: r.checkedRows,
        failedRows: r.failedRows,
        observedValue: r.observed as never,
        evidence: { ...r.evidence, summary: r.summary },
        ranAt,
      })),
    );
  });
  // The score reads the latest result of each rule: it moves with every run, not only with the next profile.
  await scoreAsset(ctx, asset.id);
  return results;
}

/**
 * Rules whose verdicts come only from their producer (OpenLineage assertions we cannot express, dbt tests
 * kept without SQL) are not run here; their results arrive with the producer's events and run results.
 */
export function isRunnable(rule: Pick<QualityRule, 'type' | 'config'>): boolean {
  if (rule.type === 'external') return false;
  return rule.type !== 'dbt_test' || typeof (rule.config as { sql?: unknown }).sql === 'string';
}

/** A relationships rule reads its referenced table by its place in the source. */
async function withTarget(ctx: ServiceContext, rule: QualityRule, sourceId: string): Promise<QualityRule> {
  if (rule.type !== 'relationships') return rule;
  const [target] = await queryRows<{ namespace: string; name: string }>(
    ctx.db,
    sql`select a.namespace, a.name from assets a where a.urn = ${String((rule.config as { to?: unknown }).to)}
        and a.source_id = ${sourceId} and ${visibleAssetsSql(ctx.principal)}`,
  );
  return target ? { ...rule, config: { ...rule.config, target } } : rule;
}

interface SampleOptions {
  masking: MaskingColumn[];
  keys: string[];
}

async function runRule(
  ctx: ServiceContext,
  reader: SourceReader,
  rule: QualityRule,
  table: Table & { sourceId: string },
  options: SampleOptions,
): Promise<CheckResult | null> {
  const base = {
    ruleId: rule.id,
    rule: rule.name,
    type: rule.type,
    column: rule.columnName,
    dimension: rule.dimension,
    severity: rule.severity,
  };
  try {
    let gated: QualityRule;
    try {
      gated = await gatedRuleForRun(ctx, reader, table.sourceId, rule);
    } catch (error) {
      // A test a producer reports (dbt) keeps the verdicts it reports, without us running SQL we refuse.
      if (rule.origin !== 'user' && isDataOpsError(error) && error.code === 'invalid_input') return null;
      throw error;
    }
    const plan = await compileRule(gated, table, reader.dialect);
    return { ...base, ...(await execute(ctx, reader, gated, table, plan, options)) };
  } catch (error) {
    // A rule that cannot run (a column dropped, the SQL refused) fails with the reason: a check that
    // silently stops running would look like a passing one.
    const message = isDataOpsError(error) ? error.message : `the source refused the check: ${(error as Error).message}`;
    return {
      ...base,
      passed: false,
      checkedRows: null,
      failedRows: null,
      observed: null,
      summary: `could not run: ${message}`,
      evidence: { error: message },
    };
  }
}

type Outcome = Omit<CheckResult, 'ruleId' | 'rule' | 'type' | 'column' | 'dimension' | 'severity'>;

const toNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

async function execute(
  ctx: ServiceContext,
  reader: SourceReader,
  rule: QualityRule,
  table: Table,
  plan: Plan,
  options: SampleOptions,
): Promise<Outcome> {
  const config = rule.config as Record<string, unknown>;
  const s = new Statement(reader.dialect);
  switch (plan.kind) {
    case 'rows': {
      // Placeholders are handed out in the order the text is written: select list, then from.
      const checked = plan.checked(s);
      const failed = `${plan.checked(s)} and ${plan.failed(s)}`;
      const statement = `select count(*) as n, sum(case when ${checked} then 1 else 0 end) as checked, sum(case when ${failed} then 1 else 0 end) as failed from ${plan.from(s)}`;
      const [row] = await reader.query<{ n: unknown; checked: unknown; failed: unknown }>(statement, s.params);
      const rows = toNumber(row?.n) ?? 0;
      const checkedRows = toNumber(row?.checked) ?? 0;
      const failedRows = toNumber(row?.failed) ?? 0;
      let duplicateValues: number | undefined;
      if (plan.duplicates) {
        const d = new Statement(reader.dialect);
        const [dup] = await reader.query<{ n: unknown }>(plan.duplicates(d), d.params);
        duplicateValues = toNumber(dup?.n) ?? 0;
      }
      const observed = {
        rows,
        checkedRows,
        failedRows,
        failedPercent: rows === 0 ? 0 : (100 * failedRows) / rows,
        passRatio: checkedRows === 0 ? 1 : (checkedRows - failedRows) / checkedRows,
        // Rows beyond the first of each duplicated value: what removing the duplicates would delete.
        ...(duplicateValues === undefined ? {} : { duplicateValues, extraCopies: failedRows - duplicateValues }),
      };
      const expect = config.expect as (Bounds & { metric: string }) | undefined;
      let passed: boolean;
      let summary: string;
      if (expect) {
        const metric = {
          failed_rows: failedRows,
          failed_percent: observed.failedPercent,
          valid_rows: checkedRows - failedRows,
          duplicate_values: duplicateValues ?? null,
        }[expect.metric];
        passed = withinBounds(metric ?? null, expect);
        summary = `${expect.metric} ${metric} (expected ${describeBounds(expect)})`;
      } else {
        passed = observed.passRatio >= rule.threshold;
        const share = `${(100 * (1 - observed.passRatio)).toFixed(1)}%; allowed ${(100 * (1 - rule.threshold)).toFixed(1)}%`;
        summary =
          duplicateValues === undefined
            ? `${failedRows} of ${checkedRows} checked rows fail (${share})`
            : `${failedRows} of ${checkedRows} rows share their ${plan.columns.length > 1 ? 'values' : 'value'} with another row: ${duplicateValues} duplicated, ${failedRows - duplicateValues} extra copies (${share})`;
      }
      const sample = failedRows > 0 ? await failingSample(ctx, reader, plan, options) : [];
      return { passed, checkedRows, failedRows, observed, summary, evidence: { statement, sample } };
    }
    case 'value': {
      const statement = plan.statement(s);
      const [row] = await reader.query<{ v: unknown }>(statement, s.params);
      if (rule.type === 'freshness') return freshness(ctx, row?.v, config, statement);
      const bounds = config.bounds as ValueBounds;
      const value = typeof row?.v === 'string' && timeValue(row.v) !== null ? row.v : toNumber(row?.v);
      const passed = withinBounds(value, bounds);
      const what = rule.type === 'row_count' ? 'row count' : String(config.statistic);
      return {
        passed,
        checkedRows: rule.type === 'row_count' && typeof value === 'number' ? value : null,
        failedRows: null,
        observed: value,
        summary: `${what} ${value ?? 'unknown'} (expected ${describeBounds(bounds)})`,
        evidence: { statement },
      };
    }
    case 'query': {
      const statement = plan.statement(s);
      const [row] = await reader.query<{ v: unknown }>(statement, s.params);
      const failedRows = Math.min(toNumber(row?.v) ?? 0, dbtFailureCap);
      const capped = (toNumber(row?.v) ?? 0) > dbtFailureCap;
      return {
        passed: failedRows === 0,
        checkedRows: null,
        failedRows,
        observed: failedRows,
        summary: `${capped ? 'at least ' : ''}${failedRows} failing rows returned by the test`,
        evidence: { statement },
      };
    }
    case 'schema':
      return checkSchema(reader, table, config);
  }
}

/**
 * Stored evidence is read later by people with different roles, so personal data is masked as for a
 * viewer before it is stored (never kept raw in the catalog); columns marked above a reader's clearance
 * are withheld again when the evidence is read (`maskAssetRows`).
 */
const evidenceReader: Principal = {
  id: 'quality-evidence',
  displayName: 'stored quality evidence',
  clearance: 'TS',
  roles: ['viewer'],
  domains: [],
  groups: [],
};

async function failingSample(
  ctx: ServiceContext,
  reader: SourceReader,
  plan: Extract<Plan, { kind: 'rows' }>,
  options: SampleOptions,
) {
  const s = new Statement(reader.dialect);
  const shown = [...new Set([...options.keys, ...plan.columns])];
  const list = shown.map((c) => `t.${s.name(c)}`).join(', ');
  // The relation may carry the rule's own filter, so the failing-row condition goes on the outside.
  const statement = `select ${list} from (select t.* from ${plan.from(s)}) t where ${plan.checked(s)} and ${plan.failed(s)} limit ${sampleSize}`;
  const rows = await reader.query<Record<string, unknown>>(statement, s.params);
  const plainRows = rows.map((row) => Object.fromEntries(shown.map((c) => [c, plain(row[c])])));
  return (await maskRows({ db: ctx.db, principal: evidenceReader }, options.masking, plainRows)).rows;
}

/** Values as JSON keeps them: dates as ISO text, big numbers as text. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  return value;
}

function freshness(ctx: ServiceContext, latest: unknown, config: Record<string, unknown>, statement: string): Outcome {
  const maxAgeHours = Number(config.maxAgeHours);
  const at = parseTimestamp(latest);
  const ageHours = at === null ? null : (ctx.clock().getTime() - at.getTime()) / 3_600_000;
  const passed = ageHours !== null && ageHours <= maxAgeHours;
  return {
    passed,
    checkedRows: null,
    failedRows: null,
    observed: { latest: at?.toISOString() ?? null, ageHours },
    summary:
      ageHours === null
        ? 'no rows, so no newest value'
        : `newest value ${at!.toISOString()} is ${ageHours.toFixed(1)} hours old (allowed ${maxAgeHours})`,
    evidence: { statement },
  };
}

/** A timestamp as the source wrote it as text; one without a time zone is UTC. */
export function parseTimestamp(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  let text = String(value).trim().replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00';
  const zone = /([+-]\d{2})(:?\d{2})?$/.exec(text);
  if (zone && /T.*[+-]\d{2}(:?\d{2})?$/.test(text)) {
    text = `${text.slice(0, zone.index)}${zone[1]}:${(zone[2] ?? '00').replace(':', '')}`;
  } else if (!text.endsWith('Z')) text += 'Z';
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? null : at;
}
