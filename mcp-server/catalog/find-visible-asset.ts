import { eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { assets } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';

/**
 * The one lookup of an asset by URN that every domain shares (catalog, governance, quality, social,
 * lineage). It sits below them all so that none has to import another's service module to find an asset.
 */

export type AssetRow = typeof assets.$inferSelect;

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
