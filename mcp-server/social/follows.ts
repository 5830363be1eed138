import { and, eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, textArray } from '../../db/create-db.js';
import { domainFollows, follows } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';

/** Follows or unfollows an asset the caller may see; its activity then shows in the caller's feed. */
export async function followAsset(ctx: ServiceContext, input: { urn: string; follow: boolean }) {
  const asset = await findVisibleAsset(ctx, input.urn);
  const me = ctx.principal.id;
  if (input.follow) {
    await ctx.db
      .insert(follows)
      .values({ principalId: me, assetId: asset.id, createdAt: ctx.clock() })
      .onConflictDoNothing();
  } else {
    await ctx.db.delete(follows).where(and(eq(follows.principalId, me), eq(follows.assetId, asset.id)));
  }
  return { target: asset.urn, kind: 'asset' as const, following: input.follow };
}

/**
 * Follows or unfollows a domain: the activity of every asset in it that the caller may see shows in the
 * caller's feed. A restricted domain one is not a member of is "not found", like one that does not exist.
 */
export async function followDomain(ctx: ServiceContext, input: { domain: string; follow: boolean }) {
  const [domain] = await queryRows<{ id: string }>(
    ctx.db,
    sql`select id from domains where id = ${input.domain}
      and (not restricted or id = any(${textArray(ctx.principal.domains)}))`,
  );
  if (!domain) {
    throw new DataOpsError(
      'not_found',
      `no domain ${input.domain} that you may see: catalog_search lists domains in its facets`,
    );
  }
  const me = ctx.principal.id;
  if (input.follow) {
    await ctx.db
      .insert(domainFollows)
      .values({ principalId: me, domainId: domain.id, createdAt: ctx.clock() })
      .onConflictDoNothing();
  } else {
    await ctx.db
      .delete(domainFollows)
      .where(and(eq(domainFollows.principalId, me), eq(domainFollows.domainId, domain.id)));
  }
  return { target: domain.id, kind: 'domain' as const, following: input.follow };
}
