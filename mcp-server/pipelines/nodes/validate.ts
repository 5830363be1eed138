import { z } from 'zod';
import { identifier } from '../identifiers.js';
import { defineNode } from './node-module.js';
import { passThrough } from './shared.js';
import { flaggedRows, ruleFlag, ruleSchema } from './validate-rules.js';

export const validate = defineNode({
  type: 'validate',
  config: z
    .object({
      rules: z.array(ruleSchema).min(1),
      onFail: z.enum(['stop', 'quarantine']).default('stop'),
      quarantineTable: z
        .object({ schema: identifier(), table: identifier() })
        .strict()
        .optional()
        .describe(
          'Where quarantined rows are kept, with the rules each broke and its run; by default beside the first destination table the node feeds, named <table>_quarantine',
        ),
    })
    .strict(),
  label: 'Validate',
  category: 'quality',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Checks rows against rules; stops the run or quarantines the rows that fail.',
  docs: {
    summary:
      'Checks every row against its rules. `stop` fails the run when any row breaks one; `quarantine` passes on the rows that keep every rule and appends the others, with the rules they broke, to a quarantine table. The quarantine table is by default `<destination table>_quarantine` beside the first destination the node feeds; each quarantining node has its own, unless two name one table and pass on the same columns, and columns a later version passes on are added to it. Rules that still hold at a destination are published with it as quality rules.',
    fields: {
      rules:
        'The checks: `not_null`, `unique`, `accepted_values` (with `values`), `range` (with `min` and/or `max`) on a `column`, or an `expression` that must not be false (with an optional `name`).',
      onFail: '`stop` (the default) or `quarantine`.',
      quarantineTable:
        'Where quarantined rows go (`schema`, `table`); by default `<destination table>_quarantine` beside the first destination table the node feeds.',
    },
    example: {
      rules: [
        { check: 'not_null', column: 'id' },
        { check: 'range', column: 'amount', min: 0 },
      ],
      onFail: 'quarantine',
    },
  },
  async analyze(a, _upstream, { need, expression, fail, input }) {
    for (const [i, rule] of a.config.rules.entries()) {
      if (rule.check === 'expression') await expression(`rule:${i}`, rule.expression);
      else need(rule.column);
      if (rule.check === 'range' && rule.min === undefined && rule.max === undefined) {
        fail(`rule ${i + 1} (range) needs a min or a max`);
      }
    }
    a.columns = input;
    return undefined;
  },
  compile(node, { d, all, input, ref }) {
    if (node.config.onFail === 'stop') return `select ${all} from ${input}`;
    const passes = node.config.rules.map((_, i) => ruleFlag(i, d)).join(' and ');
    return `select ${all} from (${flaggedRows(node, d, ref)}) as v where ${passes}`;
  },
  trace: passThrough,
});
