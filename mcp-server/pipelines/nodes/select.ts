import { z } from 'zod';
import { pickedColumns } from './fields.js';
import { defineNode } from './node-module.js';
import { duplicates } from './shared.js';

export const select = defineNode({
  type: 'select',
  config: z.object({ columns: pickedColumns }).strict(),
  label: 'Select columns',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Keeps, orders and renames columns.',
  docs: {
    summary: 'Keeps the listed columns, in the order listed, each optionally renamed; the others are dropped.',
    fields: { columns: 'The columns kept: `column`, and `as` to rename it.' },
    example: { columns: [{ column: 'id' }, { column: 'amount', as: 'amount_usd' }] },
  },
  analyze(a, _upstream, { need, fail }) {
    a.columns = [];
    for (const { column, as } of a.config.columns) {
      const found = need(column);
      if (found) a.columns.push({ ...found, name: as ?? column });
    }
    duplicates(a.columns, fail, 'rename one with `as`');
    return undefined;
  },
  compile(node, { d, input }) {
    const q = d.quote;
    return `select ${node.config.columns.map((c) => `${q(c.column)} as ${q(c.as ?? c.column)}`).join(', ')} from ${input}`;
  },
  trace(node, column, { next, computed }) {
    const entry = node.config.columns.find((c) => (c.as ?? c.column) === column);
    return entry ? next(node.inputs[0]!, entry.column) : computed;
  },
});
