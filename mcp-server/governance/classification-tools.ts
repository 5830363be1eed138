import { z } from 'zod';
import { classificationSchema, urnInput } from '../catalog/schemas.js';
import { defineTool, idempotent, openWorld } from '../tool.js';
import { classifyAsset, defaultSampleSize, describeEvidence, piiMinimumMarking } from './classify.js';
import { setClassification } from './markings.js';
import { piiKinds } from './pii-detectors.js';

const warningsSchema = z
  .array(z.object({ asset: z.string(), policy: z.string(), authority: z.string().nullable(), requirement: z.string() }))
  .describe('Warning policies the asset does not meet (the change went through)');

const evidenceSchema = z.object({
  kind: z.enum(piiKinds),
  detector: z.string(),
  nameHint: z.string().nullable().describe('Words of the column name that point to this kind'),
  sampled: z.number().describe('Non-empty values sampled'),
  matched: z.number(),
  matchShare: z.number().nullable().describe('Share of sampled values that matched (0-1); null when none was sampled'),
  example: z.string().nullable().describe('One matching value in masked form, never the value itself'),
  confidence: z.enum(['high', 'medium', 'low']),
});

export const governanceClassify = defineTool({
  name: 'governance_classify',
  title: 'Find personal data in an asset',
  description:
    'Which columns of this table or view hold personal data (names, emails, SSNs, DoD IDs, addresses, card numbers...)? ' +
    'Samples values and column names; each suggestion carries its evidence, plus the asset marking it calls for ' +
    `(PII: at least ${piiMinimumMarking}). apply=true (steward or owner) records them, audited; otherwise nothing changes.`,
  input: z
    .object({
      urn: urnInput,
      apply: z.boolean().default(false).describe('Record the suggestions (steward or owner)'),
      sampleSize: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(defaultSampleSize)
        .describe(`Rows to sample (default ${defaultSampleSize})`),
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    sample: z.object({
      method: z.enum(['tablesample', 'limit', 'none']),
      rows: z.number(),
      note: z.string().nullable().describe('Why values were not sampled, when they were not'),
    }),
    columns: z.array(
      z.object({
        column: z.string(),
        kind: z.enum(piiKinds),
        evidence: evidenceSchema,
        current: z.object({ sensitivity: z.string().nullable(), kind: z.string().nullable() }),
        suggested: z.object({ sensitivity: z.literal('pii'), kind: z.enum(piiKinds) }),
        applied: z.boolean().describe('Already recorded on the column'),
      }),
    ),
    marking: z.object({
      current: classificationSchema,
      suggested: classificationSchema,
      reason: z.string().nullable(),
    }),
    applied: z.boolean(),
    changed: z.number(),
    warnings: warningsSchema,
  }),
  annotations: openWorld(idempotent),
  handler: (input, ctx) => classifyAsset(ctx, input),
  render: (r) =>
    [
      `${r.urn}: ${r.columns.length} column${r.columns.length === 1 ? '' : 's'} with personal data` +
        (r.sample.method === 'none' ? ` (${r.sample.note})` : ` (${r.sample.rows} rows sampled)`),
      ...r.columns.map(
        (c) =>
          `- ${c.column}: ${describeEvidence(c.evidence)}${c.evidence.example ? `, e.g. ${c.evidence.example}` : ''}${c.applied ? ' [recorded]' : ''}`,
      ),
      r.marking.suggested !== r.marking.current
        ? `Marking: ${r.marking.current} → suggested ${r.marking.suggested} (${r.marking.reason})`
        : `Marking: ${r.marking.current}`,
      r.applied ? `Applied: ${r.changed} change${r.changed === 1 ? '' : 's'}.` : '',
      ...r.warnings.map((w) => `Warning: policy "${w.policy}" requires ${w.requirement}`),
    ]
      .filter(Boolean)
      .join('\n'),
});

export const governanceSetClassification = defineTool({
  name: 'governance_set_classification',
  title: 'Set the classification marking of an asset or column',
  description:
    'Mark an asset (or one column) U, C, S or TS, never above your own clearance (steward or admin). A downgrade needs ' +
    'a reason; a higher marking propagates downstream. Audited and checked against blocking policies.',
  input: z
    .object({
      urn: urnInput,
      column: z.string().min(1).max(200).optional().describe('A column of the asset, to mark only that column'),
      classification: classificationSchema,
      reason: z.string().max(2_000).optional().describe('Why; required for a downgrade'),
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    column: z.string().nullable(),
    from: classificationSchema.nullable(),
    to: classificationSchema,
    changed: z.boolean(),
    downgrade: z.boolean(),
    propagated: z
      .array(z.object({ urn: z.string(), from: classificationSchema, to: classificationSchema }))
      .describe('Downstream assets raised with it'),
    warnings: warningsSchema,
  }),
  annotations: idempotent,
  handler: (input, ctx) => setClassification(ctx, input),
  render: (r) =>
    [
      r.changed
        ? `${r.urn}${r.column ? `.${r.column}` : ''}: ${r.from ?? 'inherited'} → ${r.to}${r.downgrade ? ' (downgrade recorded)' : ''}`
        : `${r.urn}${r.column ? `.${r.column}` : ''} is already ${r.to}: nothing changed`,
      ...r.propagated.map((p) => `- raised ${p.urn}: ${p.from} → ${p.to}`),
      ...r.warnings.map((w) => `Warning: policy "${w.policy}" requires ${w.requirement}`),
    ].join('\n'),
});

export const classificationTools = [governanceClassify, governanceSetClassification];
