import { eq, sql } from 'drizzle-orm';
import { assets, usageEvents } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';

export const usageActions = ['view', 'query', 'download'] as const;
export type UsageAction = (typeof usageActions)[number];

/**
 * Records that the principal used an asset it may see (viewed its profile, queried it, downloaded it) and
 * counts it on the asset, which search ranking, trending and co-usage recommendations read.
 */
export async function recordUsage(ctx: ServiceContext, urn: string, action: UsageAction) {
  const asset = await findVisibleAsset(ctx, urn);
  const [row] = await ctx.db.transaction(async (tx) => {
    await tx.insert(usageEvents).values({ assetId: asset.id, principalId: ctx.principal.id, action, at: ctx.clock() });
    return tx
      .update(assets)
      .set({ usageCount: sql`${assets.usageCount} + 1` })
      .where(eq(assets.id, asset.id))
      .returning({ usageCount: assets.usageCount });
  });
  return { urn: asset.urn, action, usageCount: row!.usageCount };
}
