import { z } from 'zod';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import { urnInput } from '../catalog/schemas.js';
import { requireRole } from '../governance/access.js';
import { maskAssetRows } from '../governance/masking.js';
import { additive, defineTool, fenceUntrusted, openWorld, readOnly } from '../tool.js';
import { evaluateAlerts } from './alerts-evaluate.js';
import type { CheckResult } from './check-result.js';
import { runChecks } from './checks.js';
import { explainQuality } from './explain.js';
import { createRule, listRules, ruleInputSchema } from './rules.js';
import { qualityDeleteRule, qualityDisableRule, qualityEnableRule } from './rules-manage-tools.js';
import { renderRule, ruleSchema, ruleView } from './rules-view.js';

/** What a check measured: a number (a count, a statistic), the facts behind its verdict, or nothing when it could not run. */
const observedSchema = z.union([z.number(), z.string(), z.record(z.string(), z.unknown())]).nullable();
export const qualityCreateRule = defineTool({
  name: 'quality_create_rule',
  title: 'Create a data-quality rule',
  description:
    'Adds a typed check to an asset (stewards and owners). Types: not_null, missing (config.missingValues), unique, ' +
    'compound_unique (config.columns, ignoreRowIf all_values_are_missing|any_value_is_missing|never), accepted_values ' +
    '(config.values), invalid (config.validValues, invalidValues, format ' +
    '[email, integer, decimal, percentage, uuid, date_iso, ipv4, phone], regex, strftime, minLength, maxLength, min, max; ' +
    'min and max are dates or timestamps in ISO 8601 on a date or time column), ' +
    'relationships (config.to: URN in the same source, config.field), expression (config.expression: a boolean SQL ' +
    'expression over the table’s own columns, e.g. "end_date >= start_date"), row_count (config.bounds {min, max}), ' +
    'distribution (config.statistic mean|sum|min|max|stddev|distinct_count|proportion_unique|min_length|max_length|avg_length, ' +
    'config.bounds), freshness (config.maxAgeHours), schema (config.requiredColumns, forbiddenColumns, columnTypes). ' +
    'Any row rule takes config.where (a filter expression) and threshold ("mostly", 0-1). Returns the stored rule.',
  input: ruleInputSchema.extend({ urn: urnInput }),
  output: z.object({ urn: z.string(), rule: ruleSchema }),
  annotations: additive,
  handler: async ({ urn, ...rule }, ctx) => ({ urn, rule: ruleView(await createRule(ctx, urn, rule)) }),
  render: (o) => `Created rule on ${o.urn}:\n${renderRule(o.rule)}`,
});

export const qualityListRules = defineTool({
  name: 'quality_list_rules',
  title: 'List the data-quality rules of an asset',
  description:
    'The checks defined on an asset: type, column, configuration, dimension, severity, threshold, schedule and where each ' +
    'came from (user, yaml, dbt, openlineage).',
  input: z.strictObject({
    urn: urnInput,
    includeDisabled: z
      .boolean()
      .default(false)
      .describe('Also list disabled rules (e.g. removed from their YAML file)'),
  }),
  output: z.object({ urn: z.string(), rules: z.array(ruleSchema) }),
  annotations: readOnly,
  handler: async ({ urn, includeDisabled }, ctx) => ({
    urn,
    rules: (await listRules(ctx, urn, { includeDisabled })).map(ruleView),
  }),
  render: (o) =>
    o.rules.length ? `Rules of ${o.urn}:\n${o.rules.map(renderRule).join('\n')}` : `${o.urn} has no rules`,
});

export const checkResultSchema = z.object({
  ruleId: z.string(),
  rule: z.string(),
  type: z.string(),
  column: z.string().nullable(),
  dimension: z.string(),
  severity: z.string(),
  passed: z.boolean(),
  checkedRows: z.number().nullable(),
  failedRows: z.number().nullable(),
  observed: observedSchema,
  summary: z.string(),
  sample: z.array(z.record(z.string(), z.unknown())).describe('Failing rows, masked for the caller'),
});

