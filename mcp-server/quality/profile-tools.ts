import { z } from 'zod';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import { urnInput } from '../catalog/schemas.js';
import { defineTool, fenceUntrusted, idempotent, openWorld, readOnly } from '../tool.js';
import { evaluateAlerts } from './alerts-evaluate.js';
import { getLatestProfile, type ProfileView, profileAsset } from './profile.js';
import { scoreDimensions } from './score.js';
import { getQualityReport, type QualityReport } from './score-report.js';

const valueCount = z.object({ value: z.string(), count: z.number(), share: z.number() });
const columnProfileSchema = z.object({
  name: z.string(),
  dataType: z.string(),
  kind: z.enum(['number', 'text', 'boolean', 'temporal', 'other', 'skipped']),
  nulls: z.number(),
  nullRate: z.number().nullable(),
  distinct: z
    .object({
      value: z.number(),
      exact: z.boolean(),
      method: z.enum(['exact', 'duj1']),
      bounds: z.tuple([z.number(), z.number()]).optional(),
    })
    .optional(),
  min: z.union([z.number(), z.string()]).nullable().optional(),
  max: z.union([z.number(), z.string()]).nullable().optional(),
  mean: z.number().nullable().optional(),
  stddev: z.number().nullable().optional(),
  quantiles: z.record(z.string(), z.number()).optional(),
  quantileRankError: z.number().optional(),
  meanStandardError: z.number().optional(),
  estimated: z.array(z.string()).optional().describe('Statistics taken from a sample rather than every row'),
  length: z.object({ min: z.number(), max: z.number(), mean: z.number() }).nullable().optional(),
  trueCount: z.number().optional(),
  topValues: z.array(valueCount).optional(),
  patterns: z.array(z.object({ pattern: z.string(), share: z.number() })).optional(),
  skipped: z.string().optional(),
  masked: z
    .enum(['partial', 'hashed', 'redacted'])
    .optional()
    .describe('How the values shown of this personal-data column were masked for you'),
  withheld: z.array(z.string()).optional().describe('Statistics left out because the column holds personal data'),
});

const profileOutput = z.object({
  urn: z.string(),
  profile: z
    .object({
      profiledAt: z.string(),
      rowCount: z.number(),
      sample: z.object({ method: z.string(), fraction: z.number() }),
      exactMoments: z.boolean().describe('Whether min, max, mean and standard deviation were taken over every row'),
      durationMs: z.number(),
      columns: z.array(columnProfileSchema),
      history: z.array(z.object({ profiledAt: z.string(), rowCount: z.number().nullable() })),
    })
    .nullable(),
  note: z.string().optional(),
});

function renderProfile(p: ProfileView): string {
  const sample =
    p.sample.method === 'all'
      ? 'every row read'
      : `sampled ${(p.sample.fraction * 100).toPrecision(2)}% of rows (${p.sample.method})`;
  const lines = p.columns.map((c) => {
    const facts = [
      `${c.kind}`,
      `nulls ${(100 * (c.nullRate ?? 0)).toFixed(1)}%`,
      c.distinct ? `distinct ${c.distinct.exact ? '' : '≈'}${c.distinct.value}` : '',
      c.min !== undefined && c.min !== null ? `min ${c.min}` : '',
      c.max !== undefined && c.max !== null ? `max ${c.max}` : '',
      typeof c.mean === 'number' ? `mean ${c.mean.toPrecision(6)}` : '',
      c.topValues?.length
        ? `top ${fenceUntrusted(
            c.topValues
              .slice(0, 3)
              .map((t) => `${t.value} (${t.count})`)
              .join(', '),
          )}`
        : '',
      c.patterns?.length
        ? `pattern ${fenceUntrusted(c.patterns[0]!.pattern)} ${(100 * c.patterns[0]!.share).toFixed(0)}%`
        : '',
      c.masked ? `values ${c.masked}` : '',
      c.skipped ? 'values not compared' : '',
    ].filter(Boolean);
    return `- ${c.name}: ${facts.join('; ')}`;
  });
  return `${p.urn}: ${p.rowCount} rows, profiled ${p.profiledAt} (${sample}, ${p.durationMs} ms)\n${lines.join('\n')}`;
}

