import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { apiTokens, domainMembers, domains, externalIdentities, principals } from '../../db/schema/index.js';
import type { Classification, Role } from '../../db/schema/types.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from './access.js';
import { appendAudit } from './audit.js';
import { localAdminId } from './principals.js';

export interface PrincipalView {
  id: string;
  displayName: string;
  email: string | null;
  clearance: Classification;
  roles: Role[];
  domains: string[];
  groups: string[];
  /** Removed principals stay (the audit log and their comments name them) but can no longer act. */
  removed: boolean;
  identities: { provider: string; subject: string }[];
  activeTokens: number;
  createdAt: string;
}

/** Every principal with its domains, linked identities and live token count (administrators). */
export async function listPrincipals(
  ctx: ServiceContext,
  options: { includeRemoved?: boolean; id?: string } = {},
): Promise<PrincipalView[]> {
  requireRole(ctx.principal, 'list principals', 'admin');
  const rows = await ctx.db
    .select()
    .from(principals)
    .where(
      and(
        options.includeRemoved || options.id ? undefined : eq(principals.disabled, false),
        options.id ? eq(principals.id, options.id) : undefined,
      ),
    )
    .orderBy(asc(principals.id));
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return [];
  const members = await ctx.db.select().from(domainMembers).where(inArray(domainMembers.principalId, ids));
  const identities = await ctx.db.select().from(externalIdentities).where(inArray(externalIdentities.principalId, ids));
  const tokens = await queryRows<{ principal_id: string; n: number }>(
    ctx.db,
    sql`select principal_id, count(*)::int as n from api_tokens
        where revoked_at is null and (expires_at is null or expires_at > ${ctx.clock().toISOString()}::timestamptz)
        group by principal_id`,
  );
  return rows.map((r) => ({
    id: r.id,
    displayName: r.displayName,
    email: r.email,
    clearance: r.clearance,
    roles: r.roles as Role[],
    domains: members.filter((m) => m.principalId === r.id).map((m) => m.domainId),
    groups: r.groups,
    removed: r.disabled,
    identities: identities
      .filter((i) => i.principalId === r.id)
      .map((i) => ({ provider: i.provider, subject: i.subject })),
    activeTokens: tokens.find((t) => t.principal_id === r.id)?.n ?? 0,
    createdAt: r.createdAt.toISOString(),
  }));
}

async function findPrincipal(ctx: ServiceContext, id: string) {
  const [row] = await ctx.db.select().from(principals).where(eq(principals.id, id));
  if (!row) throw new DataOpsError('not_found', `no principal "${id}": governance_list_principals lists them`);
  return row;
}

/** Enabled administrators other than `except`: the catalog must keep at least one. */
async function otherAdmins(ctx: ServiceContext, except: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from principals where not disabled and 'admin' = any(roles) and id <> ${except}`,
  );
  return row!.n;
}

export interface PrincipalChange {
  id: string;
  displayName?: string;
  email?: string | null;
  clearance?: Classification;
  roles?: Role[];
  domains?: string[];
  groups?: string[];
}

/** Changes what is given of a principal and leaves the rest (administrators). Audited with the change. */
export async function updatePrincipal(ctx: ServiceContext, change: PrincipalChange): Promise<PrincipalView> {
  requireRole(ctx.principal, 'change principals', 'admin');
  const row = await findPrincipal(ctx, change.id);
  if (row.disabled) {
    throw new DataOpsError(
      'invalid_input',
      `principal "${change.id}" was removed: add it again with \`dataops principal add ${change.id}\` to restore it`,
    );
  }
  if (change.roles && !change.roles.includes('admin') && row.roles.includes('admin')) {
    if ((await otherAdmins(ctx, change.id)) === 0) {
      throw new DataOpsError('conflict', `${change.id} is the last administrator: make someone else admin first`);
    }
  }
  if (change.domains?.length) {
    const known = (
      await ctx.db.select({ id: domains.id }).from(domains).where(inArray(domains.id, change.domains))
    ).map((d) => d.id);
    const unknown = change.domains.filter((d) => !known.includes(d));
    if (unknown.length > 0)
      throw new DataOpsError('not_found', `no domain ${unknown.join(', ')}: domains are created by a steward first`);
  }
  const set = {
    ...(change.displayName !== undefined && { displayName: change.displayName }),
    ...(change.email !== undefined && { email: change.email }),
    ...(change.clearance !== undefined && { clearance: change.clearance }),
    ...(change.roles !== undefined && { roles: [...new Set(change.roles)] }),
    ...(change.groups !== undefined && { groups: [...new Set(change.groups)] }),
  };
  await ctx.db.transaction(async (tx) => {
    if (Object.keys(set).length > 0) await tx.update(principals).set(set).where(eq(principals.id, change.id));
    if (change.domains !== undefined) {
      await tx.delete(domainMembers).where(eq(domainMembers.principalId, change.id));
      const wanted = [...new Set(change.domains)];
      if (wanted.length)
        await tx.insert(domainMembers).values(wanted.map((domainId) => ({ domainId, principalId: change.id })));
    }
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'principal.update',
      details: { principal: change.id, ...set, ...(change.domains !== undefined && { domains: change.domains }) },
      at: ctx.clock(),
    });
  });
  return (await listPrincipals(ctx, { id: change.id }))[0]!;
}

/**
 * Removes a principal (administrators): it can no longer act, its tokens are revoked and its sign-ins refused.
 * The row stays, because the append-only audit log, comments and decisions name it; adding it again restores it.
 */
export async function removePrincipal(
  ctx: ServiceContext,
  id: string,
  reason?: string,
): Promise<{ principal: string; tokensRevoked: number; changed: boolean }> {
  requireRole(ctx.principal, 'remove principals', 'admin');
  const row = await findPrincipal(ctx, id);
  if (row.disabled) return { principal: id, tokensRevoked: 0, changed: false };
  if (id === ctx.principal.id) throw new DataOpsError('invalid_input', 'you cannot remove yourself: ask another admin');
  if (id === localAdminId)
    throw new DataOpsError('invalid_input', `${localAdminId} is the local administrator the CLI acts as; it stays`);
  if (row.roles.includes('admin') && (await otherAdmins(ctx, id)) === 0) {
    throw new DataOpsError('conflict', `${id} is the last administrator: make someone else admin first`);
  }
  const now = ctx.clock();
  const revoked = await ctx.db.transaction(async (tx) => {
    await tx.update(principals).set({ disabled: true }).where(eq(principals.id, id));
    const tokens = await tx
      .update(apiTokens)
      .set({ revokedAt: now })
      .where(and(eq(apiTokens.principalId, id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'principal.remove',
      details: { principal: id, tokensRevoked: tokens.length, ...(reason && { reason }) },
      at: now,
    });
    return tokens.length;
  });
  return { principal: id, tokensRevoked: revoked, changed: true };
}
