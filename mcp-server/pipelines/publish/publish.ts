import { eq, sql } from 'drizzle-orm';
import { DataOpsError, isDataOpsError } from '../../../core/errors.js';
import { queryRows, textArray } from '../../../db/create-db.js';
import { assets, type DataDictionaryEntry, dataProducts, pipelines, sources } from '../../../db/schema/index.js';
import { assetUrn } from '../../catalog/urn.js';
import { withSourceReader } from '../../connectors/source-reader.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows, visibleAssetsSql } from '../../governance/access.js';
import {
  analyzeQuery,
  type QueryLineage,
  type RelationName,
  type ResolvedRelation,
} from '../../lineage/sql-lineage.js';
import type { AnalyzedNode, PipelineAnalysis } from '../analysis.js';
import { traceColumn } from '../column-trace.js';
import { compileNode } from '../compile.js';
import { postgresDialect } from '../dialect.js';
import { productDomains, requestedMarking } from '../governance-nodes.js';
import type { NodeConfig } from '../nodes/index.js';
import type { LoadedPipeline } from '../store.js';
import { buildChangelog } from './product-docs.js';
import {
  type Plan,
  type PublishedOutput,
  retireDropped,
  type SourceRow,
  type TableColumn,
  writeProduct,
} from './publish-catalog.js';
import { pipelineRuleValues } from './publish-rules.js';

/**
 * A pipeline run that publishes registers each destination's table in the catalog as a data product: the
 * asset the Postgres connector would make of that table (so a later sync of the source finds it, not a
 * copy), tagged `data-product`, owned by the pipeline's owner, marked at least as high as everything it is
 * built from, with lineage and column lineage from the compiled SQL, the quality rules of the validate nodes
 * that still hold for it, and a data dictionary and changelog. This file plans it; publish-catalog.ts writes
 * it, in one catalog transaction: all or nothing.
 *
 * Why a tag and not the `data_product` kind: a sync sets an asset's kind to what the source reports (a
 * table), and profiling, scheduled checks, the classifier and pipelines themselves read only tables and
 * views, so a product stays a `table` and is told apart by its tag and its row in data_products.
 */

export type { PublishedOutput };

/** Where a destination node's table is in the run's environment. */
export type TableOf = (config: NodeConfig<'destination_table'>) => { schema: string; table: string };

function destinations(analysis: PipelineAnalysis): AnalyzedNode[] {
  return [...analysis.nodes.values()].filter((n) => n.type === 'destination_table');
}

async function loadSource(ctx: ServiceContext, sourceId: string): Promise<SourceRow> {
  const [source] = await ctx.db
    .select({ id: sources.id, name: sources.name, kind: sources.kind, domainId: sources.domainId })
    .from(sources)
    .where(eq(sources.id, sourceId));
  if (!source) throw new DataOpsError('not_found', `no source with id ${sourceId}`);
  return source;
}

/**
 * Refuses, before anything is written, a publication that would put a product out of its publisher's own
 * sight, or its data out of its inputs' need-to-know: a marking above the publisher's clearance, a restricted
 * domain it is not a member of, or a catalog entry it may not see for one of this pipeline's own tables
 * (`own`, see written-tables.ts). Any other table with a catalog entry is not this pipeline's to write: the run
 * refuses it as taken, in the same words whether the caller may see the entry or not.
 */
