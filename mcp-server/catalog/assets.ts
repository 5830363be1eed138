import { and, asc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { activityEvents, assets, columns } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { enforcePolicies } from '../governance/policies.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { findVisibleAsset } from './find-visible-asset.js';
import { reindexAssets } from './search-index.js';

/** How many of an asset's visible columns have a known source column (a current DIRECT column mapping). */
export function columnsWithLineageSql(ctx: ServiceContext, assetId: SQL) {
  return sql`(select count(*) from columns k where k.asset_id = ${assetId} 
    and (k.classification is null or k.classification <= ${ctx.principal.clearance}::classification)
    and exists (select 1 from column_lineage c join lineage_edges e on e.id = c.edge_id
      where e.to_asset_id = k.asset_id and c.to_column = k.name and c.transformation_type = 'DIRECT'
        and e.kind = 'derives' and e.valid_to is null))::int`;
}

/** A column marked above the principal's clearance is left out, as if the table did not have it. */
export function visibleColumns(ctx: ServiceContext) {
  return sql`(${columns.classification} is null or ${columns.classification} <= ${ctx.principal.clearance}::classification)`;
}

/** A column as profiles and column listings show it. */
export function columnSummary(c: typeof columns.$inferSelect) {
  return {
    name: c.name,
    position: c.position,
    dataType: c.dataType,
    nullable: c.nullable,
    isPrimaryKey: c.isPrimaryKey,
    isForeignKey: c.isForeignKey,
    description: c.description,
    sensitivity: c.sensitivity,
    classification: c.classification,
  };
}

export interface ListColumnsRequest {
  urn: string;
  /** Case-insensitive substring of the column name or description. */
  filter?: string;
  sensitivity?: string;
  limit?: number;
  cursor?: string;
}

export async function listColumns(ctx: ServiceContext, request: ListColumnsRequest) {
  const asset = await findVisibleAsset(ctx, request.urn);
  const limit = request.limit ?? 50;
  const offset = request.cursor ? decodeCursor(request.cursor) : 0;
  const pattern = request.filter ? `%${request.filter.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : null;
  const where = and(
    eq(columns.assetId, asset.id),
    visibleColumns(ctx),
    pattern ? or(ilike(columns.name, pattern), ilike(columns.description, pattern)) : undefined,
    request.sensitivity ? eq(columns.sensitivity, request.sensitivity) : undefined,
  );
  const [total] = await ctx.db.select({ n: sql<number>`count(*)::int` }).from(columns).where(where);
  const rows = await ctx.db
    .select()
    .from(columns)
    .where(where)
    .orderBy(asc(columns.position))
    .limit(limit)
    .offset(offset);
  return {
    urn: asset.urn,
    total: total!.n,
    columns: rows.map(columnSummary),
    nextCursor: offset + limit < total!.n ? encodeCursor(offset + limit) : null,
  };
}

export interface AssetChanges {
  description?: string;
  owner?: string;
  addTags?: string[];
  removeTags?: string[];
}

/**
 * Curates an asset's description, owner and tags; needs a steward or owner role, or being the asset's
 * owner as the catalog records it (not a database role of the same name). Audited. Returns the warning
 * policies the asset leaves unmet.
 */
export async function updateAssetMetadata(ctx: ServiceContext, urn: string, changes: AssetChanges) {
  const visible = await findVisibleAsset(ctx, urn);
  if (Object.values(changes).every((v) => v === undefined)) {
    throw new DataOpsError(
      'invalid_input',
      'nothing to change: give a description, an owner, or tags to add or remove',
    );
  }
  const now = ctx.clock();
  const policyWarnings = await ctx.db.transaction(async (tx) => {
    // Locked, so two people adding tags at once both keep theirs.
    const [asset] = await tx.select().from(assets).where(eq(assets.id, visible.id)).for('update');
    const ownsIt = asset!.owner === ctx.principal.id && asset!.curatedFields.includes('owner');
    if (!ownsIt) requireRole(ctx.principal, `change ${asset!.qualifiedName}`, 'steward', 'owner');
    const curated = new Set(asset!.curatedFields);
    if (changes.description !== undefined) curated.add('description');
    if (changes.owner !== undefined) curated.add('owner');
    const before = { description: asset!.description, owner: asset!.owner, tags: asset!.tags };
    const after = {
      description: changes.description ?? asset!.description,
      owner: changes.owner ?? asset!.owner,
      tags: [...new Set([...asset!.tags.filter((t) => !changes.removeTags?.includes(t)), ...(changes.addTags ?? [])])],
    };
    await tx
      .update(assets)
      .set({ ...after, curatedFields: [...curated], updatedAt: now })
      .where(eq(assets.id, asset!.id));
    // Checked on the asset as the change leaves it: a blocking policy refuses (and rolls back) the update.
    const warnings = await enforcePolicies(tx, ctx, 'asset.update', [asset!.id]);
    await reindexAssets(tx, ctx.embedder, [asset!.id]);
    await tx.insert(activityEvents).values({
      assetId: asset!.id,
      type: 'metadata_updated',
      actorId: ctx.principal.id,
      summary: `${ctx.principal.displayName} updated ${describeChanges(changes)}`,
      details: { before, after },
      at: now,
    });
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'asset.update',
      targetUrn: urn,
      details: { before, after, ...(warnings.length > 0 ? { policyWarnings: warnings } : {}) },
      at: now,
    });
    return warnings;
  });
  return { policyWarnings };
}

function describeChanges(changes: AssetChanges): string {
  return [
    changes.description !== undefined ? 'the description' : '',
    changes.owner !== undefined ? `the owner to ${changes.owner}` : '',
    changes.addTags?.length ? `tags +${changes.addTags.join(', +')}` : '',
    changes.removeTags?.length ? `tags -${changes.removeTags.join(', -')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
