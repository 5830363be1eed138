import { z } from 'zod';
import { sortKey } from './fields.js';
import { defineNode } from './node-module.js';
import { keepInput, orderBy, passThrough } from './shared.js';

export const sort = defineNode({
  type: 'sort',
  config: z
    .object({ by: z.array(sortKey).default([]), limit: z.number().int().min(1).max(10_000_000).optional() })
    .strict(),
  label: 'Sort / limit',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Orders rows and optionally keeps the first ones.',
  docs: {
    summary: 'Orders the rows by the given columns and, with a limit, keeps only the first ones.',
    fields: {
      by: 'The sort keys, in order: `column` and `direction` (asc or desc).',
      limit: 'How many rows to keep (the first in this order); all when left out.',
    },
    example: { by: [{ column: 'amount', direction: 'desc' }], limit: 10 },
  },
  analyze(a, _upstream, tools) {
    a.columns = keepInput(
      a.config.by.map((k) => k.column),
      tools,
    );
    return undefined;
  },
  compile(node, { d, all, input }) {
    const { by, limit } = node.config;
    const order = by.length ? ` order by ${orderBy(by, d)}` : '';
    return `select ${all} from ${input}${order}${limit ? ` ${d.limit(limit)}` : ''}`;
  },
  trace: passThrough,
});
