import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import { assets, columns, qualityRules } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { clearanceAllows, requireRole, visibleAssetsSql } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { cronProblem } from './cron.js';
import { checkExpression } from './rules-expression.js';
import { gateRuleSql } from './rules-sql.js';

/**
 * Typed quality rules: what each type checks, its configuration and the score dimension it feeds.
 * Row rules (not_null … expression) count the rows they check and the rows that fail, and pass when
 * the passing share reaches the threshold ("mostly"), or when `expect` bounds one of their counts
 * (Soda's `missing_count(id) = 1`). Table rules (row_count, distribution, freshness, schema) observe
 * one value and pass when it is within bounds.
 */

export const dimensions = ['completeness', 'validity', 'consistency', 'timeliness', 'uniqueness', 'accuracy'] as const;
export type Dimension = (typeof dimensions)[number];
export const severities = ['info', 'warning', 'critical'] as const;

/** A range over a number; `outside` turns it into "not between". Soda's `between (9 and 15]` is {min 9, minExclusive, max 15}. */
export const boundsSchema = z
  .object({
    min: z.number().optional(),
    max: z.number().optional(),
    minExclusive: z.boolean().optional(),
    maxExclusive: z.boolean().optional(),
    outside: z.boolean().optional().describe('Pass when the value is NOT in the range'),
  })
  .strict();
export type Bounds = z.infer<typeof boundsSchema>;

/** A date or a timestamp in ISO 8601 (`2001-01-01`, `2001-01-01T12:00:01`, with an optional zone). */
export const isoTime =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?( ?(Z|[+-][0-9]{2}(:?[0-9]{2})?))?$/;
/** A bound on a column's values: a number, or a date or timestamp for a date or time column (as GE allows). */
const valueBound = z.union([
  z.number(),
  z.string().regex(isoTime, 'give a number, or a date or time in ISO 8601 such as 2001-01-01T12:00:01'),
]);
/** Bounds on a statistic, which for min and max of a date or time column are dates or times. */
const statisticBoundsSchema = boundsSchema.extend({ min: valueBound.optional(), max: valueBound.optional() }).strict();
export type ValueBounds = z.infer<typeof statisticBoundsSchema>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
// A NULL in a value list matches nothing, as in SQL and Great Expectations (which skip NULL rows): allowed, and ignored.
const listed = z.union([scalar, z.null()]);
export const formats = {
  email: '^[A-Za-z0-9À-ȳ._%+-]+@[A-Za-z0-9À-ȳ._%-]+\\.[A-Za-z]{2,4}$',
  integer: '^ *[-+]? *[0-9]+ *$',
  decimal: '^ *[-+]? *([0-9]+([.,][0-9]+)?|[.,][0-9]+) *$',
  percentage: '^ *[-+]? *([0-9]+([.,][0-9]+)?|[.,][0-9]+) *% *$',
  uuid: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  date_iso: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$',
  ipv4: '^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$',
  phone: '^((\\+[0-9]{1,2} )?\\(?[0-9]{3}\\)?[ .-])?[0-9]{3}[ .-][0-9]{4}$',
} as const;
const formatSchema = z.enum(Object.keys(formats) as [keyof typeof formats, ...(keyof typeof formats)[]]);

const missingShape = {
  missingValues: z.array(scalar).optional().describe('Values that count as missing, besides NULL (e.g. "N/A")'),
  missingFormat: formatSchema.optional().describe('Values matching this format count as missing'),
};

/** What a row rule's `expect` bounds instead of the passing share. */
export const expectSchema = boundsSchema.extend({
  metric: z.enum(['failed_rows', 'failed_percent', 'valid_rows', 'duplicate_values']),
});

const common = {
  where: z.string().max(2000).optional().describe('Only rows matching this expression are checked'),
};
const rowCommon = { ...common, expect: expectSchema.strict().optional() };

