import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { cursorInput, limitInput, urnInput } from '../catalog/schemas.js';
import { defineTool, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import { type AlertView, alertSeverities, alertStates, listAlerts, updateAlert } from './alerts.js';
import {
  alertChannelNames,
  listSubscriptions,
  subscribeToAlerts,
  unsubscribeFromAlerts,
} from './alerts-subscriptions.js';
import { anomalyMethod, anomalyMetrics, findAnomalies } from './anomaly.js';
import { setSla } from './sla.js';

const severitySchema = z.enum(alertSeverities);

const alertSchema = z.object({
  id: z.string(),
  asset: z.string(),
  qualifiedName: z.string(),
  kind: z.string().describe('sla_freshness, sla_score, rule, anomaly or schema_drift'),
  severity: severitySchema,
  state: z.enum(alertStates),
  title: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  assignee: z.string().nullable(),
  occurrences: z.number().describe('How many evaluations saw the problem while the alert was unresolved'),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  note: z.string().nullable(),
});

const renderAlert = (a: AlertView) =>
  `- [${a.severity}] ${a.state}${a.assignee ? ` → ${a.assignee}` : ''}: ${fenceUntrusted(a.title)} (${a.id}, seen ${a.occurrences}×, last ${a.lastSeenAt})`;

export const qualityAnomalies = defineTool({
  name: 'quality_anomalies',
  title: 'Find anomalies in an asset’s quality metrics',
  description:
    'Has anything unusual happened to this data lately? Judges the last `lookbackDays` of profile history (row count, ' +
    'freshness, per-column nulls, distinct counts, means) against a seasonal baseline; lists spikes, drops, stuck values and ' +
    'breaking schema changes.',
  input: z
    .object({
      urn: urnInput,
      lookbackDays: z
        .number()
        .int()
        .min(1)
        .max(60)
        .default(7)
        .describe('Days to judge, ending today (1-60, default 7)'),
    })
    .strict(),
  output: z.object({
    asset: z.string(),
    qualifiedName: z.string(),
    method: z.string(),
    history: z.object({ days: z.number(), needed: z.number() }),
    metricsJudged: z.number(),
    anomalies: z.array(
      z.object({
        metric: z.enum(anomalyMetrics),
        column: z.string().nullable(),
        day: z.string(),
        kind: z.enum(['spike', 'drop', 'stale']),
        value: z.number(),
        expected: z.number(),
        low: z.number(),
        high: z.number(),
        score: z.number().describe('Robust standard deviations from the expected value (0 for stale)'),
      }),
    ),
    schemaDrift: z.array(z.object({ at: z.string(), summary: z.string(), breaking: z.boolean() })),
    note: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: async ({ urn, lookbackDays }, ctx) => ({
    ...(await findAnomalies(ctx, urn, { lookbackDays })),
    method: anomalyMethod,
  }),
  render: (r) =>
    [
      `Anomalies of ${r.qualifiedName} (${r.history.days} days of history, ${r.metricsJudged} metrics judged)`,
      ...(r.note ? [r.note] : []),
      ...r.anomalies.map(
        (a) =>
          `- ${a.day} ${a.kind} in ${a.metric}${a.column ? ` of ${a.column}` : ''}: ${a.value} (expected ${a.expected.toFixed(3)}, normal ${a.low.toFixed(3)} to ${a.high.toFixed(3)})`,
      ),
      ...r.schemaDrift.map((d) => `- ${d.at} schema${d.breaking ? ' (breaking)' : ''}: ${d.summary}`),
      ...(r.note || r.anomalies.length || r.schemaDrift.length ? [] : ['Nothing unusual.']),
    ].join('\n'),
});

export const qualitySetSla = defineTool({
  name: 'quality_set_sla',
  title: 'Set an asset’s freshness and quality targets',
  description:
    'Set the service-level targets of an asset (`freshnessHours`, `minScore`) and the severity of the alert a breach opens. ' +
    'A field left out keeps its value; null removes it. Steward or owner; audited.',
  input: z
    .object({
      urn: urnInput,
      freshnessHours: z.number().positive().max(87_600).nullable().optional(),
      minScore: z.number().min(0).max(100).nullable().optional(),
      severity: severitySchema.optional(),
    })
    .strict(),
  output: z.object({
    asset: z.string(),
    freshnessHours: z.number().nullable(),
    minScore: z.number().nullable(),
    severity: severitySchema,
  }),
  annotations: idempotent,
  handler: ({ urn, ...targets }, ctx) => setSla(ctx, { asset: urn, ...targets }),
  render: (s) =>
    `SLA of ${s.asset}: ${s.freshnessHours !== null ? `fresh within ${s.freshnessHours} h` : 'no freshness target'}, ` +
    `${s.minScore !== null ? `score at least ${s.minScore}` : 'no score target'}; breaches are ${s.severity}`,
});

export const qualityListAlerts = defineTool({
  name: 'quality_list_alerts',
  title: 'List data-quality alerts',
  description:
    'Data-quality alerts on assets you may see: SLA breaches, failing critical rules, anomalies and breaking schema changes, ' +
    'each with severity, evidence, state (open, acknowledged, resolved) and assignee; most severe and most recent first. ' +
    'By default the unresolved ones. Act on one with quality_update_alert.',
  input: z
    .object({
      state: z
        .enum(['unresolved', 'open', 'acknowledged', 'resolved', 'all'])
        .default('unresolved')
        .describe('unresolved = open or acknowledged'),
      minSeverity: severitySchema.default('info'),
      urn: urnInput.optional().describe('Only alerts on this asset'),
      assignee: z.string().max(200).optional().describe('Only alerts assigned to this principal; "me" for yourself'),
      limit: limitInput(100, 20),
      cursor: cursorInput,
    })
    .strict(),
  output: z.object({ total: z.number(), alerts: z.array(alertSchema), nextCursor: z.string().nullable() }),
  annotations: readOnly,
  handler: ({ state, minSeverity, urn, assignee, limit, cursor }, ctx) =>
    listAlerts(ctx, {
      states: state === 'unresolved' ? ['open', 'acknowledged'] : state === 'all' ? [...alertStates] : [state],
      minSeverity,
      asset: urn,
      assignee: assignee === 'me' ? ctx.principal.id : assignee,
      limit,
      cursor,
    }),
  render: (r) =>
    r.alerts.length === 0
      ? 'No alerts.'
      : [
          `${r.total} alerts`,
          ...r.alerts.map(renderAlert),
          ...(r.nextCursor ? [`(more: cursor ${r.nextCursor})`] : []),
        ].join('\n'),
});

export const qualityUpdateAlert = defineTool({
  name: 'quality_update_alert',
  title: 'Acknowledge, resolve or assign an alert',
  description:
    'Changes a data-quality alert: `acknowledge` (someone is on it), `resolve` (fixed or accepted; a new occurrence opens a new ' +
    'alert), or `assign` to a principal who may see the asset (`assignee` null unassigns). Stewards, owners and the assignee may; ' +
    'audited. Subscribers hear of resolutions.',
  input: z
    .object({
      id: z.string().uuid().describe('The alert id from quality_list_alerts'),
      action: z.enum(['acknowledge', 'resolve', 'assign']),
      assignee: z.string().max(200).nullable().optional().describe('For assign: a principal id'),
      note: z.string().max(2000).optional(),
    })
    .strict(),
  output: alertSchema,
  annotations: idempotent,
  handler: (input, ctx) => {
    if (input.action === 'assign' && input.assignee === undefined) {
      throw new DataOpsError('invalid_input', 'assign needs `assignee`: a principal id, or null to unassign');
    }
    return updateAlert(ctx, input);
  },
  render: renderAlert,
});

const subscriptionSchema = z.object({
  id: z.string(),
  asset: z.string().nullable(),
  domain: z.string().nullable(),
  minSeverity: severitySchema,
  channel: z.string(),
  target: z.string().nullable(),
});

export const qualitySubscribeAlerts = defineTool({
  name: 'quality_subscribe_alerts',
  title: 'Subscribe to data-quality alerts',
  description:
    'Choose which alerts you get and where: `subscribe` to an asset (`urn`), a domain, or everything you may see, from ' +
    '`minSeverity` up, by `inbox` or `webhook` (a JSON POST to `target`); `list` your subscriptions; `unsubscribe` by id.',
  input: z
    .object({
      action: z.enum(['subscribe', 'unsubscribe', 'list']).default('subscribe'),
      urn: urnInput.optional(),
      domain: z.string().max(200).optional(),
      minSeverity: severitySchema.default('warning'),
      channel: z.enum(alertChannelNames).default('inbox'),
      target: z.string().max(2000).optional().describe('The webhook URL, for the webhook channel'),
      id: z.string().uuid().optional().describe('For unsubscribe: the subscription id'),
    })
    .strict(),
  output: z.object({ subscriptions: z.array(subscriptionSchema) }),
  annotations: idempotent,
  handler: async (input, ctx) => {
    if (input.action === 'unsubscribe') {
      if (!input.id)
        throw new DataOpsError('invalid_input', 'unsubscribe needs `id`: list your subscriptions to find it');
      await unsubscribeFromAlerts(ctx, input.id);
    } else if (input.action === 'subscribe') {
      if (input.urn && input.domain) {
        throw new DataOpsError('invalid_input', 'subscribe to an asset (urn) or a domain, not both at once');
      }
      await subscribeToAlerts(ctx, {
        asset: input.urn,
        domain: input.domain,
        minSeverity: input.minSeverity,
        channel: input.channel,
        target: input.target,
      });
    }
    return { subscriptions: await listSubscriptions(ctx) };
  },
  render: (r) =>
    r.subscriptions.length === 0
      ? 'No alert subscriptions.'
      : r.subscriptions
          .map(
            (s) =>
              `- ${s.id}: ${s.asset ?? (s.domain ? `domain ${s.domain}` : 'everything you may see')}, ${s.minSeverity} and up, ${s.channel}${s.target ? ` ${s.target}` : ''}`,
          )
          .join('\n'),
});

export const alertTools = [
  qualityAnomalies,
  qualitySetSla,
  qualityListAlerts,
  qualityUpdateAlert,
  qualitySubscribeAlerts,
];
