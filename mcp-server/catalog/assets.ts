import { and, asc, desc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { activityEvents, assets, columns, sources } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { relatedAssetVisibleSql, requireRole, visibleAssetsSql } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { enforcePolicies } from '../governance/policies.js';
import { readProductDocumentation } from '../pipelines/publish/product-docs.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { reindexAssets } from './search-index.js';

type AssetRow = typeof assets.$inferSelect;

/** Loads an asset the principal may see; anything else is "not found", so existence never leaks. */
export async function findVisibleAsset(ctx: ServiceContext, urn: string): Promise<AssetRow> {
  const [row] = await queryRows<{ id: string }>(
    ctx.db,
    sql`select a.id::text from assets a where a.urn = ${urn} and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!row) {
    throw new DataOpsError('not_found', `no asset ${urn}: search the catalog with catalog_search to find its URN`);
  }
  const [asset] = await ctx.db.select().from(assets).where(eq(assets.id, row.id));
  return asset!;
}

/** Everything an asset page shows, in one call. */
export async function getAssetProfile(ctx: ServiceContext, urn: string, options: { columnLimit?: number } = {}) {
  const asset = await findVisibleAsset(ctx, urn);
  const columnLimit = options.columnLimit ?? 50;
  const [source] = asset.sourceId
    ? await ctx.db
        .select({ name: sources.name, kind: sources.kind })
        .from(sources)
        .where(eq(sources.id, asset.sourceId))
    : [];
  const columnRows = await ctx.db
    .select()
    .from(columns)
    .where(and(eq(columns.assetId, asset.id), visibleColumns(ctx)))
    .orderBy(asc(columns.position))
    .limit(columnLimit + 1);
  const [counts] = await queryRows<{
    columns: number;
    upstream: number;
    downstream: number;
    mapped: number;
    readsHidden: boolean;
    references: number;
    referencedBy: number;
    certification: string | null;
  }>(
    ctx.db,
    sql`select (select count(*) from columns where asset_id = ${asset.id} and ${visibleColumns(ctx)})::int as columns,
      ${neighbourCount(ctx, asset.id, 'derives', 'upstream')} as upstream,
      ${neighbourCount(ctx, asset.id, 'derives', 'downstream')} as downstream,
      ${columnsWithLineageSql(ctx, sql`${asset.id}::uuid`)} as mapped,
      exists (select 1 from lineage_edges e join assets a on a.id = e.from_asset_id
        where e.to_asset_id = ${asset.id} and e.kind = 'derives' and e.valid_to is null
          and not ${visibleAssetsSql(ctx.principal)}) as "readsHidden",
      ${neighbourCount(ctx, asset.id, 'references', 'downstream')} as "references",
      ${neighbourCount(ctx, asset.id, 'references', 'upstream')} as "referencedBy",
      (select string_agg(c.level, ', ' order by c.level) from certifications c
        where c.asset_id = ${asset.id} and c.status = 'approved'
          and (c.expires_at is null or c.expires_at > ${ctx.clock().toISOString()}::timestamptz)) as certification`,
  );
  const activity = await ctx.db
    .select({
      type: activityEvents.type,
      summary: activityEvents.summary,
      actor: activityEvents.actorId,
      at: activityEvents.at,
    })
    .from(activityEvents)
    .where(and(eq(activityEvents.assetId, asset.id), relatedAssetVisibleSql(activityEvents.details, ctx.principal)))
    .orderBy(desc(activityEvents.at), desc(activityEvents.id))
    .limit(10);
  const product = await readProductDocumentation(ctx, asset.id);
  return {
    urn: asset.urn,
    name: asset.name,
    qualifiedName: asset.qualifiedName,
    kind: asset.kind,
    status: asset.status,
    description: asset.description,
    owner: asset.owner,
    domain: asset.domainId,
    tags: asset.tags,
    classification: asset.classification,
    // Read now, not from assets.certification: a label past its expiry is gone before the lapse step runs.
    certification: counts!.certification,
    source: source ? { name: source.name, kind: source.kind } : null,
    stats: {
      rowCount: asset.rowCount,
      sizeBytes: asset.sizeBytes,
      lastModified: asset.lastModified?.toISOString() ?? null,
      columnCount: counts!.columns,
    },
    // A definition names every table the view reads: withheld when the reader may not see one of them.
    definition: counts!.readsHidden ? null : asset.definition,
    definitionWithheld: counts!.readsHidden && asset.definition !== null,
    properties: asset.properties,
    quality: { score: asset.qualityScore },
    ratings: { average: asset.ratingAverage, count: asset.ratingCount },
    usageCount: asset.usageCount,
    lineage: {
      upstream: counts!.upstream,
      downstream: counts!.downstream,
      coverage:
        counts!.upstream > 0 || asset.kind === 'view' || asset.kind === 'materialized_view'
          ? counts!.columns === 0
            ? 1
            : counts!.mapped / counts!.columns
          : null,
    },
    foreignKeys: { references: counts!.references, referencedBy: counts!.referencedBy },
    columns: columnRows.slice(0, columnLimit).map(columnSummary),
    columnsTruncated: columnRows.length > columnLimit,
    recentActivity: activity.map((a) => ({ ...a, at: a.at.toISOString() })),
    ...(product ? { dataProduct: productSummary(product) } : {}),
    updatedAt: asset.updatedAt.toISOString(),
  };
}

/** A product's documentation as a profile carries it: the dictionary and the latest changelog entries. */
function productSummary(doc: NonNullable<Awaited<ReturnType<typeof readProductDocumentation>>>) {
  const { pipeline, version, semver, publishedBy, publishedAt, dictionary, changelog } = doc;
  return { pipeline, version, semver, publishedBy, publishedAt, dictionary, changelog: changelog.slice(0, 10) };
}

/**
 * Visible neighbours over current edges. For `derives`, upstream assets feed this one; for
 * `references` (foreign keys), "downstream" means the tables this one points at.
 */
function neighbourCount(ctx: ServiceContext, assetId: string, kind: string, direction: 'upstream' | 'downstream') {
  const [self, other] = direction === 'upstream' ? ['to_asset_id', 'from_asset_id'] : ['from_asset_id', 'to_asset_id'];
  return sql`(select count(distinct a.id) from lineage_edges e join assets a on a.id = e.${sql.raw(other)}
    where e.${sql.raw(self)} = ${assetId} and e.kind = ${kind} and e.valid_to is null
      and ${visibleAssetsSql(ctx.principal)})::int`;
}

/** How many of an asset's visible columns have a known source column (a current DIRECT column mapping). */
export function columnsWithLineageSql(ctx: ServiceContext, assetId: SQL) {
  return sql`(select count(*) from columns k where k.asset_id = ${assetId} 
    and (k.classification is null or k.classification <= ${ctx.principal.clearance}::classification)
    and exists (select 1 from column_lineage c join lineage_edges e on e.id = c.edge_id
      where e.to_asset_id = k.asset_id and c.to_column = k.name and c.transformation_type = 'DIRECT'
        and e.kind = 'derives' and e.valid_to is null))::int`;
}

/** A column marked above the principal's clearance is left out, as if the table did not have it. */
function visibleColumns(ctx: ServiceContext) {
  return sql`(${columns.classification} is null or ${columns.classification} <= ${ctx.principal.clearance}::classification)`;
}

function columnSummary(c: typeof columns.$inferSelect) {
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
 * owner as the catalog records it (not a database role of the same name). Audited.
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
  return { ...(await getAssetProfile(ctx, urn)), policyWarnings };
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
