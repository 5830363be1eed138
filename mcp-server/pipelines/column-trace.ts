import type { PipelineAnalysis } from './analysis.js';
import { nodeModule, type ValidateRule } from './nodes/index.js';
import type { CarryState, ColumnMaker } from './nodes/node-module.js';

/**
 * Follows one output column of a node back through the graph: which node made it (a derive expression, an
 * aggregate, a mask) and, on the way, which earlier nodes' columns it is an unchanged copy of. What is
 * published about a destination column (its dictionary entry, the quality rules that still hold for it)
 * comes from this walk; each node type's module says where its columns come from.
 */

export type { CarryState, ColumnMaker } from './nodes/node-module.js';

export interface ColumnTrace {
  maker: ColumnMaker;
  /** `nodeId\0column` of every node whose output column this one is an unchanged copy of, with how rows changed since. */
  copies: Map<string, CarryState>;
}

export function traceColumn(analysis: PipelineAnalysis, nodeId: string, column: string): ColumnTrace {
  const copies = new Map<string, CarryState>();
  const maker = walk(analysis, nodeId, column, { repeated: false, nullable: false }, copies);
  return { maker, copies };
}

function walk(
  analysis: PipelineAnalysis,
  nodeId: string,
  column: string,
  state: CarryState,
  copies: Map<string, CarryState>,
): ColumnMaker {
  const computed: ColumnMaker = { origin: 'computed', node: nodeId, expression: null };
  const node = analysis.nodes.get(nodeId);
  if (!node) return computed;
  copies.set(`${nodeId}\u0000${column}`, state);
  return nodeModule(node.type).trace(node, column, {
    computed,
    next: (input, name, change = {}) =>
      walk(
        analysis,
        input,
        name,
        { repeated: state.repeated || !!change.repeated, nullable: state.nullable || !!change.nullable },
        copies,
      ),
  });
}

/** Whether a validate rule that held for `state`'s node still holds after the rows changed as `state` says. */
export function ruleStillHolds(rule: ValidateRule, state: CarryState): boolean {
  switch (rule.check) {
    case 'not_null':
      return !state.nullable;
    case 'unique':
      return !state.repeated;
    case 'accepted_values':
    case 'range':
      // Unknown passes these checks, so nulls an outer join adds do not break them.
      return true;
    case 'expression':
      return !state.nullable;
  }
}