export const ruleConfigs = {
  not_null: z.object(rowCommon).strict(),
  missing: z.object({ ...rowCommon, ...missingShape }).strict(),
  unique: z.object(rowCommon).strict(),
  compound_unique: z
    .object({
      ...rowCommon,
      columns: z.array(z.string().min(1)).min(1),
      ignoreRowIf: z
        .enum(['all_values_are_missing', 'any_value_is_missing', 'never'])
        .optional()
        .describe(
          'Which rows with NULLs are left out (default all_values_are_missing, as Great Expectations; Soda and SQL UNIQUE: any_value_is_missing). NULLs in rows that are checked count as equal values',
        ),
      nullsEqual: z.boolean().optional().describe('Older form of ignoreRowIf "never" (whole-row duplicates)'),
    })
    .strict(),
  // An empty list accepts no value: every non-null row fails (Great Expectations' empty value_set).
  accepted_values: z.object({ ...rowCommon, values: z.array(listed), quote: z.boolean().optional() }).strict(),
  invalid: z
    .object({
      ...rowCommon,
      ...missingShape,
      validValues: z.array(listed).optional(),
      invalidValues: z.array(listed).optional().describe('An empty list makes no value invalid'),
      format: formatSchema.optional(),
      regex: z.string().max(1000).optional(),
      strftime: z.string().max(100).optional().describe('A date format such as %Y-%m-%d'),
      minLength: z.number().int().min(0).optional(),
      maxLength: z.number().int().min(0).optional(),
      min: valueBound.optional(),
      max: valueBound.optional(),
      minExclusive: z.boolean().optional(),
      maxExclusive: z.boolean().optional(),
      includeNull: z.boolean().optional().describe('Count NULL as invalid'),
    })
    .strict(),
  relationships: z
    .object({
      ...rowCommon,
      to: z.string().min(1).describe('URN of the referenced asset, in the same source'),
      field: z.string().min(1).describe('The referenced column'),
    })
    .strict(),
  expression: z.object({ ...rowCommon, expression: z.string().min(1).max(2000) }).strict(),
  row_count: z.object({ ...common, bounds: boundsSchema }).strict(),
  distribution: z
    .object({
      ...common,
      statistic: z.enum([
        'mean',
        'sum',
        'min',
        'max',
        'stddev',
        'distinct_count',
        'proportion_unique',
        'min_length',
        'max_length',
        'avg_length',
      ]),
      bounds: statisticBoundsSchema,
    })
    .strict(),
  freshness: z.object({ ...common, maxAgeHours: z.number().positive() }).strict(),
  schema: z
    .object({
      requiredColumns: z.array(z.string()).optional(),
      forbiddenColumns: z.array(z.string()).optional().describe('Names or patterns with * or %'),
      columnTypes: z.record(z.string(), z.string()).optional(),
      columnPositions: z.record(z.string(), z.number().int().min(0)).optional().describe('0-based positions'),
      exactColumns: z.boolean().optional().describe('Fail on any column not in requiredColumns'),
    })
    .strict(),
  dbt_test: z.looseObject({}),
} as const;

export type RuleType = keyof typeof ruleConfigs;
export const ruleTypes = Object.keys(ruleConfigs) as RuleType[];

/** Types that check one column, named by `column`. */
const columnTypes = new Set<RuleType>([
  'not_null',
  'missing',
  'unique',
  'accepted_values',
  'invalid',
  'relationships',
  'distribution',
  'freshness',
]);

export const defaultDimension: Record<RuleType, Dimension> = {
  not_null: 'completeness',
  missing: 'completeness',
  row_count: 'completeness',
  unique: 'uniqueness',
  compound_unique: 'uniqueness',
  accepted_values: 'validity',
  invalid: 'validity',
  expression: 'validity',
  dbt_test: 'validity',
  relationships: 'consistency',
  schema: 'consistency',
  freshness: 'timeliness',
  distribution: 'accuracy',
};

export const ruleInputSchema = z.strictObject({
  name: z.string().min(1).max(200).describe('A name unique on the asset, e.g. "email present"'),
  type: z.enum(ruleTypes as [RuleType, ...RuleType[]]),
  column: z.string().min(1).max(200).optional().describe('The checked column (rules on one column)'),
  config: z.record(z.string(), z.unknown()).default({}),
  dimension: z.enum(dimensions).optional().describe('Score dimension; each type has a default'),
  severity: z.enum(severities).default('warning'),
  threshold: z.number().min(0).max(1).default(1).describe('Share of checked rows that must pass ("mostly"), 0-1'),
  schedule: z.string().max(100).optional().describe('Cron, e.g. "0 6 * * *"'),
  enabled: z.boolean().default(true),
});
export type RuleInput = z.input<typeof ruleInputSchema>;
export type QualityRule = typeof qualityRules.$inferSelect;