export async function checkPublishable(
  ctx: ServiceContext,
  analysis: PipelineAnalysis,
  tableOf: TableOf,
  own: Set<string>,
) {
  const source = await loadSource(ctx, analysis.sourceId!);
  for (const node of destinations(analysis)) {
    // More than one restricted domain is a validation issue at the destination, so a run never gets here with it.
    const domains = await productDomains(ctx, analysis, node.node.id);
    for (const domain of domains) {
      if (!ctx.principal.domains.includes(domain)) {
        throw new DataOpsError(
          'forbidden',
          `${ctx.principal.id} may not publish into domain ${domain}: only its members may; ask an admin to add you, or restrict node \`${node.node.id}\`'s output to a domain you belong to`,
        );
      }
    }
    if (node.marking && !clearanceAllows(ctx.principal.clearance, node.marking)) {
      throw new DataOpsError(
        'forbidden',
        `you may not publish node \`${node.node.id}\`'s output marked ${node.marking}: it is above your clearance (${ctx.principal.clearance})`,
      );
    }
    // Columns are marked one by one too (a classify node may raise one); one above the publisher's clearance
    // would be hidden from it in its own product.
    const above = node.columns.find(
      (c) => c.classification && !clearanceAllows(ctx.principal.clearance, c.classification),
    );
    if (above) {
      throw new DataOpsError(
        'forbidden',
        `you may not publish column \`${above.name}\` of node \`${node.node.id}\`'s output marked ${above.classification}: it is above your clearance (${ctx.principal.clearance}); mark it no higher than ${ctx.principal.clearance}`,
      );
    }
    const { schema, table } = tableOf(node.config as NodeConfig<'destination_table'>);
    // Saying "hidden" of a name this pipeline did not write would tell a hidden asset from a missing one.
    if (!own.has(`${schema}.${table}`)) continue;
    const urn = assetUrn(source.kind, source.name, schema, table);
    const [hidden] = await queryRows<{ id: string }>(
      ctx.db,
      sql`select a.id::text from assets a where a.urn = ${urn} and not ${visibleAssetsSql(ctx.principal)}`,
    );
    if (hidden) {
      throw new DataOpsError(
        'forbidden',
        `${ctx.principal.id} may not publish ${schema}.${table}: ask a steward of source ${source.name} who may see all of it to run the pipeline`,
      );
    }
  }
}

/**
 * Publishes the destinations of a successful run; returns null, or the error that stopped it (the run then
 * counts as failed: its tables are written, but the catalog does not describe them yet). Publishing again
 * changes nothing that is already so.
 */
export async function publishRun(
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  analysis: PipelineAnalysis,
  written: Record<string, { rows: number; mode: string }>,
  tableOf: TableOf,
): Promise<{ published: PublishedOutput[]; error: string | null }> {
  try {
    return { published: await publishOutputs(ctx, pipeline, analysis, written, tableOf), error: null };
  } catch (failure) {
    const message = failure instanceof Error ? failure.message : String(failure);
    if (!isDataOpsError(failure)) ctx.logger.error('publishing a pipeline run failed', { error: message });
    return {
      published: [],
      error: `the outputs were written, but registering them in the catalog failed, so nothing was published: ${message}; run again to publish`,
    };
  }
}

async function publishOutputs(
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  analysis: PipelineAnalysis,
  written: Record<string, { rows: number; mode: string }>,
  tableOf: TableOf,
): Promise<PublishedOutput[]> {
  const source = await loadSource(ctx, analysis.sourceId!);
  const plans: Plan[] = [];
  for (const node of destinations(analysis)) {
    const { schema, table } = tableOf(node.config as NodeConfig<'destination_table'>);
    const lineage = await destinationLineage(ctx, source.id, analysis, node.node.id);
    const stat = written[node.node.id];
    const columns = await tableColumns(ctx, source.id, schema, table);
    plans.push({
      node,
      schema,
      table,
      urn: assetUrn(source.kind, source.name, schema, table),
      columns,
      lineage,
      dictionary: dictionaryOf(analysis, node, lineage, columns),
      rules: pipelineRuleValues(analysis, node.node.id, pipeline.id),
      marking: node.marking ?? 'U',
      requested: requestedMarking(analysis, node.node.id),
      // checkPublishable refused more than one before the run began.
      domain: [...(await productDomains(ctx, analysis, node.node.id))][0] ?? null,
      rows: stat && (stat.mode === 'replace' || stat.mode === 'create') ? stat.rows : null,
    });
  }
  const previous = await ctx.db.select().from(dataProducts).where(eq(dataProducts.pipelineId, pipeline.id));
  const changelogs = new Map<string, Awaited<ReturnType<typeof buildChangelog>>>();
  for (const plan of plans) {
    const before = previous.find((p) => p.nodeId === plan.node.node.id);
    const published = new Set((before?.changelog ?? []).filter((c) => c.published).map((c) => c.version));
    changelogs.set(
      plan.node.node.id,
      await buildChangelog(ctx, pipeline.id, plan.node.node.id, pipeline.version, published),
    );
  }
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const out: PublishedOutput[] = [];
    for (const plan of plans) {
      const before = previous.find((p) => p.nodeId === plan.node.node.id) ?? null;
      out.push(await writeProduct(tx, ctx, pipeline, source, plan, changelogs.get(plan.node.node.id)!, before, now));
    }
    await retireDropped(
      tx,
      ctx,
      pipeline.id,
      out.map((o) => o.urn),
      now,
    );
    const first = out[0];
    if (first) {
      const [asset] = await tx.select({ id: assets.id }).from(assets).where(eq(assets.urn, first.urn));
      await tx.update(pipelines).set({ outputAssetId: asset!.id }).where(eq(pipelines.id, pipeline.id));
    }
    return out;
  });
}

