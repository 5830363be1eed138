import { and, eq, inArray, sql } from 'drizzle-orm';
import { queryRows, type Tx, textArray } from '../../db/create-db.js';
import {
  activityEvents,
  assets,
  classificationEvents,
  columns,
  type DataDictionaryEntry,
  dataProducts,
  pipelines,
  qualityRules,
  sources,
} from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { reindexAssets } from '../catalog/search-index.js';
import { assetUrn } from '../catalog/urn.js';
import { withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { DataOpsError, isDataOpsError } from '../errors.js';
import { clearanceAllows, visibleAssetsSql } from '../governance/access.js';
import { appendAudit, canonicalJson } from '../governance/audit.js';
import { propagateFrom, recordMarkingChange } from '../governance/propagation.js';
import { analyzeQuery, type QueryLineage, type RelationName, type ResolvedRelation } from '../lineage/sql-lineage.js';
import { replaceEdges } from '../lineage/store.js';
import { viewEdges } from '../lineage/view-lineage.js';
import { traceColumn } from './column-trace.js';
import { compileNode, postgresDialect } from './compile.js';
import { higher, restrictedDomains } from './governance-nodes.js';
import type { NodeConfig } from './graph.js';
import { buildChangelog } from './product-docs.js';
import { type PlannedRule, pipelineRuleValues } from './publish-rules.js';
import type { LoadedPipeline } from './store.js';
import type { AnalyzedNode, PipelineAnalysis } from './validate.js';

/**
 * A pipeline run that publishes registers each destination's table in the catalog as a data product: the
 * asset the Postgres connector would make of that table (so a later sync of the source finds it, not a
 * copy), tagged `data-product`, owned by the pipeline's owner, marked at least as high as everything it is
 * built from, with lineage and column lineage from the compiled SQL, the quality rules of the validate nodes
 * that still hold for it, and a data dictionary and changelog. One catalog transaction: all or nothing.
 *
 * Why a tag and not the `data_product` kind: a sync sets an asset's kind to what the source reports (a
 * table), and profiling, scheduled checks, the classifier and pipelines themselves read only tables and
 * views, so a product stays a `table` and is told apart by its tag and its row in data_products.
 */

export const productTag = 'data-product';

/** Who edges and rules of a published product come from, in lineage and quality. */
const origin = 'pipeline';

export interface PublishedOutput {
  nodeId: string;
  urn: string;
  classification: Classification;
  domain: string | null;
  created: boolean;
}

/** Where a destination node's table is in the run's environment. */
export type TableOf = (config: NodeConfig<'destination_table'>) => { schema: string; table: string };

interface SourceRow {
  id: string;
  name: string;
  kind: string;
  domainId: string | null;
}

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
 * sight: a marking above the publisher's clearance, a restricted domain it is not a member of, or a catalog
 * entry for the table that it may not see.
 */
export async function checkPublishable(ctx: ServiceContext, analysis: PipelineAnalysis, tableOf: TableOf) {
  const source = await loadSource(ctx, analysis.sourceId!);
  for (const node of destinations(analysis)) {
    for (const domain of restrictedDomains(analysis, node.node.id)) {
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
    const { schema, table } = tableOf(node.config as NodeConfig<'destination_table'>);
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

interface Plan {
  node: AnalyzedNode;
  schema: string;
  table: string;
  urn: string;
  columns: TableColumn[];
  lineage: QueryLineage;
  dictionary: DataDictionaryEntry[];
  rules: PlannedRule[];
  marking: Classification;
  domain: string | null;
  rows: number | null;
}

interface TableColumn {
  name: string;
  position: number;
  dataType: string;
  nullable: boolean;
  isPrimaryKey: boolean;
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
    plans.push({
      node,
      schema,
      table,
      urn: assetUrn(source.kind, source.name, schema, table),
      columns: await tableColumns(ctx, source.id, schema, table),
      lineage,
      dictionary: dictionaryOf(analysis, node, lineage),
      rules: pipelineRuleValues(analysis, node.node.id, pipeline.id),
      marking: node.marking ?? 'U',
      domain: [...restrictedDomains(analysis, node.node.id)][0] ?? null,
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
      const { id, created, marking } = await upsertAsset(tx, ctx, pipeline, source, plan, now);
      await upsertColumns(tx, id, plan);
      const edges = viewEdges(plan.lineage, id, plan.urn).map((e) => ({
        ...e,
        properties: { pipeline: pipeline.id, version: pipeline.version, node: plan.node.node.id },
      }));
      await replaceEdges(tx, { origin, toAssetIds: [id] }, edges, now);
      await replaceRules(tx, ctx, id, plan.rules);
      const record = {
        pipelineId: pipeline.id,
        nodeId: plan.node.node.id,
        version: pipeline.version,
        semver: pipeline.semver,
        dictionary: plan.dictionary,
        changelog: changelogs.get(plan.node.node.id)!,
        publishedBy: ctx.principal.id,
        publishedAt: now,
      };
      await tx
        .insert(dataProducts)
        .values({ assetId: id, ...record })
        .onConflictDoUpdate({ target: dataProducts.assetId, set: record });
      // The pipeline's name is not in the line: everybody who may see the product reads it.
      await tx.insert(activityEvents).values({
        assetId: id,
        type: 'published',
        actorId: ctx.principal.id,
        summary: `${ctx.principal.displayName} published it as a data product (pipeline version ${pipeline.version}, ${pipeline.semver})`,
        details: { pipelineId: pipeline.id, version: pipeline.version, semver: pipeline.semver },
        at: now,
      });
      await appendAudit(tx, {
        actorId: ctx.principal.id,
        action: 'pipeline.publish',
        targetUrn: plan.urn,
        details: { pipelineId: pipeline.id, version: pipeline.version, node: plan.node.node.id, marking, created },
        at: now,
      });
      await reindexAssets(tx, ctx.embedder, [id]);
      out.push({ nodeId: plan.node.node.id, urn: plan.urn, classification: marking, domain: plan.domain, created });
    }
    const kept = out.map((o) => o.urn);
    await retireDropped(tx, ctx, pipeline.id, kept, now);
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

function dictionaryOf(analysis: PipelineAnalysis, node: AnalyzedNode, lineage: QueryLineage): DataDictionaryEntry[] {
  return node.columns.map((column) => {
    const { maker } = traceColumn(analysis, node.node.id, column.name);
    const mapped = lineage.columns.find((c) => c.name === column.name);
    return {
      column: column.name,
      type: column.type,
      classification: column.classification,
      sensitivity: column.sensitivity,
      origin: maker.origin,
      expression: maker.expression,
      node: maker.node,
      sources: (mapped?.sources ?? []).map((s) => ({ assetId: s.relation, column: s.column })),
    };
  });
}

/** Creates or updates the product's asset; its marking and domain only ever tighten here. */
async function upsertAsset(
  tx: Tx,
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  source: SourceRow,
  plan: Plan,
  now: Date,
): Promise<{ id: string; created: boolean; marking: Classification }> {
  const [inputs] = await queryRows<{ marking: Classification | null }>(
    tx,
    sql`select max(classification)::text as marking from assets
        where id = any(${textArray(plan.lineage.relations)}::uuid[])`,
  );
  const wanted = higher(plan.marking, inputs?.marking) ?? 'U';
  const [existing] = await tx.select().from(assets).where(eq(assets.urn, plan.urn)).for('update');
  const rowFacts = plan.rows === null ? {} : { rowCount: plan.rows };
  if (!existing) {
    const [row] = await tx
      .insert(assets)
      .values({
        urn: plan.urn,
        sourceId: source.id,
        domainId: plan.domain ?? source.domainId,
        kind: 'table',
        namespace: plan.schema,
        name: plan.table,
        qualifiedName: `${plan.schema}.${plan.table}`,
        description: pipeline.description,
        owner: pipeline.owner,
        tags: [productTag],
        classification: wanted,
        // The pipeline says what the product is and whose it is; a sync of the source must not reset that.
        curatedFields: ['description', 'owner'],
        lastModified: now,
        ...rowFacts,
        updatedAt: now,
      })
      .returning({ id: assets.id });
    await tx.insert(activityEvents).values({
      assetId: row!.id,
      type: 'created',
      actorId: ctx.principal.id,
      summary: `Created by a pipeline run with ${plan.columns.length} columns, marked ${wanted}`,
      at: now,
    });
    return { id: row!.id, created: true, marking: wanted };
  }
  const marking = higher(existing.classification, wanted)!;
  const curated = new Set([...existing.curatedFields, 'owner', ...(pipeline.description ? ['description'] : [])]);
  await tx
    .update(assets)
    .set({
      tags: [...new Set([...existing.tags, productTag])],
      owner: pipeline.owner,
      description: pipeline.description ?? existing.description,
      curatedFields: [...curated],
      classification: marking,
      // Placed in a restricted domain, never taken out of one: widening who may see data is a steward's call.
      domainId: plan.domain ?? existing.domainId,
      status: 'active',
      lastModified: now,
      ...rowFacts,
      updatedAt: now,
    })
    .where(eq(assets.id, existing.id));
  if (marking !== existing.classification) {
    const reason = 'its pipeline publishes data marked this high';
    await tx.insert(classificationEvents).values({
      assetId: existing.id,
      from: existing.classification,
      to: marking,
      kind: 'set',
      reason,
      details: { pipelineId: pipeline.id, version: pipeline.version },
      actorId: ctx.principal.id,
      createdAt: now,
    });
    await recordMarkingChange(
      tx,
      ctx.principal.id,
      ctx.principal.displayName,
      existing,
      existing.classification,
      marking,
      'set',
      reason,
      now,
    );
    await propagateFrom(tx, ctx.principal.id, [existing.id], now);
  }
  return { id: existing.id, created: false, marking };
}

/**
 * Makes the asset's columns those of the written table, with markings that only rise: the higher of what
 * the catalog had and what the pipeline carried; sensitivity and tags from the pipeline where it knows them.
 */
async function upsertColumns(tx: Tx, assetId: string, plan: Plan): Promise<void> {
  const carried = new Map(plan.node.columns.map((c) => [c.name, c]));
  const before = await tx.select().from(columns).where(eq(columns.assetId, assetId));
  const table = plan.columns.length > 0 ? plan.columns : fallbackColumns(plan.node);
  const gone = before.filter((c) => !table.some((t) => t.name === c.name));
  if (gone.length > 0) {
    await tx.delete(columns).where(
      inArray(
        columns.id,
        gone.map((c) => c.id),
      ),
    );
  }
  for (const column of table) {
    const old = before.find((c) => c.name === column.name);
    const from = carried.get(column.name);
    const values = {
      ...column,
      classification: higher(old?.classification, from?.classification),
      sensitivity: from?.sensitivity ?? old?.sensitivity ?? null,
      tags: [...new Set([...(old?.tags ?? []), ...(from?.tags ?? [])])],
      updatedAt: new Date(),
    };
    if (old) await tx.update(columns).set(values).where(eq(columns.id, old.id));
    else await tx.insert(columns).values({ assetId, ...values });
  }
}

/** The pipeline's view of the columns, when the table could not be read back (it always can after a run). */
function fallbackColumns(node: AnalyzedNode): TableColumn[] {
  return node.columns.map((c, i) => ({
    name: c.name,
    position: i + 1,
    dataType: c.type,
    nullable: true,
    isPrimaryKey: false,
  }));
}

/**
 * Makes the asset's pipeline rules those planned: new ones added, changed ones updated, ones the pipeline no
 * longer has disabled (their results stay, as for dbt tests that vanish).
 */
async function replaceRules(tx: Tx, ctx: ServiceContext, assetId: string, planned: PlannedRule[]): Promise<void> {
  const existing = await tx
    .select()
    .from(qualityRules)
    .where(and(eq(qualityRules.assetId, assetId), eq(qualityRules.origin, origin)));
  const seen = new Set<string>();
  for (const rule of planned) {
    if (seen.has(rule.name)) continue;
    seen.add(rule.name);
    const old = existing.find((r) => r.name === rule.name);
    if (!old) {
      await tx.insert(qualityRules).values({ ...rule, assetId, origin, createdBy: ctx.principal.id });
    } else if (canonicalJson(old) !== canonicalJson({ ...old, ...rule })) {
      await tx.update(qualityRules).set(rule).where(eq(qualityRules.id, old.id));
    }
  }
  const dropped = existing.filter((r) => !seen.has(r.name) && r.enabled).map((r) => r.id);
  if (dropped.length > 0) {
    await tx.update(qualityRules).set({ enabled: false }).where(inArray(qualityRules.id, dropped));
  }
}

/**
 * A destination the pipeline no longer has stops being its product: the tag, the pipeline's lineage and
 * rules go; the table and what people said about it stay in the catalog.
 */
async function retireDropped(tx: Tx, ctx: ServiceContext, pipelineId: string, kept: string[], now: Date) {
  const stale = await queryRows<{ id: string; tags: string[] }>(
    tx,
    sql`select a.id::text, a.tags from data_products p join assets a on a.id = p.asset_id
        where p.pipeline_id = ${pipelineId} and not (a.urn = any(${textArray(kept)}))`,
  );
  for (const asset of stale) {
    await tx.delete(dataProducts).where(eq(dataProducts.assetId, asset.id));
    await tx
      .update(assets)
      .set({ tags: asset.tags.filter((t) => t !== productTag), updatedAt: now })
      .where(eq(assets.id, asset.id));
    await replaceEdges(tx, { origin, toAssetIds: [asset.id] }, [], now);
    await replaceRules(tx, ctx, asset.id, []);
    await tx.insert(activityEvents).values({
      assetId: asset.id,
      type: 'unpublished',
      actorId: ctx.principal.id,
      summary: 'No longer published as a data product: its pipeline no longer writes it',
      at: now,
    });
  }
}
