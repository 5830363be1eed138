import { z } from 'zod';
import { isDataOpsError } from '../../../core/errors.js';
import { type AnalyzedSourceQuery, analyzeSourceSql, qualifiedQueryText, renameRelations } from '../source-sql.js';
import { defineNode } from './node-module.js';

const config = z
  .object({
    source: z.string().min(1).max(200).describe('The name of the catalog source (database) the query runs on'),
    query: z.string().min(1).max(20_000).describe('One read-only SELECT over tables of that source'),
  })
  .strict();

export const sourceSql = defineNode({
  type: 'source_sql',
  config,
  label: 'SQL query',
  category: 'source',
  inputs: [],
  help: 'Reads the rows of one read-only SELECT over tables of a catalog source.',
  docs: {
    summary:
      'Runs one read-only SELECT on a Postgres source. It is parsed with the Postgres parser; every table it reads must be a catalog table or view you may see, and is sent qualified as `"schema"."name"`. Only Postgres\'s own functions are allowed, none volatile or looking up the database\'s catalog. Output columns and types are as the database describes the query, marked as high as the tables read; a column the lineage cannot trace is marked as high and as sensitive as anything read.',
    fields: {
      source: 'The name of the catalog source (database) the query runs on.',
      query: 'One SELECT over tables of that source; no volatile functions.',
    },
    example: { source: 'shop', query: 'select id, amount from public.orders where amount > 0' },
  },
  /** Checks each query against the catalog and its database; a problem becomes an issue on the node. */
  async preload(ctx, nodes, fail) {
    const found = new Map<string, AnalyzedSourceQuery>();
    for (const node of nodes) {
      const parsed = config.safeParse(node.data.config);
      if (!parsed.success) continue;
      try {
        found.set(node.id, await analyzeSourceSql(ctx, parsed.data));
      } catch (error) {
        if (!isDataOpsError(error)) throw error;
        fail(node, error.message);
      }
    }
    return found;
  },
  analyze(a, _upstream, { loaded }) {
    const query = loaded as AnalyzedSourceQuery | undefined;
    if (!query) return false;
    a.columns = query.columns;
    a.query = query.query;
    a.marking = query.marking;
    return undefined;
  },
  compile(node, { all, options }) {
    // Tables named "schema"."name" always: a bare `sales` would otherwise read a node (a CTE) called sales.
    const query = options.table ? renameRelations(node.query!, options.table) : qualifiedQueryText(node.query!);
    // On lines of its own, so a comment at the end of the query cannot swallow the closing parenthesis.
    return `select ${all} from (\n${query}\n) as q`;
  },
  trace: (node) => ({ origin: 'computed', node: node.node.id, expression: null }),
});
