import { z } from 'zod';
import { renderExpression } from '../../quality/rules-expression.js';
import { columnList, helperPrefix, type SqlDialect } from '../dialect.js';
import { columnName, expression } from './fields.js';
import type { NodeInAnalysis } from './node-module.js';

/** The rules a validate node checks, how each is written in SQL and how it reads in words. */

export const ruleSchema = z.discriminatedUnion('check', [
  z.object({ check: z.literal('not_null'), column: columnName }),
  z.object({ check: z.literal('unique'), column: columnName }),
  z.object({
    check: z.literal('accepted_values'),
    column: columnName,
    values: z.array(z.union([z.string(), z.number()])).min(1),
  }),
  z.object({
    check: z.literal('range'),
    column: columnName,
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.object({ check: z.literal('expression'), expression, name: z.string().max(100).optional() }),
]);
export type ValidateRule = z.infer<typeof ruleSchema>;

/** The helper column holding whether a row passes rule `index`. */
export const ruleFlag = (index: number, d: SqlDialect) => d.quote(`${helperPrefix}rule_${index}`);

/** A boolean SQL expression: true when the row passes `rule` (unknown passes, as in dbt). */
export function rulePasses(node: NodeInAnalysis, rule: ValidateRule, index: number, d: SqlDialect): string {
  if (rule.check === 'expression') {
    const text = renderExpression(node.expressions.get(`rule:${index}`)!, 'postgres', (v) => d.literal(v as string));
    return `(${text} is not false)`;
  }
  const c = d.quote(rule.column);
  switch (rule.check) {
    case 'not_null':
      return `(${c} is not null)`;
    case 'unique':
      return `(${c} is null or count(*) over (partition by ${c}) = 1)`;
    case 'accepted_values':
      return `((${c} in (${rule.values.map((v) => d.literal(v)).join(', ')})) is not false)`;
    case 'range': {
      const bounds = [
        rule.min === undefined ? null : `${c} >= ${d.literal(rule.min)}`,
        rule.max === undefined ? null : `${c} <= ${d.literal(rule.max)}`,
      ].filter(Boolean);
      return `((${bounds.join(' and ')}) is not false)`;
    }
  }
}

/** The validate node's input with one boolean per rule: true when the row passes it (unknown passes, as in dbt). */
export function flaggedRows(node: NodeInAnalysis, d: SqlDialect, ref: (nodeId: string) => string = d.quote): string {
  const rules = node.config.rules as ValidateRule[];
  const flags = rules.map((rule, i) => `${rulePasses(node, rule, i, d)} as ${ruleFlag(i, d)}`);
  return `select ${columnList(node.columns, d)}, ${flags.join(', ')} from ${ref(node.inputs[0]!)}`;
}

/** A rule in words, for run errors and explanations. */
export function describeRule(rule: ValidateRule): string {
  switch (rule.check) {
    case 'not_null':
      return `${rule.column} is not null`;
    case 'unique':
      return `${rule.column} is unique`;
    case 'accepted_values':
      return `${rule.column} in (${rule.values.join(', ')})`;
    case 'range':
      return `${rule.column} between ${rule.min ?? '-∞'} and ${rule.max ?? '∞'}`;
    case 'expression':
      return rule.name ?? rule.expression;
  }
}
