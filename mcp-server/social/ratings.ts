import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import type { Tx } from '../../db/create-db.js';
import { activityEvents, assets, principals, ratings } from '../../db/schema/index.js';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';

/**
 * Rates an asset 1-5 stars with an optional review. One rating per principal and asset: rating again
 * replaces it. The asset's average and count (which search ranking reads) change in the same transaction.
 */
export async function rateAsset(ctx: ServiceContext, input: { urn: string; stars: number; review?: string }) {
  if (!Number.isInteger(input.stars) || input.stars < 1 || input.stars > 5) {
    throw new DataOpsError('invalid_input', 'stars must be a whole number from 1 to 5');
  }
  const asset = await findVisibleAsset(ctx, input.urn);
  const review = input.review?.trim() || null;
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const [previous] = await tx
      .select({ stars: ratings.stars, review: ratings.review })
      .from(ratings)
      .where(and(eq(ratings.assetId, asset.id), eq(ratings.principalId, ctx.principal.id)));
    // Rating again with the same stars and review changes nothing, not even the feed.
    if (previous && previous.stars === input.stars && previous.review === review) {
      return { urn: asset.urn, stars: input.stars, review, average: asset.ratingAverage, count: asset.ratingCount };
    }
    await tx
      .insert(ratings)
      .values({
        assetId: asset.id,
        principalId: ctx.principal.id,
        stars: input.stars,
        review,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: [ratings.assetId, ratings.principalId],
        set: { stars: input.stars, review, updatedAt: now },
      });
    const summary = await refreshRatingSummary(tx, asset.id);
    await tx.insert(activityEvents).values({
      assetId: asset.id,
      type: 'rated',
      actorId: ctx.principal.id,
      summary: `${ctx.principal.displayName} ${previous ? 'changed their rating to' : 'rated it'} ${input.stars}/5${review ? ' with a review' : ''}`,
      details: { stars: input.stars, previous: previous?.stars ?? null },
      at: now,
    });
    return { urn: asset.urn, stars: input.stars, review, average: summary.average, count: summary.count };
  });
}

/** Recomputes the asset's rating average and count from its ratings (not incrementally, so they cannot drift). */
export async function refreshRatingSummary(
  tx: Tx,
  assetId: string,
): Promise<{ average: number | null; count: number }> {
  const [summary] = await tx
    .update(assets)
    .set({
      ratingAverage: sql`(select avg(stars)::real from ratings where asset_id = ${assetId})`,
      ratingCount: sql`(select count(*)::int from ratings where asset_id = ${assetId})`,
    })
    .where(eq(assets.id, assetId))
    .returning({ average: assets.ratingAverage, count: assets.ratingCount });
  return summary!;
}

/** The ratings of an asset, newest first; only those with a written review when `withText` is set. */
export async function listReviews(
  ctx: ServiceContext,
  input: { urn: string; withText?: boolean; limit?: number; cursor?: string },
) {
  const asset = await findVisibleAsset(ctx, input.urn);
  const limit = input.limit ?? 20;
  const offset = input.cursor ? decodeCursor(input.cursor) : 0;
  const where = and(eq(ratings.assetId, asset.id), input.withText ? isNotNull(ratings.review) : undefined);
  const [total] = await ctx.db.select({ n: sql<number>`count(*)::int` }).from(ratings).where(where);
  const rows = await ctx.db
    .select({
      principal: ratings.principalId,
      name: principals.displayName,
      stars: ratings.stars,
      review: ratings.review,
      updatedAt: ratings.updatedAt,
    })
    .from(ratings)
    .innerJoin(principals, eq(principals.id, ratings.principalId))
    .where(where)
    .orderBy(desc(ratings.updatedAt), ratings.principalId)
    .limit(limit)
    .offset(offset);
  return {
    urn: asset.urn,
    average: asset.ratingAverage,
    count: asset.ratingCount,
    reviews: rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() })),
    nextCursor: offset + limit < total!.n ? encodeCursor(offset + limit) : null,
  };
}