/** The stored values of a valid rule; throws `invalid_input` naming what is wrong. */
export async function validateRule(
  ctx: ServiceContext,
  asset: { id: string; sourceId: string | null },
  input: RuleInput,
): Promise<Omit<typeof qualityRules.$inferInsert, 'assetId' | 'origin' | 'createdBy'>> {
  const rule = ruleInputSchema.parse(input);
  const parsed = ruleConfigs[rule.type].safeParse(rule.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DataOpsError(
      'invalid_input',
      `rule "${rule.name}" (${rule.type}): config${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`,
    );
  }
  const config = parsed.data as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new DataOpsError('invalid_input', `rule "${rule.name}" (${rule.type}): ${message}`);
  };
  // A column above the author's clearance is not there for the rule, as in every other view of the asset:
  // a rule on it would tell its values through the failing-row count.
  const known = (
    await ctx.db
      .select({ name: columns.name, classification: columns.classification })
      .from(columns)
      .where(eq(columns.assetId, asset.id))
  )
    .filter((c) => c.classification === null || clearanceAllows(ctx.principal.clearance, c.classification))
    .map((c) => c.name);
  const needColumn = (name: string) => {
    if (!known.includes(name)) fail(`the asset has no column "${name}" (columns: ${known.join(', ')})`);
  };
  if (columnTypes.has(rule.type)) {
    if (!rule.column) fail('name the checked column in `column`');
    needColumn(rule.column!);
  } else if (rule.column && rule.type !== 'dbt_test') {
    fail('this type checks the whole table; leave `column` out');
  }
  if (rule.type === 'compound_unique') for (const c of config.columns as string[]) needColumn(c);
  if (rule.type === 'invalid' || rule.type === 'distribution') {
    const bounds = (rule.type === 'invalid' ? config : config.bounds) as { min?: unknown; max?: unknown };
    const type = (await columnType(ctx, asset.id, rule.column!)) ?? '';
    checkTimeBounds(bounds, type, rule.type === 'distribution' ? String(config.statistic) : null, fail);
  }
  const expression = (text: string) => checkExpression(text, known).catch((error: DataOpsError) => fail(error.message));
  if (typeof config.where === 'string') await expression(config.where);
  if (rule.type === 'expression') await expression(config.expression as string);
  if (rule.type === 'invalid' && typeof config.regex === 'string') checkRegex(config.regex, fail);
  if (rule.type === 'invalid' && typeof config.strftime === 'string') strftimeRegex(config.strftime, fail);
  if (rule.type === 'relationships') await checkReference(ctx, asset, config, fail);
  if (rule.type === 'dbt_test' && config.sql !== undefined) {
    if (typeof config.sql !== 'string') fail("config.sql is the test's SQL, one SELECT returning the failing rows");
    // Held to the source-query gate as the author now, and as the runner (and the author) on every run.
    await gateRuleSql(ctx, asset.sourceId, { name: rule.name, sql: config.sql as string });
  }
  if (rule.schedule) {
    const problem = cronProblem(rule.schedule, ctx.clock());
    if (problem) fail(`schedule "${rule.schedule}" ${problem}`);
  }
  return {
    name: rule.name,
    type: rule.type,
    columnName: rule.column ?? null,
    config,
    dimension: rule.dimension ?? defaultDimension[rule.type],
    severity: rule.severity,
    threshold: rule.threshold,
    schedule: rule.schedule ?? null,
    enabled: rule.enabled,
  };
}

async function columnType(ctx: ServiceContext, assetId: string, name: string): Promise<string | null> {
  const [row] = await ctx.db
    .select({ dataType: columns.dataType })
    .from(columns)
    .where(and(eq(columns.assetId, assetId), eq(columns.name, name)));
  return row?.dataType ?? null;
}

/** Whether a column type holds dates or times (Postgres date/timestamp/timestamptz, MySQL date/datetime/timestamp). */
export const isTimeType = (type: string) => /date|time/i.test(type) && !/interval/i.test(type);

/** Date and time bounds only where they mean something: on a date or time column, for its values or min and max. */
function checkTimeBounds(
  bounds: { min?: unknown; max?: unknown },
  type: string,
  statistic: string | null,
  fail: (m: string) => never,
): void {
  const given = [bounds.min, bounds.max].filter((b) => b !== undefined);
  const times = given.filter((b) => typeof b === 'string');
  const valueBounds = statistic === null || statistic === 'min' || statistic === 'max';
  if (isTimeType(type) && valueBounds && times.length < given.length) {
    fail('this column holds dates or times: give the bounds as dates or times in ISO 8601, e.g. 2001-01-01T12:00:01');
  }
  if (times.length === 0) return;
  if (!isTimeType(type))
    fail(`a date or time bound needs a date or time column; this one is ${type || 'of unknown type'}`);
  if (statistic !== null && statistic !== 'min' && statistic !== 'max') {
    fail(`statistic ${statistic} is a number: bound it with numbers, not dates`);
  }
  if (times.length !== given.length) fail('give both bounds as dates or times, not one as a number');
}

function checkRegex(pattern: string, fail: (m: string) => never): void {
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    fail(`regex ${JSON.stringify(pattern)} is not a regular expression: ${(error as Error).message}`);
  }
}

