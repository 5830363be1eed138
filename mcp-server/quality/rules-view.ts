import { z } from 'zod';
import type { QualityRule } from './rules.js';

/** A rule as tools return it. */
export const ruleSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  column: z.string().nullable(),
  config: z.record(z.string(), z.unknown()),
  dimension: z.string(),
  severity: z.string(),
  threshold: z.number(),
  schedule: z.string().nullable(),
  enabled: z.boolean(),
  origin: z.string(),
});

export function ruleView(rule: QualityRule): z.infer<typeof ruleSchema> {
  return {
    id: rule.id,
    name: rule.name,
    type: rule.type,
    column: rule.columnName,
    config: rule.config,
    dimension: rule.dimension,
    severity: rule.severity,
    threshold: rule.threshold,
    schedule: rule.schedule,
    enabled: rule.enabled,
    origin: rule.origin,
  };
}

export const renderRule = (r: z.infer<typeof ruleSchema>) =>
  `- ${r.name} [${r.type}${r.column ? ` on ${r.column}` : ''}; ${r.dimension}; ${r.severity}${r.threshold < 1 ? `; mostly ${r.threshold}` : ''}${r.enabled ? '' : '; disabled'}; from ${r.origin}]`;
