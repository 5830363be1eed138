import { z } from 'zod';
import { classificationLevels } from '../../../db/schema/types.js';
import { defineNode } from './node-module.js';
import { passRows, passThrough } from './shared.js';

/** A restrict node passes rows through unchanged and narrows who may see what the pipeline publishes. */
export const restrict = defineNode({
  type: 'restrict',
  config: z
    .object({
      domain: z
        .string()
        .min(1)
        .max(100)
        .optional()
        .describe('A restricted domain: only its members may see the published output'),
      clearance: z.enum(classificationLevels).optional().describe('The clearance needed to see the published output'),
    })
    .strict(),
  label: 'Restrict',
  category: 'governance',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Limits who may see the published output: a restricted domain, a clearance, or both.',
  docs: {
    summary:
      'Places the published output in a restricted domain (only its members see it) and/or requires a clearance to see it. Rows pass unchanged; a destination reads from at most one restricted domain.',
    fields: {
      domain: 'A restricted domain of the workspace.',
      clearance: 'The clearance (U, C, S, TS) needed to see the output.',
    },
    example: { domain: 'finance', clearance: 'C' },
  },
  analyze(a, upstream, { fail }) {
    a.columns = [...upstream[0]!.columns];
    if (!a.config.domain && !a.config.clearance) {
      fail('say who may see the output: set `domain` (a restricted domain), `clearance` (a marking), or both');
    }
    return undefined;
  },
  raisesMarking: (config) => config.clearance,
  compile: passRows,
  trace: passThrough,
});