/** A strftime format as an anchored regular expression (Python's strptime accepts one or two digits). */
export function strftimeRegex(format: string, fail: (m: string) => never): string {
  const parts: Record<string, string> = {
    Y: '[0-9]{4}',
    y: '[0-9]{2}',
    m: '(0?[1-9]|1[0-2])',
    d: '(0?[1-9]|[12][0-9]|3[01])',
    H: '([01]?[0-9]|2[0-3])',
    I: '(0?[1-9]|1[0-2])',
    M: '[0-5]?[0-9]',
    S: '([0-5]?[0-9]|6[01])',
    f: '[0-9]{1,6}',
    p: '(AM|PM|am|pm)',
    b: '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)',
    '%': '%',
  };
  let out = '^';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      continue;
    }
    const code = format[++i];
    if (!code || !(code in parts)) fail(`strftime directive %${code ?? ''} is not supported`);
    out += parts[code!];
  }
  return `${out}$`;
}

async function checkReference(
  ctx: ServiceContext,
  asset: { id: string; sourceId: string | null },
  config: Record<string, unknown>,
  fail: (m: string) => never,
): Promise<void> {
  const [target] = await queryRows<{ id: string; source_id: string | null }>(
    ctx.db,
    sql`select a.id::text, a.source_id::text from assets a where a.urn = ${config.to} and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!target) fail(`no asset ${String(config.to)} to reference`);
  if (target!.source_id !== asset.sourceId) fail('the referenced asset must be in the same source');
  const [field] = await ctx.db
    .select({ name: columns.name })
    .from(columns)
    .where(and(eq(columns.assetId, target!.id), eq(columns.name, String(config.field))));
  if (!field) fail(`${String(config.to)} has no column "${String(config.field)}"`);
}

/** Creates a rule on an asset the caller may see; stewards and owners only; audited. */
export async function createRule(ctx: ServiceContext, urn: string, input: RuleInput): Promise<QualityRule> {
  requireRole(ctx.principal, 'create quality rules', 'steward', 'owner');
  const asset = await findVisibleAsset(ctx, urn);
  const values = await validateRule(ctx, asset, input);
  return ctx.db.transaction(async (tx) => {
    const [clash] = await tx
      .select({ id: qualityRules.id })
      .from(qualityRules)
      .where(and(eq(qualityRules.assetId, asset.id), eq(qualityRules.name, values.name)));
    if (clash) {
      throw new DataOpsError(
        'conflict',
        `${urn} already has a rule named "${values.name}": choose another name, or delete that one first with quality_delete_rule (quality_disable_rule turns it off and keeps its results)`,
      );
    }
    const [row] = await tx
      .insert(qualityRules)
      .values({ ...values, assetId: asset.id, origin: 'user', createdBy: ctx.principal.id })
      .returning();
    await auditRule(tx, ctx, 'quality.rule.create', urn, row!);
    return row!;
  });
}

export async function auditRule(
  tx: Tx,
  ctx: ServiceContext,
  action: string,
  urn: string,
  rule: QualityRule,
  extra: Record<string, unknown> = {},
) {
  await appendAudit(tx, {
    actorId: ctx.principal.id,
    action,
    targetUrn: urn,
    details: {
      rule: rule.name,
      type: rule.type,
      column: rule.columnName,
      enabled: rule.enabled,
      origin: rule.origin,
      ...extra,
    },
    at: ctx.clock(),
  });
}

/** The rules of an asset the caller may see, in name order. */
export async function listRules(
  ctx: ServiceContext,
  urn: string,
  options: { includeDisabled?: boolean } = {},
): Promise<QualityRule[]> {
  const asset = await findVisibleAsset(ctx, urn);
  const rows = await ctx.db
    .select()
    .from(qualityRules)
    .where(
      options.includeDisabled
        ? eq(qualityRules.assetId, asset.id)
        : and(eq(qualityRules.assetId, asset.id), eq(qualityRules.enabled, true)),
    )
    .orderBy(asc(qualityRules.name), asc(qualityRules.id));
  // A relationships rule names the asset it checks against: left out for those who may not see that asset.
  const targets = [
    ...new Set(rows.map((r) => (r.config as { to?: unknown }).to).filter((to): to is string => typeof to === 'string')),
  ];
  if (targets.length === 0) return rows;
  const visible = await queryRows<{ urn: string }>(
    ctx.db,
    sql`select a.urn from assets a where a.urn in (select jsonb_array_elements_text(${JSON.stringify(targets)}::jsonb))
          and ${visibleAssetsSql(ctx.principal)}`,
  );
  const seen = new Set(visible.map((v) => v.urn));
  return rows.filter((r) => {
    const to = (r.config as { to?: unknown }).to;
    return typeof to !== 'string' || seen.has(to);
  });
}

/** An asset's id, source and qualified place, for loading rules of an asset already checked visible. */
export async function assetForChecks(ctx: ServiceContext, assetId: string) {
  const [row] = await queryRows<{ id: string }>(
    ctx.db,
    sql`select a.id::text from assets a where a.id = ${assetId} and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!row) throw new DataOpsError('not_found', `no asset with id ${assetId}`);
  const [asset] = await ctx.db.select().from(assets).where(eq(assets.id, assetId));
  return asset!;
}
