import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import type { Db } from '../../db/create-db.js';
import { apiTokens, domainMembers, domains, externalIdentities, principals } from '../../db/schema/index.js';
import type { Classification, Role } from '../../db/schema/types.js';
import type { Principal, ServiceContext } from '../context.js';
import { requireRole } from './access.js';
import { appendAudit } from './audit.js';

/** The principal a local, single-user install acts as when no `--as` is given: the machine's owner. */
export const localAdminId = 'admin';

/** Creates the local administrator on first use; an existing row is left as it is. */
export async function ensureLocalAdmin(db: Db): Promise<void> {
  await db
    .insert(principals)
    .values({ id: localAdminId, displayName: 'Local administrator', clearance: 'TS', roles: ['admin'] })
    .onConflictDoNothing();
}

export interface NewPrincipal {
  id: string;
  displayName: string;
  email?: string;
  clearance: Classification;
  roles: Role[];
  domains?: string[];
  groups?: string[];
}

/** Creates or updates a principal and its domain memberships (used by the demo and admin commands). */
export async function upsertPrincipal(db: Db, p: NewPrincipal): Promise<void> {
  await db.transaction(async (tx) => {
    const values = {
      displayName: p.displayName,
      email: p.email ?? null,
      clearance: p.clearance,
      roles: p.roles,
      groups: p.groups ?? [],
      // Saving a removed principal again restores it (its revoked tokens stay revoked).
      disabled: false,
    };
    await tx
      .insert(principals)
      .values({ id: p.id, ...values })
      .onConflictDoUpdate({ target: principals.id, set: values });
    await tx.delete(domainMembers).where(eq(domainMembers.principalId, p.id));
    if (p.domains?.length) {
      await tx.insert(domainMembers).values(p.domains.map((domainId) => ({ domainId, principalId: p.id })));
    }
  });
}

/** An administrator creates or changes a principal: clearance, roles, need-to-know domains. Audited. */
export async function savePrincipal(ctx: ServiceContext, p: NewPrincipal): Promise<Principal> {
  requireRole(ctx.principal, 'manage principals', 'admin');
  const known = p.domains?.length
    ? (await ctx.db.select({ id: domains.id }).from(domains).where(inArray(domains.id, p.domains))).map((d) => d.id)
    : [];
  const unknown = (p.domains ?? []).filter((d) => !known.includes(d));
  if (unknown.length > 0)
    throw new DataOpsError('not_found', `no domain ${unknown.join(', ')}: domains are created by a steward first`);
  await ctx.db.transaction(async (tx) => {
    await upsertPrincipal(tx, p);
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'principal.save',
      details: { principal: p.id, clearance: p.clearance, roles: p.roles, domains: p.domains ?? [] },
      at: ctx.clock(),
    });
  });
  return loadPrincipal(ctx.db, p.id);
}

/**
 * An administrator links an external identity (an OIDC subject, a Slack or Teams user) to a principal,
 * so that sign-in acts as it. Re-linking moves the identity; audited.
 */
export async function linkIdentity(
  ctx: ServiceContext,
  link: { principalId: string; provider: string; subject: string },
): Promise<void> {
  requireRole(ctx.principal, 'link identities', 'admin');
  await loadPrincipal(ctx.db, link.principalId);
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(externalIdentities)
      .values(link)
      .onConflictDoUpdate({
        target: [externalIdentities.provider, externalIdentities.subject],
        set: { principalId: link.principalId },
      });
    await appendAudit(tx, { actorId: ctx.principal.id, action: 'principal.link', details: link, at: ctx.clock() });
  });
}

/** Grants need-to-know in a domain; granting it twice is harmless. */
export async function addDomainMember(db: Db, domainId: string, principalId: string): Promise<void> {
  await db.insert(domainMembers).values({ domainId, principalId }).onConflictDoNothing();
}

export async function loadPrincipal(db: Db, id: string): Promise<Principal> {
  const [row] = await db.select().from(principals).where(eq(principals.id, id));
  if (!row || row.disabled) {
    throw new DataOpsError(
      'unauthenticated',
      `unknown principal "${id}": create it first or pass --as with an existing principal`,
    );
  }
  const memberships = await db
    .select({ domainId: domainMembers.domainId })
    .from(domainMembers)
    .where(eq(domainMembers.principalId, id));
  return {
    id: row.id,
    displayName: row.displayName,
    clearance: row.clearance,
    roles: row.roles as Role[],
    groups: row.groups,
    domains: memberships.map((m) => m.domainId),
  };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Issues a bearer token for a principal. Only its hash is stored: the token is shown this once. */
export async function createApiToken(db: Db, principalId: string, name: string, expiresAt?: Date): Promise<string> {
  await loadPrincipal(db, principalId);
  const token = `dop_${randomBytes(24).toString('base64url')}`;
  await db.insert(apiTokens).values({ principalId, name, tokenHash: hashToken(token), expiresAt: expiresAt ?? null });
  return token;
}

/** The principal a bearer token stands for, or null when the token is unknown, revoked or expired. */
export async function principalForToken(db: Db, token: string, now: Date): Promise<Principal | null> {
  const [row] = await db
    .select({ id: apiTokens.id, principalId: apiTokens.principalId })
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.tokenHash, hashToken(token)),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
      ),
    );
  if (!row) return null;
  await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
  return loadPrincipal(db, row.principalId).catch(() => null);
}
