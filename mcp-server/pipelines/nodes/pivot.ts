import { z } from 'zod';
import { columnKind } from '../../quality/profile-sql.js';
import { aggregateType, derivedMetadata } from '../expressions.js';
import { columnName, literal, measureFn } from './fields.js';
import { defineNode } from './node-module.js';
import { literalProblem, measureCall, nonNumeric } from './shared.js';

/**
 * Output column names for pivoted values: the value in lower case with anything but letters, digits and _
 * turned into _, made unique against the row keys and each other (`east`, `east_2`).
 */
export function pivotColumnNames(values: (string | number | boolean)[], taken: Set<string>): string[] {
  const used = new Set(taken);
  return values.map((value) => {
    const stem =
      String(value)
        .toLowerCase()
        .replace(/[^a-z0-9_]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, 58) || 'value';
    let name = stem;
    for (let i = 2; used.has(name); i++) name = `${stem}_${i}`;
    used.add(name);
    return name;
  });
}

export const pivot = defineNode({
  type: 'pivot',
  config: z
    .object({
      rowKeys: z.array(columnName).default([]).describe('The columns that identify an output row'),
      column: columnName.describe('The column whose values become output columns'),
      values: z.array(literal).min(1).max(200).describe('The values of `column` that become columns, in order'),
      measure: z
        .object({ fn: measureFn, column: columnName.optional().describe('The column measured; omit for count(*)') })
        .strict(),
    })
    .strict(),
  label: 'Pivot',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Turns values of a column into columns, one measure each.',
  docs: {
    summary:
      'One row per combination of `rowKeys`, with a column per listed value of `column` holding the measure over the rows with that value (`fn(col) filter (where column = value)`). Column names are the values in lower case, made safe and unique (`east`, `west`, `east_2`).',
    fields: {
      rowKeys: 'The columns that identify an output row.',
      column: 'The column whose values become output columns.',
      values: 'The values that become columns, in order.',
      measure:
        'What each cell holds: `fn` (count, count_distinct, sum, avg, min, max) over `column` (omit for count(*)).',
    },
    example: {
      rowKeys: ['year'],
      column: 'region',
      values: ['east', 'west'],
      measure: { fn: 'sum', column: 'amount' },
    },
  },
  analyze(a, _upstream, { need, fail }) {
    const config = a.config;
    a.columns = [];
    const keys = new Set<string>();
    for (const key of config.rowKeys) {
      // A key twice would be one output column twice; the pivoted column as a key leaves one value per row.
      if (keys.has(key)) fail(`row key \`${key}\` is listed twice; list each row key once`);
      else if (key === config.column)
        fail(
          `row key \`${key}\` is also the column whose values become columns; pivot another column or leave it out of rowKeys`,
        );
      keys.add(key);
      const found = need(key);
      if (found && !a.columns.some((c) => c.name === key)) a.columns.push(found);
    }
    const pivoted = need(config.column);
    const { fn, column } = config.measure;
    if (!column && fn !== 'count') fail(`the measure (${fn}) needs a column`);
    const measured = column ? need(column) : undefined;
    if (!pivoted || (column && !measured)) return undefined;
    const kind = columnKind('postgres', pivoted.type);
    for (const value of config.values) {
      const problem = literalProblem(value, pivoted.type, kind);
      if (problem) fail(`value ${JSON.stringify(value)} cannot be a value of \`${pivoted.name}\`: ${problem}`);
    }
    if ((fn === 'sum' || fn === 'avg') && measured && nonNumeric.test(measured.type)) {
      fail(`the measure ${fn} needs numbers but \`${measured.name}\` is ${measured.type}`);
      return undefined;
    }
    const counted = fn === 'count' || fn === 'count_distinct';
    const metadata =
      counted || !measured ? { sensitivity: null, classification: null, tags: [] } : derivedMetadata([measured]);
    for (const name of pivotColumnNames(config.values, new Set(config.rowKeys))) {
      a.columns.push({ name, type: aggregateType(fn, measured?.type), ...metadata });
    }
    return undefined;
  },
  compile(node, { d, input }) {
    const q = d.quote;
    const config = node.config;
    const keys = config.rowKeys.map(q);
    const measured = config.measure.column ? q(config.measure.column) : '*';
    const pivoted = node.columns.slice(keys.length).map((c, i) => {
      const where = `${q(config.column)} = ${d.literal(config.values[i]!)}`;
      return `${measureCall(config.measure.fn, measured)} filter (where ${where}) as ${q(c.name)}`;
    });
    const group = keys.length ? ` group by ${keys.join(', ')}` : '';
    return `select ${[...keys, ...pivoted].join(', ')} from ${input}${group}`;
  },
  trace: (_node, _column, { computed }) => computed,
});
