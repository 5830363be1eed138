import { z } from 'zod';
import { urnInput } from '../catalog/schemas.js';
import { defineTool, destructive, idempotent } from '../tool.js';
import { deleteRule, setRuleEnabled } from './rules-manage.js';
import { renderRule, ruleSchema, ruleView } from './rules-view.js';

const ruleRef = {
  urn: urnInput,
  rule: z.string().min(1).max(200).describe('Rule name on the asset, or id from quality_list_rules'),
};

const toggled = z.object({ urn: z.string(), changed: z.boolean(), rule: ruleSchema });

export const qualityDisableRule = defineTool({
  name: 'quality_disable_rule',
  title: 'Disable a data-quality rule',
  description:
    'Turns a rule off without losing it (stewards and owners): the scheduler stops running it, it no longer counts in ' +
    'the quality score, and an alert it raised is resolved. Its past results stay readable; quality_enable_rule turns ' +
    'it back on. Disabling a disabled rule changes nothing.',
  input: z.strictObject(ruleRef),
  output: toggled,
  annotations: idempotent,
  handler: async ({ urn, rule }, ctx) => {
    const result = await setRuleEnabled(ctx, urn, rule, false);
    return { urn, changed: result.changed, rule: ruleView(result.rule) };
  },
  render: (o) => `${o.changed ? 'Disabled' : 'Already disabled:'} rule on ${o.urn}:\n${renderRule(o.rule)}`,
});

export const qualityEnableRule = defineTool({
  name: 'quality_enable_rule',
  title: 'Enable a data-quality rule',
  description:
    'Turns a disabled rule back on (stewards and owners): the scheduler runs it again and its latest result counts in ' +
    'the score. Enabling an enabled rule changes nothing.',
  input: z.strictObject(ruleRef),
  output: toggled,
  annotations: idempotent,
  handler: async ({ urn, rule }, ctx) => {
    const result = await setRuleEnabled(ctx, urn, rule, true);
    return { urn, changed: result.changed, rule: ruleView(result.rule) };
  },
  render: (o) => `${o.changed ? 'Enabled' : 'Already enabled:'} rule on ${o.urn}:\n${renderRule(o.rule)}`,
});

export const qualityDeleteRule = defineTool({
  name: 'quality_delete_rule',
  title: 'Delete a data-quality rule',
  description:
    'Deletes a rule and its past results for good (stewards and owners), so its name can be used again. The audit log ' +
    'keeps its definition, how many results it had and its last verdict; scores already computed stay in the history. ' +
    'To keep its results readable, use quality_disable_rule instead.',
  input: z.strictObject(ruleRef),
  output: z.object({
    urn: z.string(),
    rule: ruleSchema,
    resultsRemoved: z.number(),
    lastResult: z.object({ passed: z.boolean(), ranAt: z.string() }).nullable(),
  }),
  annotations: destructive,
  handler: async ({ urn, rule }, ctx) => {
    const deleted = await deleteRule(ctx, urn, rule);
    return {
      urn,
      rule: ruleView(deleted.rule),
      resultsRemoved: deleted.resultsRemoved,
      lastResult: deleted.lastResult,
    };
  },
  render: (o) =>
    `Deleted rule "${o.rule.name}" of ${o.urn} with its ${o.resultsRemoved} past result${o.resultsRemoved === 1 ? '' : 's'}` +
    `${o.lastResult ? ` (last ${o.lastResult.passed ? 'passed' : 'failed'} at ${o.lastResult.ranAt})` : ''}; the audit log keeps its definition.`,
});
