import { z } from 'zod';
import { unknownColumn } from '../expressions.js';
import { keyPairs } from './fields.js';
import { defineNode } from './node-module.js';
import { duplicates } from './shared.js';

export const join = defineNode({
  type: 'join',
  config: z.object({ kind: z.enum(['inner', 'left', 'full']).default('inner'), on: keyPairs }).strict(),
  label: 'Join',
  category: 'transform',
  inputs: [
    { handle: 'left', label: 'Left', arity: 'one' },
    { handle: 'right', label: 'Right', arity: 'one' },
  ],
  help: 'Joins two inputs on key columns.',
  docs: {
    summary:
      "Joins the left and right inputs where their key columns are equal. The output has the left input's columns, then the right's; a key of the same name on both sides appears once.",
    fields: {
      kind: '`inner` (rows on both sides), `left` (every left row) or `full` (every row of either side).',
      on: 'The key pairs: `left` column = `right` column.',
    },
    example: { kind: 'left', on: [{ left: 'customer_id', right: 'customer_id' }] },
  },
  analyze(a, upstream, { find, fail }) {
    const [left, right] = [upstream[0]!.columns, upstream[1]!.columns];
    for (const key of a.config.on) {
      const names = (columns: typeof left) => columns.map((c) => c.name);
      if (!find(key.left, left)) fail(`left key ${unknownColumn(key.left, names(left))}`);
      if (!find(key.right, right)) fail(`right key ${unknownColumn(key.right, names(right))}`);
    }
    const merged = new Set(a.config.on.filter((k) => k.left === k.right).map((k) => k.left));
    a.columns = [...left, ...right.filter((c) => !merged.has(c.name))];
    a.leftWidth = left.length;
    duplicates(a.columns, fail, 'rename it on one side with a select node before the join');
    return undefined;
  },
  compile(node, { d, ref }) {
    const q = d.quote;
    const { kind, on } = node.config;
    const merged = new Set(on.filter((k) => k.left === k.right).map((k) => k.left));
    const [leftInput, rightInput] = node.inputs as [string, string];
    const list = node.columns.map((c, i) => {
      if (merged.has(c.name)) {
        return kind === 'full' ? `coalesce(l.${q(c.name)}, r.${q(c.name)}) as ${q(c.name)}` : `l.${q(c.name)}`;
      }
      return `${i < node.leftWidth! ? 'l' : 'r'}.${q(c.name)}`;
    });
    const condition = on.map((k) => `l.${q(k.left)} = r.${q(k.right)}`).join(' and ');
    return `select ${list.join(', ')} from ${ref(leftInput)} as l ${kind} join ${ref(rightInput)} as r on ${condition}`;
  },
  trace(node, column, { next, computed }) {
    const { kind, on } = node.config;
    const [left, right] = node.inputs as [string, string];
    const merged = on.some((k) => k.left === column && k.right === column);
    // A full join's merged key is either side's value: a copy of neither.
    if (merged && kind === 'full') return computed;
    const index = node.columns.findIndex((c) => c.name === column);
    if (merged || index < node.leftWidth!) return next(left, column, { repeated: true, nullable: kind === 'full' });
    return next(right, column, { repeated: true, nullable: kind !== 'inner' });
  },
});
