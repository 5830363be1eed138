import { z } from 'zod';
import { aggregateType, derivedMetadata } from '../expressions.js';
import { columnName, measureFn } from './fields.js';
import { defineNode } from './node-module.js';
import { duplicates, measureCall, nonNumeric } from './shared.js';

export const aggregate = defineNode({
  type: 'aggregate',
  config: z
    .object({
      groupBy: z.array(columnName).default([]),
      measures: z
        .array(
          z
            .object({
              name: columnName,
              fn: measureFn,
              column: columnName.optional().describe('The column measured; omit for count(*)'),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
  label: 'Aggregate',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Groups rows and computes counts, sums, averages, minima and maxima.',
  docs: {
    summary:
      'One row per group of `groupBy` values (one row in all when there is none), with the group columns and one column per measure.',
    fields: {
      groupBy: 'The columns that form a group.',
      measures:
        'The columns computed per group: `name`, `fn` (count, count_distinct, sum, avg, min, max) and the `column` measured (omit for count(*)).',
    },
    example: { groupBy: ['region'], measures: [{ name: 'total', fn: 'sum', column: 'amount' }] },
  },
  analyze(a, _upstream, { need, fail }) {
    a.columns = [];
    for (const g of a.config.groupBy) {
      const found = need(g);
      if (found) a.columns.push(found);
    }
    for (const m of a.config.measures) {
      if (!m.column && m.fn !== 'count') {
        fail(`measure \`${m.name}\` (${m.fn}) needs a column`);
        continue;
      }
      const measured = m.column ? need(m.column) : undefined;
      if (m.column && !measured) continue;
      if ((m.fn === 'sum' || m.fn === 'avg') && measured && nonNumeric.test(measured.type)) {
        fail(`measure \`${m.name}\`: ${m.fn} needs numbers but \`${measured.name}\` is ${measured.type}`);
        continue;
      }
      const counted = m.fn === 'count' || m.fn === 'count_distinct';
      a.columns.push({
        name: m.name,
        type: aggregateType(m.fn, measured?.type),
        ...(counted || !measured ? { sensitivity: null, classification: null, tags: [] } : derivedMetadata([measured])),
      });
    }
    duplicates(a.columns, fail, 'give the measure another name');
    return undefined;
  },
  compile(node, { d, input }) {
    const q = d.quote;
    const measures = node.config.measures.map(
      (m) => `${measureCall(m.fn, m.column ? q(m.column) : '*')} as ${q(m.name)}`,
    );
    const groups = node.config.groupBy.map(q);
    const group = groups.length ? ` group by ${groups.join(', ')}` : '';
    return `select ${[...groups, ...measures].join(', ')} from ${input}${group}`;
  },
  trace(node, column, { next }) {
    const measure = node.config.measures.find((m) => m.name === column);
    if (!measure) return next(node.inputs[0]!, column);
    return { origin: 'aggregate', node: node.node.id, expression: measureCall(measure.fn, measure.column ?? '*') };
  },
});