/** Column lineage of the destination's compiled SQL, its tables resolved to the source's catalog assets. */
async function destinationLineage(
  ctx: ServiceContext,
  sourceId: string,
  analysis: PipelineAnalysis,
  nodeId: string,
): Promise<QueryLineage> {
  // A stand-in salt: hash masks keep their shape, and the real salt never lands in stored lineage SQL.
  const text = compileNode(analysis, nodeId, { dialect: postgresDialect, salt: 'pipeline-salt' });
  const asked: RelationName[] = [];
  await analyzeQuery(text, (relation) => {
    asked.push(relation);
    return undefined;
  });
  const names = [...new Set(asked.map((r) => r.name))];
  const rows =
    names.length === 0
      ? []
      : await queryRows<{ id: string; namespace: string; name: string; columns: string[] }>(
          ctx.db,
          sql`select a.id::text, a.namespace, a.name,
                array(select c.name from columns c where c.asset_id = a.id order by c.position) as columns
              from assets a where a.source_id = ${sourceId} and a.name = any(${textArray(names)})`,
        );
  const byName = new Map<string, ResolvedRelation>(rows.map((r) => [`${r.namespace}.${r.name}`, r]));
  return analyzeQuery(text, ({ schema, name }) => {
    if (schema) return byName.get(`${schema}.${name}`);
    // Unqualified names read through the search path: public first, else the one table of that name.
    const matches = rows.filter((r) => r.name === name);
    return byName.get(`public.${name}`) ?? (matches.length === 1 ? matches[0] : undefined);
  });
}

/** The table's columns as the source's catalog lists them, the way the connector reads them. */
async function tableColumns(ctx: ServiceContext, sourceId: string, schema: string, table: string) {
  const q = postgresDialect.quote;
  const rows = await withSourceReader(ctx, sourceId, (reader) =>
    reader.query<{ name: string; position: number; data_type: string; nullable: boolean; is_primary_key: boolean }>(
      `select a.attname as name, a.attnum::int as position, format_type(a.atttypid, a.atttypmod) as data_type,
         not a.attnotnull as nullable,
         exists (select 1 from pg_index i where i.indrelid = a.attrelid and i.indisprimary
           and a.attnum = any(i.indkey)) as is_primary_key
       from pg_attribute a where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
       order by a.attnum`,
      [`${q(schema)}.${q(table)}`],
    ),
  );
  return rows.map((r) => ({
    name: r.name,
    position: Number(r.position),
    dataType: r.data_type,
    nullable: r.nullable,
    isPrimaryKey: r.is_primary_key,
  }));
}

/** Each output column's entry: its type as the table has it, its marking, and what made it from what. */
function dictionaryOf(
  analysis: PipelineAnalysis,
  node: AnalyzedNode,
  lineage: QueryLineage,
  table: TableColumn[],
): DataDictionaryEntry[] {
  return node.columns.map((column) => {
    const { maker } = traceColumn(analysis, node.node.id, column.name);
    const mapped = lineage.columns.find((c) => c.name === column.name);
    return {
      column: column.name,
      type: table.find((t) => t.name === column.name)?.dataType ?? column.type,
      classification: column.classification,
      sensitivity: column.sensitivity,
      origin: maker.origin,
      expression: maker.expression,
      node: maker.node,
      sources: (mapped?.sources ?? []).map((s) => ({ assetId: s.relation, column: s.column })),
    };
  });
}
