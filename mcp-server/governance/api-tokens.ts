import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { apiTokens } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { hasRole } from './access.js';
import { appendAudit } from './audit.js';

/** Days a token lives when its creator does not say: a leaked token should not work for ever. */
export const defaultTokenDays = 90;

export interface TokenView {
  id: string;
  principal: string;
  name: string;
  state: 'active' | 'expired' | 'revoked';
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function view(row: typeof apiTokens.$inferSelect, now: Date): TokenView {
  const state = row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt <= now ? 'expired' : 'active';
  return {
    id: row.id,
    principal: row.principalId,
    name: row.name,
    state,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
  };
}

/**
 * API tokens, newest first, never their value: the caller's own, or (administrators) another principal's or
 * everyone's. Revoked and expired ones only when asked.
 */
export async function listTokens(
  ctx: ServiceContext,
  options: { principal?: string; all?: boolean; includeInactive?: boolean } = {},
): Promise<TokenView[]> {
  const own = !options.all && (options.principal === undefined || options.principal === ctx.principal.id);
  if (!own && !hasRole(ctx.principal, 'admin')) {
    throw new DataOpsError('forbidden', `${ctx.principal.id} may list only its own tokens: an admin lists others'`);
  }
  const now = ctx.clock();
  const rows = await ctx.db
    .select()
    .from(apiTokens)
    .where(
      and(
        options.all ? undefined : eq(apiTokens.principalId, options.principal ?? ctx.principal.id),
        options.includeInactive
          ? undefined
          : and(
              isNull(apiTokens.revokedAt),
              sql`(${apiTokens.expiresAt} is null or ${apiTokens.expiresAt} > ${now.toISOString()}::timestamptz)`,
            ),
      ),
    )
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id))
    .limit(500);
  return rows.map((r) => view(r, now));
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Revokes a token at once (its holder's next request is refused): one's own, or any as an administrator.
 * Someone else's token answers as an unknown one, so ids cannot be probed. Audited.
 */
export async function revokeToken(ctx: ServiceContext, id: string): Promise<{ token: TokenView; changed: boolean }> {
  const missing = new DataOpsError(
    'not_found',
    `no token ${id}: governance_list_tokens lists your tokens and their ids`,
  );
  if (!uuidPattern.test(id)) throw missing;
  const [row] = await ctx.db.select().from(apiTokens).where(eq(apiTokens.id, id.toLowerCase()));
  if (!row || (row.principalId !== ctx.principal.id && !hasRole(ctx.principal, 'admin'))) throw missing;
  const now = ctx.clock();
  if (row.revokedAt) return { token: view(row, now), changed: false };
  const updated = await ctx.db.transaction(async (tx) => {
    const [done] = await tx.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, row.id)).returning();
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'token.revoke',
      details: { token: row.id, name: row.name, principal: row.principalId },
      at: now,
    });
    return done!;
  });
  return { token: view(updated, now), changed: true };
}
