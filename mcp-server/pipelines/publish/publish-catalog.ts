import { and, eq, inArray, sql } from 'drizzle-orm';
import { canonicalJson } from '../../../core/canonical-json.js';
import { queryRows, type Tx, textArray } from '../../../db/create-db.js';
import {
  activityEvents,
  assets,
  type ChangelogEntry,
  classificationEvents,
  columns,
  type DataDictionaryEntry,
  dataProducts,
  qualityRules,
} from '../../../db/schema/index.js';
import type { Classification } from '../../../db/schema/types.js';
import { reindexAssets } from '../../catalog/search-index.js';
import { recordSchemaChange } from '../../catalog/sync-changes.js';
import type { ServiceContext } from '../../context.js';
import { appendAudit } from '../../governance/audit.js';
import { enforcePolicies } from '../../governance/policies.js';
import { describeWarning } from '../../governance/policy-rules.js';
import { level, propagateFrom, recordMarkingChange } from '../../governance/propagation.js';
import type { QueryLineage } from '../../lineage/sql-lineage.js';
import { replaceEdges } from '../../lineage/store.js';
import { viewEdges } from '../../lineage/view-lineage.js';
import type { AnalyzedNode } from '../analysis.js';
import { higher } from '../governance-nodes.js';
import type { LoadedPipeline } from '../store.js';
import type { PlannedRule } from './publish-rules.js';

/**
 * The catalog side of publishing one destination (publish.ts plans it): the asset, its columns, lineage,
 * rules and documentation, written inside the publication's one transaction.
 */

/** The tag that tells a data product apart (its kind stays `table`: see publish.ts). */
export const productTag = 'data-product';

/** Who edges and rules of a published product come from, in lineage and quality. */
const origin = 'pipeline';

export interface PublishedOutput {
  nodeId: string;
  urn: string;
  classification: Classification;
  domain: string | null;
  created: boolean;
  /** Warnings of policies the product does not meet yet (a blocking one refuses the publication). */
  policyWarnings: string[];
}

export interface SourceRow {
  id: string;
  name: string;
  kind: string;
  domainId: string | null;
}

export interface TableColumn {
  name: string;
  position: number;
  dataType: string;
  nullable: boolean;
  isPrimaryKey: boolean;
}

export interface Plan {
  node: AnalyzedNode;
  schema: string;
  table: string;
  urn: string;
  columns: TableColumn[];
  lineage: QueryLineage;
  dictionary: DataDictionaryEntry[];
  rules: PlannedRule[];
  marking: Classification;
  /** What classify and restrict nodes ask for: it applies even over a steward's standing downgrade. */
  requested: Classification | null;
  domain: string | null;
  rows: number | null;
}

/** Writes one product; activity and audit only when something a reader would notice changed. */
export async function writeProduct(
  tx: Tx,
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  source: SourceRow,
  plan: Plan,
  changelog: ChangelogEntry[],
  before: { version: number } | null,
  now: Date,
): Promise<PublishedOutput> {
  const { id, created, marking, raised } = await upsertAsset(tx, ctx, pipeline, source, plan, now);
  await upsertColumns(tx, ctx, id, plan, now);
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
    changelog,
    publishedBy: ctx.principal.id,
    publishedAt: now,
  };
  await tx
    .insert(dataProducts)
    .values({ assetId: id, ...record })
    .onConflictDoUpdate({ target: dataProducts.assetId, set: record });
  // A scheduled run publishes the same version again and again: that is no news for the asset's feed.
  if (created || raised || before?.version !== pipeline.version) {
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
  }
  await reindexAssets(tx, ctx.embedder, [id]);
  // Checked on the product as published: a blocking policy it breaks refuses (and rolls back) the publication.
  const warnings = await enforcePolicies(tx, ctx, 'asset.update', [id]);
  return {
    nodeId: plan.node.node.id,
    urn: plan.urn,
    classification: marking,
    domain: plan.domain,
    created,
    policyWarnings: warnings.map(describeWarning),
  };
}

/** Creates or updates the product's asset; its marking and domain only ever tighten here. */
async function upsertAsset(
  tx: Tx,
  ctx: ServiceContext,
  pipeline: LoadedPipeline,
  source: SourceRow,
  plan: Plan,
  now: Date,
): Promise<{ id: string; created: boolean; marking: Classification; raised: boolean }> {
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
    return { id: row!.id, created: true, marking: wanted, raised: false };
  }
  // A steward's downgrade (with its reason) stands until an input rises above what it was made against, as
  // in propagation; what the pipeline's own classify and restrict nodes ask for applies regardless.
  const [last] = await queryRows<{ kind: string; against: Classification | null }>(
    tx,
    sql`select kind, details->>'inputLevel' as against from classification_events
        where asset_id = ${existing.id} and column_name is null order by created_at desc, id desc limit 1`,
  );
  const standing = last?.kind === 'downgraded' && level(wanted) <= level(last.against ?? 'U');
  const marking = higher(existing.classification, standing ? plan.requested : wanted)!;
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
  return { id: existing.id, created: false, marking, raised: marking !== existing.classification };
}

/**
 * Makes the asset's columns those of the written table, with markings that only rise: the higher of what
 * the catalog had and what the pipeline carried; sensitivity and tags from the pipeline where it knows them.
 * Columns added, removed or retyped are recorded as a schema change, worded as a sync words it.
 */
async function upsertColumns(tx: Tx, ctx: ServiceContext, assetId: string, plan: Plan, now: Date): Promise<void> {
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
      updatedAt: now,
    };
    if (old) await tx.update(columns).set(values).where(eq(columns.id, old.id));
    else await tx.insert(columns).values({ assetId, ...values });
  }
  // A first publication of a table the catalog did not know yet is a creation, not a schema change.
  if (before.length === 0) return;
  const added = table.filter((c) => !before.some((b) => b.name === c.name));
  const retyped = table.flatMap((c) => {
    const old = before.find((b) => b.name === c.name);
    return old && old.dataType !== c.dataType ? [{ name: c.name, from: old.dataType, to: c.dataType }] : [];
  });
  await recordSchemaChange(tx, {
    assetId,
    actorId: ctx.principal.id,
    at: now,
    before,
    added: added.map((c) => ({ ...c, classification: carried.get(c.name)?.classification ?? null })),
    removed: gone,
    retyped,
  });
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
export async function retireDropped(tx: Tx, ctx: ServiceContext, pipelineId: string, kept: string[], now: Date) {
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
