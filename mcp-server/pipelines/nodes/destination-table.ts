import { z } from 'zod';
import { identifier } from '../identifiers.js';
import { systemSchemaProblem } from '../system-schemas.js';
import { columnName } from './fields.js';
import { defineNode } from './node-module.js';
import { keepInput, passRows, passThrough } from './shared.js';

export const destinationTable = defineNode({
  type: 'destination_table',
  config: z
    .object({
      schema: identifier().default('public'),
      table: identifier(),
      mode: z.enum(['create', 'replace', 'append', 'upsert']).default('replace'),
      key: z.array(columnName).default([]).describe('Upsert key'),
    })
    .strict(),
  label: 'Table',
  category: 'destination',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Writes the rows to a table of the source database, published to the catalog.',
  docs: {
    summary:
      'Writes the rows to a table in the source database: `<table>_dev` in dev runs, the table itself in prod, where a run also publishes it to the catalog as a data product.',
    fields: {
      schema: 'The schema of the table (public by default); not a system schema.',
      table: 'The table name (at most 63 bytes).',
      mode: '`create` (fails if it exists), `replace` (the default), `append` or `upsert`.',
      key: 'For upsert: the columns that identify a row.',
    },
    example: { schema: 'analytics', table: 'orders_by_region', mode: 'replace' },
  },
  analyze(a, _upstream, tools) {
    const config = a.config;
    if (config.mode === 'upsert' && config.key.length === 0)
      tools.fail('an upsert needs a key; set config.key to the columns that identify a row');
    const system = systemSchemaProblem(config.schema, `its table ${config.schema}.${config.table}`);
    if (system) tools.fail(system);
    a.columns = keepInput(config.key, tools);
    return undefined;
  },
  compile: passRows,
  trace: passThrough,
});
