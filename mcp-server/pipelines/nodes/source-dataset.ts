import { asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../../../db/create-db.js';
import { columns as catalogColumns } from '../../../db/schema/index.js';
import type { Classification } from '../../../db/schema/types.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows, visibleAssetsSql } from '../../governance/access.js';
import type { PipelineColumn } from '../expressions.js';
import { defineNode } from './node-module.js';

interface Dataset {
  sourceId: string;
  table: { schema: string; name: string };
  columns: PipelineColumn[];
  marking: Classification;
}

/** Whether a catalog column's marking is within the caller's clearance. */
const availableTo =
  (ctx: ServiceContext) =>
  (column: { classification: Classification | null }): boolean =>
    column.classification === null || clearanceAllows(ctx.principal.clearance, column.classification);

export const sourceDataset = defineNode({
  type: 'source_dataset',
  config: z.object({ urn: z.string().min(1).max(2000).describe('The URN of a catalog table or view') }).strict(),
  label: 'Dataset',
  category: 'source',
  inputs: [],
  help: 'Reads a table or view of the catalog, with the columns you may see.',
  docs: {
    summary:
      'Reads a catalog table or view of a Postgres source. Columns marked above your clearance are not there for the pipeline; every dataset of a pipeline must be in one source database.',
    fields: { urn: 'The URN of the table or view (catalog_search finds it).' },
    example: { urn: 'urn:dataops:postgres:shop:public.orders' },
  },
  /**
   * Resolves dataset nodes to catalog assets the caller may see, with the columns it may see; an asset it may
   * not see reads as unknown, a column as one that does not exist.
   */
  async preload(ctx, nodes, fail) {
    const found = new Map<string, Dataset>();
    for (const node of nodes) {
      const urn = (node.data.config as { urn?: unknown }).urn;
      if (typeof urn !== 'string') continue;
      const [asset] = await queryRows<{
        id: string;
        source_id: string | null;
        kind: string;
        namespace: string;
        name: string;
        source_kind: string | null;
        classification: Classification;
      }>(
        ctx.db,
        sql`select a.id::text, a.source_id::text, a.kind, a.namespace, a.name, s.kind as source_kind,
              a.classification::text as classification
            from assets a left join sources s on s.id = a.source_id where a.urn = ${urn} and ${visibleAssetsSql(ctx.principal)}`,
      );
      if (!asset) {
        fail(node, `no asset ${urn}: search the catalog with catalog_search to find its URN`);
        continue;
      }
      if (!['table', 'view', 'materialized_view'].includes(asset.kind) || !asset.source_id) {
        fail(node, `${urn} is a ${asset.kind}, not a table or view of a database; a pipeline reads tables and views`);
        continue;
      }
      if (asset.source_kind !== 'postgres') {
        fail(node, `${urn} is in a ${asset.source_kind} source; pipelines run on Postgres sources for now`);
        continue;
      }
      const cols = await ctx.db
        .select()
        .from(catalogColumns)
        .where(eq(catalogColumns.assetId, asset.id))
        .orderBy(asc(catalogColumns.position));
      found.set(node.id, {
        sourceId: asset.source_id,
        table: { schema: asset.namespace, name: asset.name },
        marking: asset.classification,
        // A column marked above the caller's clearance is not there for its pipelines: not listed, not
        // referable, not read (a node's SQL names its columns), as everywhere else the asset is shown.
        columns: cols.filter(availableTo(ctx)).map((c) => ({
          name: c.name,
          type: c.dataType,
          sensitivity: c.sensitivity,
          classification: c.classification,
          tags: c.tags,
        })),
      });
    }
    return found;
  },
  analyze(a, _upstream, { loaded }) {
    const dataset = loaded as Dataset | undefined;
    if (!dataset) return false;
    a.columns = dataset.columns;
    a.table = dataset.table;
    a.marking = dataset.marking;
    return undefined;
  },
  compile(node, { all, options, d }) {
    const { schema, name } = node.table!;
    return `select ${all} from ${options.table ? options.table(schema, name) : `${d.quote(schema)}.${d.quote(name)}`}`;
  },
  trace: () => ({ origin: 'source', node: null, expression: null }),
});
