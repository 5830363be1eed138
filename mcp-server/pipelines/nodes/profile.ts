import { z } from 'zod';
import { columnName } from './fields.js';
import { defineNode } from './node-module.js';
import { keepInput, passRows, passThrough } from './shared.js';

export const profile = defineNode({
  type: 'profile',
  config: z
    .object({ columns: z.array(columnName).default([]).describe('The columns profiled; empty means all') })
    .strict(),
  label: 'Profile',
  category: 'quality',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Records row counts, nulls, distinct values and ranges of the rows passing through.',
  docs: {
    summary:
      "Passes rows through unchanged and, in each run, records their count and, per column, nulls, distinct values and the least and greatest value in the run's `stats.profiles`.",
    fields: { columns: 'The columns profiled; empty means all.' },
    example: { columns: ['amount', 'region'] },
  },
  analyze(a, _upstream, tools) {
    a.columns = keepInput(a.config.columns, tools);
    return undefined;
  },
  compile: passRows,
  trace: passThrough,
});
