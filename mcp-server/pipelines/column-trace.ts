import type { NodeConfig, ValidateRule } from './graph.js';
import type { PipelineAnalysis } from './validate.js';

/**
 * Follows one output column of a node back through the graph: which node made it (a derive expression, an
 * aggregate, a mask) and, on the way, which earlier nodes' columns it is an unchanged copy of. What is
 * published about a destination column (its dictionary entry, the quality rules that still hold for it)
 * comes from this walk.
 */

/** How the rows between an earlier node and the destination may differ from that node's rows. */
export interface CarryState {
  /** A join on the way may repeat rows, so a value unique there need not be unique here. */
  repeated: boolean;
  /** An outer join on the way may put nulls where that node had none. */
  nullable: boolean;
}

export interface ColumnMaker {
  /** `source` (read from a dataset and carried), `derived`, `aggregate`, `masked`, or `computed` (another node type). */
  origin: 'source' | 'derived' | 'aggregate' | 'masked' | 'computed';
  node: string | null;
  expression: string | null;
}

export interface ColumnTrace {
  maker: ColumnMaker;
  /** `nodeId\0column` of every node whose output column this one is an unchanged copy of, with how rows changed since. */
  copies: Map<string, CarryState>;
}

/** Node types that pass every column through by name and only drop, order or keep rows. */
const rowKeeping = new Set([
  'filter',
  'sort',
  'deduplicate',
  'validate',
  'classify',
  'restrict',
  'profile',
  'destination_table',
]);

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
  const node = analysis.nodes.get(nodeId);
  if (!node) return { origin: 'computed', node: nodeId, expression: null };
  copies.set(`${nodeId}\u0000${column}`, state);
  const next = (input: string, name: string, change: Partial<CarryState> = {}) =>
    walk(
      analysis,
      input,
      name,
      { repeated: state.repeated || !!change.repeated, nullable: state.nullable || !!change.nullable },
      copies,
    );
  const input = node.inputs[0]!;
  if (rowKeeping.has(node.type)) return next(input, column);
  switch (node.type) {
    case 'source_dataset':
      return { origin: 'source', node: null, expression: null };
    case 'select': {
      const entry = (node.config as NodeConfig<'select'>).columns.find((c) => (c.as ?? c.column) === column);
      return entry ? next(input, entry.column) : { origin: 'computed', node: nodeId, expression: null };
    }
    case 'derive': {
      const derived = (node.config as NodeConfig<'derive'>).columns.find((c) => c.name === column);
      if (derived) return { origin: 'derived', node: nodeId, expression: derived.expression };
      return next(input, column);
    }
    case 'mask': {
      const masked = node.columns.find((c) => c.name === column)?.tags.includes('masked');
      if (masked) return { origin: 'masked', node: nodeId, expression: (node.config as NodeConfig<'mask'>).method };
      return next(input, column);
    }
    case 'aggregate': {
      const config = node.config as NodeConfig<'aggregate'>;
      const measure = config.measures.find((m) => m.name === column);
      if (!measure) return next(input, column);
      const over = measure.column ?? '*';
      const call = measure.fn === 'count_distinct' ? `count(distinct ${over})` : `${measure.fn}(${over})`;
      return { origin: 'aggregate', node: nodeId, expression: call };
    }
    case 'join': {
      const config = node.config as NodeConfig<'join'>;
      const [left, right] = node.inputs as [string, string];
      const merged = config.on.some((k) => k.left === column && k.right === column);
      // A full join's merged key is either side's value: a copy of neither.
      if (merged && config.kind === 'full') return { origin: 'computed', node: nodeId, expression: null };
      const index = node.columns.findIndex((c) => c.name === column);
      if (merged || index < node.leftWidth!) {
        return next(left, column, { repeated: true, nullable: config.kind === 'full' });
      }
      return next(right, column, { repeated: true, nullable: config.kind !== 'inner' });
    }
    case 'cleanse': {
      const cleansed = (node.config as NodeConfig<'cleanse'>).columns.find((c) => c.column === column);
      if (!cleansed) return next(input, column);
      return { origin: 'derived', node: nodeId, expression: cleansed.operations.map((o) => o.op).join(', then ') };
    }
    case 'enrich': {
      // A lookup never repeats input rows; a looked-up value may be missing (null) or shared by many rows.
      const looked = (node.config as NodeConfig<'enrich'>).columns.find((c) => (c.as ?? c.column) === column);
      if (!looked) return next(input, column);
      return next(node.inputs[1]!, looked.column, { repeated: true, nullable: true });
    }
    default:
      // A union mixes rows of several inputs; other node types compute their columns their own way.
      return { origin: 'computed', node: nodeId, expression: null };
  }
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
