import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { queryRows } from '../../db/create-db.js';
import { activityEvents, columns, sources } from '../../db/schema/index.js';
import { columnSummary, columnsWithLineageSql, visibleColumns } from '../catalog/assets.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { AssetProfile } from '../catalog/schemas.js';
import type { ServiceContext } from '../context.js';
import { relatedAssetVisibleSql, visibleAssetsSql } from '../governance/access.js';
import { readProductDocumentation } from '../pipelines/publish/product-docs.js';

/**
 * The asset profile: the catalog's record of an asset with its lineage counts, certification, quality
 * score, ratings, activity and, for a data product, its documentation. It reads several domains, so it
 * sits above them as a read model rather than inside the catalog.
 */

/** Everything an asset page shows, in one call. */
export async function getAssetProfile(
  ctx: ServiceContext,
  urn: string,
  options: { columnLimit?: number } = {},
): Promise<AssetProfile> {
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