export const qualityProfile = defineTool({
  name: 'quality_profile',
  title: "Profile an asset's data",
  description:
    'Column statistics of a table or view: row count, nulls, distinct values, min, max, mean, quantiles, top values and ' +
    'patterns (personal data masked). Returns the latest profile; refresh: true profiles it now (steward or owner).',
  input: z
    .object({
      urn: urnInput,
      refresh: z.boolean().default(false).describe('Profile the data now instead of reading the latest profile'),
    })
    .strict(),
  output: profileOutput,
  annotations: openWorld(idempotent),
  handler: async ({ urn, refresh }, ctx) => {
    if (refresh) {
      const { id } = await findVisibleAsset(ctx, urn);
      await profileAsset(ctx, id);
      // Anomalies and SLA breaches the new profile reveals open their alerts now.
      await evaluateAlerts(ctx.db, id, ctx.clock());
    }
    const profile = await getLatestProfile(ctx, urn);
    if (!profile) {
      return { urn, profile: null, note: 'never profiled: call again with refresh: true (steward or owner role)' };
    }
    const { urn: _, ...rest } = profile;
    return { urn, profile: rest };
  },
  render: (r) => (r.profile ? renderProfile({ urn: r.urn, ...r.profile }) : `${r.urn}: ${r.note}`),
});

const ruleEvidence = z.object({
  rule: z.string(),
  type: z.string(),
  column: z.string().nullable(),
  passed: z.boolean(),
  checkedRows: z.number(),
  passedRows: z.number(),
  ranAt: z.string(),
});
const dimensionSchema = z.object({
  score: z.number().nullable(),
  weight: z.number(),
  formula: z.string(),
  note: z.string().optional(),
  profilePart: z.number().nullable().optional(),
  rulePart: z.number().nullable().optional(),
  rules: z.array(ruleEvidence).optional(),
  columns: z.array(z.object({ column: z.string(), nullRate: z.number(), weight: z.number() })).optional(),
  keys: z.array(z.object({ column: z.string(), nonNull: z.number(), distinct: z.number() })).optional(),
  sla: z
    .object({
      freshnessHours: z.number(),
      hoursSinceChange: z.number().nullable(),
      score: z.number().nullable(),
      note: z.string().optional(),
    })
    .optional(),
});

function renderReport(r: QualityReport): string {
  if (r.score === null)
    return `${r.urn}: not scored yet (profile the asset with quality_profile refresh: true, or run its checks)`;
  const dims = scoreDimensions.map((d) => {
    const v = r.dimensions[d];
    return `- ${d} (weight ${v.weight}): ${v.score === null ? 'no evidence' : v.score}${v.note ? ` — ${v.note}` : ''}`;
  });
  const change = r.change === null ? '' : ` (${r.change >= 0 ? '+' : ''}${r.change} since the previous score)`;
  return `${r.urn}: quality ${r.score}/100${change}, computed ${r.computedAt}\n${dims.join('\n')}\nOverall: ${r.overallFormula}`;
}

export const qualityGet = defineTool({
  name: 'quality_get',
  title: "Get an asset's quality score",
  description:
    "An asset's 0-100 quality score with its six dimensions, the evidence and formula behind each, and the trend. " +
    'Use quality_profile for column statistics, quality_explain for why checks fail.',
  input: z.object({ urn: urnInput }).strict(),
  output: z.object({
    urn: z.string(),
    score: z.number().nullable(),
    computedAt: z.string().nullable(),
    dimensions: z.object(
      Object.fromEntries(scoreDimensions.map((d) => [d, dimensionSchema])) as Record<
        (typeof scoreDimensions)[number],
        typeof dimensionSchema
      >,
    ),
    overallFormula: z.string(),
    trend: z.array(z.object({ computedAt: z.string(), overall: z.number() })),
    change: z.number().nullable(),
  }),
  annotations: readOnly,
  handler: ({ urn }, ctx) => getQualityReport(ctx, urn),
  render: renderReport,
});

export const profileTools = [qualityProfile, qualityGet];
