import type { columnKind } from '../../quality/profile-sql.js';
import type { SqlDialect } from '../dialect.js';
import type { PipelineColumn } from '../expressions.js';
import type { ColumnMaker, TraceTools } from './node-module.js';

/** Checks and SQL pieces several node types share. */

/** Types sum and avg refuse: a deny-list, so domains over numbers (`contracts.usd`) pass as their base type. */
export const nonNumeric = /^(text|character|char|varchar|boolean|date|time|uuid|json|bytea|interval)/;

/** Reports a column name that appears twice in a node's output, with how to fix it. */
export function duplicates(columns: PipelineColumn[], fail: (message: string) => void, fix: string): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) fail(`column \`${c.name}\` appears twice in its output; ${fix}`);
    seen.add(c.name);
  }
}

const temporalText =
  /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)?)?$|^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Why a literal cannot be a value of a column of `type`, or null when it can. */
export function literalProblem(
  value: string | number | boolean,
  type: string,
  kind: ReturnType<typeof columnKind>,
): string | null {
  switch (kind) {
    case 'number':
      if (typeof value !== 'number') return `the column is ${type}, so give a number`;
      if (/^(smallint|integer|bigint)/.test(type) && !Number.isInteger(value))
        return `the column is ${type}, so give a whole number`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : `the column is ${type}, so give true or false`;
    case 'temporal':
      if (typeof value === 'string' && temporalText.test(value)) return null;
      return `the column is ${type}, so write the value as text like 2024-01-31 or 2024-01-31 12:00:00`;
    default:
      return typeof value === 'string' ? null : `the column is ${type}, so give text`;
  }
}

export function orderBy(keys: { column: string; direction: 'asc' | 'desc' }[], d: SqlDialect): string {
  return keys.map((k) => `${d.quote(k.column)} ${k.direction}`).join(', ');
}

/** An aggregate call over a column (`*` when none). */
export function measureCall(fn: string, over: string): string {
  return fn === 'count_distinct' ? `count(distinct ${over})` : `${fn}(${over})`;
}

/** The trace of a node that passes every column through by name and only drops, orders or keeps rows. */
export function passThrough(node: { inputs: string[] }, column: string, tools: TraceTools): ColumnMaker {
  return tools.next(node.inputs[0]!, column);
}

/** The output of a node that passes its input's rows and columns on unchanged. */
export function passRows(_node: unknown, tools: { all: string; input: string }): string {
  return `select ${tools.all} from ${tools.input}`;
}

/** Output columns that are the input's, after the named ones are checked to exist. */
export function keepInput(columns: string[], tools: { input: PipelineColumn[]; need(c: string): unknown }) {
  for (const c of columns) tools.need(c);
  return tools.input;
}

/** How issues name a node: its id and type. */
export const describeNode = (node: { id: string; type: string }) => `node \`${node.id}\` (${node.type})`;
