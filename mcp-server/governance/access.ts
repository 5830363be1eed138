import { type SQL, sql } from 'drizzle-orm';
import { textArray } from '../../db/create-db.js';
import { type Classification, classificationLevels, type Role } from '../../db/schema/types.js';
import type { Principal } from '../context.js';
import { DataOpsError } from '../errors.js';

export function clearanceAllows(clearance: Classification, marking: Classification): boolean {
  return classificationLevels.indexOf(marking) <= classificationLevels.indexOf(clearance);
}

/**
 * SQL predicate over `assets` aliased `a`: the principal's clearance covers the marking and, for a
 * restricted domain, the principal is a member. Every query that returns or counts assets uses it.
 * The restricted domains the principal is not a member of are listed once per query (an InitPlan),
 * not looked up again for every candidate row.
 */
export function visibleAssetsSql(principal: Principal): SQL {
  return sql`(a.classification <= ${principal.clearance}::classification
    and (a.domain_id is null
      or a.domain_id <> all(array(select d.id from domains d
        where d.restricted and not (d.id = any(${textArray(principal.domains)}))))))`;
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
