import { type AnyColumn, eq, type SQL, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { textArray } from '../../db/create-db.js';
import { columns } from '../../db/schema/index.js';
import { type Classification, classificationLevels, type Role } from '../../db/schema/types.js';
import type { Principal, ServiceContext } from '../context.js';

export function clearanceAllows(clearance: Classification, marking: Classification): boolean {
  return classificationLevels.indexOf(marking) <= classificationLevels.indexOf(clearance);
}

/**
 * SQL predicate over `assets` aliased `a`: the principal's clearance covers the marking and, for a
 * restricted domain, the principal is a member or holds an approved, unexpired access grant for that
 * asset (a grant gives need-to-know, never clearance). Every query that returns or counts assets uses it.
 * The restricted domains the principal is not a member of are listed once per query (an InitPlan),
 * not looked up again for every candidate row; the grant lookup runs only for rows those domains hold,
 * through the partial index of approved grants on (asset_id, requester_id).
 */
export function visibleAssetsSql(principal: Principal): SQL {
  return sql`(a.classification <= ${principal.clearance}::classification
    and (a.domain_id is null
      or a.domain_id <> all(array(select d.id from domains d
        where d.restricted and not (d.id = any(${textArray(principal.domains)}))))
      or exists (select 1 from access_requests g where g.asset_id = a.id and g.requester_id = ${principal.id}
        and g.status = 'approved' and g.expires_at > now())))`;
}

/**
 * SQL predicate over an activity event's `details`: an event about another asset (a lineage edge from it,
 * say) carries that asset's id as `relatedAssetId` and is shown only to those who may see that asset too.
 */
export function relatedAssetVisibleSql(details: SQL | AnyColumn, principal: Principal): SQL {
  return sql`(${details}->>'relatedAssetId' is null or exists (select 1 from assets a
    where a.id = (${details}->>'relatedAssetId')::uuid and ${visibleAssetsSql(principal)}))`;
}

export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.includes('admin') || roles.some((r) => principal.roles.includes(r));
}

export function requireRole(principal: Principal, action: string, ...roles: Role[]): void {
  if (!hasRole(principal, ...roles)) {
    throw new DataOpsError(
      'forbidden',
      `${principal.id} may not ${action}: it needs the ${roles.join(' or ')} role (ask an admin to grant it)`,
    );
  }
}

/** Names of an asset's columns marked above the caller's clearance: left out wherever the asset is shown. */
export async function hiddenColumnNames(ctx: ServiceContext, assetId: string): Promise<Set<string>> {
  const rows = await ctx.db
    .select({ name: columns.name, classification: columns.classification })
    .from(columns)
    .where(eq(columns.assetId, assetId));
  return new Set(
    rows
      .filter((c) => c.classification !== null && !clearanceAllows(ctx.principal.clearance, c.classification))
      .map((c) => c.name),
  );
}
