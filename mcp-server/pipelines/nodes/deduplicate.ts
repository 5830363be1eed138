import { z } from 'zod';
import { helperPrefix } from '../dialect.js';
import { columnName, sortKey } from './fields.js';
import { defineNode } from './node-module.js';
import { keepInput, orderBy, passThrough } from './shared.js';

export const deduplicate = defineNode({
  type: 'deduplicate',
  config: z
    .object({
      columns: z.array(columnName).default([]).describe('The key; empty means whole rows'),
      keep: z.array(sortKey).default([]).describe('Which row of each key to keep: the first in this order'),
    })
    .strict(),
  label: 'Deduplicate',
  category: 'quality',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Keeps one row per key (or drops repeated whole rows).',
  docs: {
    summary:
      'Keeps one row per key: the first in the `keep` order. With no key, drops rows that repeat another row entirely.',
    fields: {
      columns: 'The key columns; empty means whole rows.',
      keep: 'Which row of each key to keep: the first in this order (`column`, `direction`).',
    },
    example: { columns: ['customer_id'], keep: [{ column: 'updated_at', direction: 'desc' }] },
  },
  analyze(a, _upstream, tools) {
    const { columns, keep } = a.config;
    a.columns = keepInput([...columns, ...keep.map((k) => k.column)], tools);
    if (columns.length === 0 && keep.length > 0) {
      tools.fail('`keep` picks one row per key, but no key is set; name the key columns in `columns`');
    }
    return undefined;
  },
  compile(node, { d, all, input }) {
    const { columns, keep } = node.config;
    if (columns.length === 0) return `select distinct ${all} from ${input}`;
    const row = d.quote(`${helperPrefix}row`);
    const order = keep.length ? ` order by ${orderBy(keep, d)}` : '';
    return `select ${all} from (select ${all}, row_number() over (partition by ${columns.map(d.quote).join(', ')}${order}) as ${row} from ${input}) as d where ${row} = 1`;
  },
  trace: passThrough,
});
