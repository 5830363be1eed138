import { z } from 'zod';
import { classificationLevels } from '../../../db/schema/types.js';
import { level } from '../../governance/propagation.js';
import { unknownColumn } from '../expressions.js';
import { columnName } from './fields.js';
import { defineNode } from './node-module.js';
import { passRows, passThrough } from './shared.js';

/**
 * A classify node passes rows through unchanged and raises the markings of what the pipeline publishes. A
 * marking only ever rises on its way through a pipeline: lowering one is a steward's decision with a reason
 * (governance_set_classification), never a side effect of an edit.
 */
export const classify = defineNode({
  type: 'classify',
  config: z
    .object({
      columns: z
        .array(z.object({ column: columnName, classification: z.enum(classificationLevels) }).strict())
        .default([])
        .describe('Markings for output columns; a marking may rise here, never fall below what reaches the node'),
      asset: z.enum(classificationLevels).optional().describe('The least marking of the published output'),
    })
    .strict(),
  label: 'Classify',
  category: 'governance',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Raises the classification marking of columns or of the whole output.',
  docs: {
    summary:
      'Marks output columns, or the published output as a whole, with a classification (U, C, S, TS). Markings only rise: a classify node never lowers what reaches it. Rows pass unchanged.',
    fields: {
      columns: 'Markings for output columns: `column` and `classification`.',
      asset: 'The least marking of the published output.',
    },
    example: { columns: [{ column: 'salary', classification: 'C' }], asset: 'C' },
  },
  analyze(a, upstream, { fail }) {
    const input = upstream[0]!;
    const config = a.config;
    a.columns = [...input.columns];
    if (config.columns.length === 0 && !config.asset) {
      fail('give `columns` to mark ([{column, classification}]) or an `asset` marking for the whole output');
    }
    if (config.asset && input.marking && level(config.asset) < level(input.marking)) {
      fail(
        `the data reaching it is marked ${input.marking}, so the output cannot be marked ${config.asset}; a classify node raises markings and never lowers them (mark it ${input.marking} or higher, or drop \`asset\`)`,
      );
    }
    for (const { column, classification } of config.columns) {
      const at = a.columns.findIndex((c) => c.name === column);
      if (at < 0) {
        fail(
          unknownColumn(
            column,
            a.columns.map((c) => c.name),
          ),
        );
        continue;
      }
      // A column without a marking of its own carries the marking of the data it is in.
      const current = a.columns[at]!.classification ?? input.marking ?? null;
      if (current && level(classification) < level(current)) {
        fail(
          `column \`${column}\` reaches it marked ${current}; a classify node raises markings and never lowers them, so mark it ${current} or higher (a steward lowers a published marking with governance_set_classification, giving a reason)`,
        );
        continue;
      }
      a.columns[at] = { ...a.columns[at]!, classification };
    }
    return undefined;
  },
  raisesMarking: (config) => config.asset,
  // Governance nodes change the marking and audience of what is published, never the rows.
  compile: passRows,
  trace: passThrough,
});