export const qualityRunChecks = defineTool({
  name: 'quality_run_checks',
  title: 'Run the data-quality checks of an asset now',
  description:
    'Runs the asset’s enabled rules (or the rules named by id) against its source, as SQL where the data lives, and stores ' +
    'the results. Returns pass/fail per rule with checked and failing row counts, the observed value and failing sample ' +
    'rows (masked). Stewards and owners.',
  input: z.strictObject({
    urn: urnInput,
    ruleIds: z.array(z.string().uuid()).max(200).optional().describe('Only these rules (ids from quality_list_rules)'),
  }),
  output: z.object({ urn: z.string(), passed: z.number(), failed: z.number(), results: z.array(checkResultSchema) }),
  annotations: openWorld(additive),
  handler: async ({ urn, ruleIds }, ctx) => {
    requireRole(ctx.principal, 'run quality checks', 'steward', 'owner');
    const asset = await findVisibleAsset(ctx, urn);
    const results = await runChecks(ctx, { assetId: asset.id, ...(ruleIds ? { ruleIds } : {}) });
    // A failing critical rule opens its alert now, not at the asset's next scheduled job.
    await evaluateAlerts(ctx.db, asset.id, ctx.clock());
    const shown = await Promise.all(results.map((r) => resultView(ctx, asset.id, r)));
    return {
      urn,
      passed: results.filter((r) => r.passed).length,
      failed: results.filter((r) => !r.passed).length,
      results: shown,
    };
  },
  render: (o) =>
    o.results.length === 0
      ? `${o.urn} has no enabled rules: add some with quality_create_rule`
      : [`${o.urn}: ${o.passed} passed, ${o.failed} failed`, ...o.results.map(renderResult)].join('\n'),
});

export async function resultView(
  ctx: Parameters<typeof maskAssetRows>[0],
  assetId: string,
  r: Pick<CheckResult, Exclude<keyof CheckResult, 'evidence'>> & { evidence: { sample?: Record<string, unknown>[] } },
): Promise<z.infer<typeof checkResultSchema>> {
  const { evidence, ...rest } = r;
  const sample = evidence.sample?.length ? (await maskAssetRows(ctx, assetId, evidence.sample)).rows : [];
  return { ...rest, sample };
}

export function renderResult(r: z.infer<typeof checkResultSchema>): string {
  const head = `- ${r.passed ? 'PASS' : 'FAIL'} ${r.rule} (${r.type}${r.column ? ` on ${r.column}` : ''}, ${r.severity}): ${r.summary}`;
  if (r.passed || r.sample.length === 0) return head;
  return `${head}\n  failing rows: ${fenceUntrusted(JSON.stringify(r.sample.slice(0, 3)))}`;
}

export const qualityExplain = defineTool({
  name: 'quality_explain',
  title: 'Explain why an asset is flagged',
  description:
    '"Why is this flagged?" / "Can I trust this table?": the rules failing now and by how much, with masked sample rows, ' +
    'the score by dimension, recent schema changes, and failing upstream assets (the likely root cause).',
  input: z.strictObject({ urn: urnInput }),
  output: z.object({
    urn: z.string(),
    flagged: z.boolean(),
    explanation: z.string(),
    failing: z.array(
      z.object({
        rule: z.string(),
        type: z.string(),
        column: z.string().nullable(),
        dimension: z.string(),
        severity: z.string(),
        checkedRows: z.number().nullable(),
        failedRows: z.number().nullable(),
        failedPercent: z.number().nullable(),
        observed: observedSchema,
        summary: z.string(),
        ranAt: z.string(),
        sample: z.array(z.record(z.string(), z.unknown())),
      }),
    ),
    passing: z.number(),
    score: z.object({
      overall: z.number().nullable(),
      computedAt: z.string().nullable(),
      change: z.number().nullable(),
      dimensions: z.record(z.string(), z.number().nullable()),
      trend: z.array(z.object({ computedAt: z.string(), overall: z.number() })),
    }),
    schemaChanges: z.array(z.object({ at: z.string(), summary: z.string() })),
    upstream: z.array(
      z.object({
        urn: z.string(),
        qualifiedName: z.string(),
        hops: z.number(),
        failing: z.array(z.object({ rule: z.string(), severity: z.string(), summary: z.string() })),
      }),
    ),
  }),
  annotations: readOnly,
  handler: ({ urn }, ctx) => explainQuality(ctx, urn),
  render: (o) =>
    [
      o.explanation,
      ...o.failing.map(
        (f) =>
          `- FAIL ${f.rule} (${f.type}${f.column ? ` on ${f.column}` : ''}, ${f.severity}): ${f.summary}${f.sample.length ? `\n  failing rows: ${fenceUntrusted(JSON.stringify(f.sample.slice(0, 3)))}` : ''}`,
      ),
      ...o.schemaChanges.map((c) => `- schema change ${c.at}: ${c.summary}`),
      ...o.upstream.map(
        (u) =>
          `- upstream ${u.qualifiedName} (${u.hops} hop${u.hops > 1 ? 's' : ''}): ${u.failing.map((f) => f.rule).join(', ')} failing`,
      ),
    ].join('\n'),
});

export const ruleTools = [
  qualityCreateRule,
  qualityListRules,
  qualityRunChecks,
  qualityExplain,
  qualityDisableRule,
  qualityEnableRule,
  qualityDeleteRule,
];
