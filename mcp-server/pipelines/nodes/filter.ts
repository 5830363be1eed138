import { z } from 'zod';
import { expression } from './fields.js';
import { defineNode } from './node-module.js';
import { passThrough } from './shared.js';

export const filter = defineNode({
  type: 'filter',
  config: z.object({ condition: expression }).strict(),
  label: 'Filter',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Keeps the rows for which a condition holds.',
  docs: {
    summary: 'Keeps the rows for which a Postgres condition over the input columns is true.',
    fields: { condition: 'A boolean Postgres expression over the columns that reach the node.' },
    example: { condition: "amount > 100 and status = 'paid'" },
  },
  async analyze(a, _upstream, tools) {
    await tools.expression('condition', a.config.condition);
    a.columns = tools.input;
    return undefined;
  },
  compile: (_node, { all, input, expr }) => `select ${all} from ${input} where ${expr('condition')}`,
  trace: passThrough,
});
