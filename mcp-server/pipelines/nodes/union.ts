import { z } from 'zod';
import type { PipelineColumn } from '../expressions.js';
import { defineNode } from './node-module.js';

export const union = defineNode({
  type: 'union',
  config: z.object({ distinct: z.boolean().default(false) }).strict(),
  label: 'Union',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'many', min: 2 }],
  help: 'Stacks the rows of two or more inputs with the same columns.',
  docs: {
    summary:
      'Stacks the rows of its inputs, which must have the same column names (in any order); the output takes the first input’s column order.',
    fields: { distinct: 'true drops rows that appear more than once; false (the default) keeps every row.' },
    example: { distinct: false },
  },
  analyze(a, upstream, { fail }) {
    const first = upstream[0]!.columns;
    a.columns = first;
    const names = (cols: PipelineColumn[]) =>
      cols
        .map((c) => c.name)
        .sort()
        .join(', ');
    for (const other of upstream.slice(1)) {
      if (names(first) !== names(other.columns)) {
        fail(
          `input \`${other.node.id}\` has columns ${names(other.columns)} but \`${upstream[0]!.node.id}\` has ${names(first)}; a union needs the same columns (select or rename them first)`,
        );
      }
    }
    return undefined;
  },
  compile: (node, { all, ref }) =>
    node.inputs.map((i) => `select ${all} from ${ref(i)}`).join(node.config.distinct ? ' union ' : ' union all '),
  // A union mixes rows of several inputs: no column is a copy of one input's.
  trace: (_node, _column, { computed }) => computed,
});
