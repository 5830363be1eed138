import { z } from 'zod';
import { identifier } from '../identifiers.js';

/** Config pieces several node types share, so each reads and validates the same way everywhere. */

export const columnName = identifier().describe('A column name');

export const expression = z
  .string()
  .min(1)
  .max(2000)
  .describe('A Postgres expression over the columns that reach the node');

export const sortKey = z.object({
  column: columnName,
  direction: z.enum(['asc', 'desc']).default('asc'),
});

export const measureFn = z.enum(['count', 'count_distinct', 'sum', 'avg', 'min', 'max']);

export const literal = z.union([z.string().max(1000), z.number(), z.boolean()]);

/** `input column = other input's column` pairs, as a join or lookup matches rows. */
export const keyPairs = z.array(z.object({ left: columnName, right: columnName }).strict()).min(1);

/** Columns picked from an input, each optionally renamed. */
export const pickedColumns = z.array(z.object({ column: columnName, as: columnName.optional() }).strict()).min(1);
