import type { qualityRules } from '../../../db/schema/index.js';
import type { PipelineAnalysis } from '../analysis.js';
import { type CarryState, ruleStillHolds, traceColumn } from '../column-trace.js';
import { ancestors } from '../compile.js';
import type { NodeConfig, ValidateRule } from '../nodes/index.js';
import { describeRule } from '../nodes/validate-rules.js';

/** A quality rule as the publication stores it on the product's asset. */
export type PlannedRule = Required<
  Pick<
    typeof qualityRules.$inferInsert,
    'name' | 'type' | 'columnName' | 'config' | 'dimension' | 'severity' | 'threshold' | 'schedule' | 'enabled'
  >
>;

/**
 * The quality rules a destination inherits from the validate nodes upstream of it: a rule whose columns
 * reach the destination unchanged (renamed is fine for one-column rules), and still hold for its rows (a
 * join repeats rows, so `unique` does not survive it; an outer join adds nulls, so `not_null` does not).
 * A validate node that stops the run makes its rules critical; one that quarantines rows, warnings.
 */
export function pipelineRuleValues(analysis: PipelineAnalysis, destinationId: string, pipelineId: string) {
  const destination = analysis.nodes.get(destinationId)!;
  // Where each destination column is an unchanged copy of an earlier node's column, and how rows changed since.
  const copies = new Map<string, { column: string; state: CarryState }>();
  for (const column of destination.columns) {
    for (const [key, state] of traceColumn(analysis, destinationId, column.name).copies) {
      copies.set(key, { column: column.name, state });
    }
  }
  const rules: PlannedRule[] = [];
  for (const nodeId of ancestors(analysis, destinationId)) {
    const node = analysis.nodes.get(nodeId)!;
    if (node.type !== 'validate') continue;
    const config = node.config as NodeConfig<'validate'>;
    for (const [index, rule] of config.rules.entries()) {
      const planned = carry(rule, nodeId, copies, node.expressions.get(`rule:${index}`)?.columns ?? []);
      if (!planned) continue;
      rules.push({
        ...planned,
        name: `${nodeId}: ${describeRule(rule)}`.slice(0, 200),
        config: { ...planned.config, pipeline: { id: pipelineId, node: nodeId, rule: index } },
        severity: config.onFail === 'stop' ? 'critical' : 'warning',
        threshold: 1,
        schedule: null,
        enabled: true,
      });
    }
  }
  return rules;
}

function carry(
  rule: ValidateRule,
  nodeId: string,
  copies: Map<string, { column: string; state: CarryState }>,
  expressionColumns: string[],
): Pick<PlannedRule, 'type' | 'columnName' | 'config' | 'dimension'> | null {
  if (rule.check === 'expression') {
    // The expression names columns as the validate node saw them: each must arrive under the same name.
    const arrived = expressionColumns.map((c) => copies.get(`${nodeId}\u0000${c}`));
    const intact = arrived.every((a, i) => a && a.column === expressionColumns[i] && ruleStillHolds(rule, a.state));
    if (!intact) return null;
    return { type: 'expression', columnName: null, config: { expression: rule.expression }, dimension: 'validity' };
  }
  const arrived = copies.get(`${nodeId}\u0000${rule.column}`);
  if (!arrived || !ruleStillHolds(rule, arrived.state)) return null;
  const column = arrived.column;
  switch (rule.check) {
    case 'not_null':
      return { type: 'not_null', columnName: column, config: {}, dimension: 'completeness' };
    case 'unique':
      return { type: 'unique', columnName: column, config: {}, dimension: 'uniqueness' };
    case 'accepted_values':
      return { type: 'accepted_values', columnName: column, config: { values: rule.values }, dimension: 'validity' };
    case 'range':
      return {
        type: 'invalid',
        columnName: column,
        config: {
          ...(rule.min === undefined ? {} : { min: rule.min }),
          ...(rule.max === undefined ? {} : { max: rule.max }),
        },
        dimension: 'validity',
      };
  }
}
