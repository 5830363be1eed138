import { and, eq, sql } from 'drizzle-orm';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import { accessRequests, principals } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import type { ServiceContext } from '../context.js';
import { clearanceAllows, hasRole, visibleAssetsSql } from './access.js';
import { appendAudit } from './audit.js';
import { enforcePolicies } from './policies.js';

/** What a request looks like to its requester and its deciders; `expired` is an approval whose time ran out. */
export type AccessRequestStatus = 'pending' | 'approved' | 'expired' | 'denied' | 'revoked';

/**
 * The one rule that approves without a person: the requester is cleared for the marking, has need-to-know
 * (the asset is outside restricted domains or the requester is a member of its domain), and the marking is
 * U or C. Everything else (S and TS data, need-to-know domains one is not part of) goes to an owner.
 */
export const autoApprovalRule = 'cleared_need_to_know_low_marking';
const autoApprovableMarkings: Classification[] = ['U', 'C'];
export const maxAccessDays = 365;

export interface AccessRequestView {
  id: string;
  urn: string;
  asset: string;
  requester: string;
  requesterName: string;
  purpose: string;
  requestedDays: number;
  status: AccessRequestStatus;
  decidedBy: string | null;
  autoRule: string | null;
  reason: string | null;
  createdAt: string;
  decidedAt: string | null;
  expiresAt: string | null;
}

interface AssetFacts {
  id: string;
  urn: string;
  qualifiedName: string;
  classification: Classification;
  domainId: string | null;
  owner: string | null;
  restricted: boolean;
  visible: boolean;
}

/** The same answer for an asset that does not exist and one the caller may not know exists. */
function assetNotFound(urn: string): DataOpsError {
  return new DataOpsError(
    'not_found',
    `no asset ${urn} that you may see: check the URN with catalog_search. If it belongs to a need-to-know domain ` +
      'you are not part of, its owners see your request and you will find the asset once they grant it',
  );
}

function requestNotFound(id: string): DataOpsError {
  return new DataOpsError(
    'not_found',
    `no access request ${id} that you may see: list them with governance_list_access_requests`,
  );
}

async function assetFacts(ctx: ServiceContext, db: ServiceContext['db'] | Tx, urn: string): Promise<AssetFacts | null> {
  const [row] = await queryRows<AssetFacts>(
    db,
    sql`select a.id::text, a.urn, a.qualified_name as "qualifiedName", a.classification, a.domain_id as "domainId",
        a.owner, coalesce(d.restricted, false) as restricted, ${visibleAssetsSql(ctx.principal)} as visible
      from assets a left join domains d on d.id = a.domain_id
      where a.urn = ${urn}`,
  );
  return row ?? null;
}

const requestColumns = sql`r.id::text, a.urn, a.qualified_name as asset, r.requester_id as requester,
  p.display_name as "requesterName", r.justification as purpose, r.requested_days as "requestedDays",
  case when r.status = 'approved' and r.expires_at <= now() then 'expired' else r.status end as status,
  r.decided_by as "decidedBy", r.auto_rule as "autoRule", r.decision_reason as reason,
  r.created_at as "createdAt", r.decided_at as "decidedAt", r.expires_at as "expiresAt"`;

type RequestRow = Omit<AccessRequestView, 'createdAt' | 'decidedAt' | 'expiresAt'> & {
  createdAt: Date | string;
  decidedAt: Date | string | null;
  expiresAt: Date | string | null;
};

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function toView(row: RequestRow): AccessRequestView {
  return { ...row, createdAt: iso(row.createdAt)!, decidedAt: iso(row.decidedAt), expiresAt: iso(row.expiresAt) };
}

async function loadRequestView(db: ServiceContext['db'] | Tx, id: string): Promise<AccessRequestView> {
  const [row] = await queryRows<RequestRow>(
    db,
    sql`select ${requestColumns} from access_requests r join assets a on a.id = r.asset_id
      join principals p on p.id = r.requester_id where r.id = ${id}`,
  );
  return toView(row!);
}

function addDays(from: Date, days: number): Date {
  return new Date(from.getTime() + days * 86_400_000);
}

function validateDays(days: number, what: string): void {
  if (!Number.isInteger(days) || days < 1 || days > maxAccessDays) {
    throw new DataOpsError('invalid_input', `${what} must be a whole number of days from 1 to ${maxAccessDays}`);
  }
}

/**
 * Asks for access to an asset for a purpose and a number of days. A request the auto-approval rule covers is
 * approved at once and says which rule approved it; the rest wait for an owner. A request for an asset the
 * caller may not see is answered exactly like one for an asset that does not exist; when the caller is
 * cleared for it (only need-to-know stands in the way) the request is still recorded for its owners.
 */
export async function requestAccess(
  ctx: ServiceContext,
  request: { urn: string; purpose: string; days: number },
): Promise<AccessRequestView> {
  const purpose = request.purpose.trim();
  if (purpose.length < 10) {
    throw new DataOpsError('invalid_input', 'say what the data is for (a purpose of at least 10 characters)');
  }
  validateDays(request.days, 'the duration');
  const asset = await assetFacts(ctx, ctx.db, request.urn);
  if (!asset) throw assetNotFound(request.urn);
  const now = ctx.clock();
  if (!asset.visible) {
    // Clearance is never granted by request: only a cleared requester's need-to-know request reaches owners.
    if (clearanceAllows(ctx.principal.clearance, asset.classification)) {
      await ctx.db.transaction(async (tx) => {
        if (await openRequestId(tx, asset.id, ctx.principal.id)) return;
        await insertRequest(tx, ctx, asset, { purpose, days: request.days, now, approve: false });
      });
    }
    throw assetNotFound(request.urn);
  }
  const id = await ctx.db.transaction(async (tx) => {
    const open = await openRequestId(tx, asset.id, ctx.principal.id);
    if (open) return open;
    const member = asset.domainId !== null && ctx.principal.domains.includes(asset.domainId);
    const approve =
      clearanceAllows(ctx.principal.clearance, asset.classification) &&
      (!asset.restricted || member) &&
      autoApprovableMarkings.includes(asset.classification);
    // A blocking policy on granting stops the rule too: the request then waits for an owner, who sees why.
    const blockedBy = approve ? await policyBlock(tx, ctx, asset.id) : null;
    return insertRequest(tx, ctx, asset, {
      purpose,
      days: request.days,
      now,
      approve: approve && !blockedBy,
      heldBy: blockedBy,
    });
  });
  return loadRequestView(ctx.db, id);
}

/** The message of a blocking policy that refuses granting access to the asset, or null when none does. */
async function policyBlock(tx: Tx, ctx: ServiceContext, assetId: string): Promise<string | null> {
  try {
    await enforcePolicies(tx, ctx, 'access.grant', [assetId]);
    return null;
  } catch (error) {
    if (isDataOpsError(error) && error.code === 'forbidden') return error.message;
    throw error;
  }
}

/** A pending request or an unexpired grant the principal already has for the asset: asking twice changes nothing. */
async function openRequestId(tx: Tx, assetId: string, principalId: string): Promise<string | null> {
  // Held to the end of the transaction, so two identical requests at once make one row, not two.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`access:${assetId}:${principalId}`}, 0))`);
  const [row] = await queryRows<{ id: string }>(
    tx,
    sql`select id::text from access_requests where asset_id = ${assetId} and requester_id = ${principalId}
      and (status = 'pending' or (status = 'approved' and expires_at > now())) limit 1`,
  );
  return row?.id ?? null;
}

async function insertRequest(
  tx: Tx,
  ctx: ServiceContext,
  asset: AssetFacts,
  r: { purpose: string; days: number; now: Date; approve: boolean; heldBy?: string | null },
): Promise<string> {
  const decision = r.approve
    ? {
        status: 'approved' as const,
        autoRule: autoApprovalRule,
        decidedAt: r.now,
        expiresAt: addDays(r.now, r.days),
        decisionReason:
          `approved by rule ${autoApprovalRule}: clearance ${ctx.principal.clearance} covers the marking ` +
          `${asset.classification}, ${asset.restricted ? `a member of the ${asset.domainId} domain` : 'not a need-to-know domain'}, ` +
          'and U or C data needs no owner decision',
      }
    : { decisionReason: r.heldBy ? `waits for an owner: ${r.heldBy}` : null };
  const [row] = await tx
    .insert(accessRequests)
    .values({
      assetId: asset.id,
      requesterId: ctx.principal.id,
      justification: r.purpose,
      requestedDays: r.days,
      createdAt: r.now,
      ...decision,
    })
    .returning({ id: accessRequests.id });
  await appendAudit(tx, {
    actorId: ctx.principal.id,
    action: r.approve ? 'access.request.auto_approved' : 'access.request',
    targetUrn: asset.urn,
    details: { request: row!.id, purpose: r.purpose, days: r.days, rule: r.approve ? autoApprovalRule : null },
    at: r.now,
  });
  return row!.id;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RequestForDecision {
  id: string;
  status: string;
  requesterId: string;
  requestedDays: number;
  expiresAt: Date | string | null;
  asset: AssetFacts;
}

/** A request whose asset the caller may see, locked for the decision; anything else is "not found". */
async function lockRequest(tx: Tx, ctx: ServiceContext, id: string): Promise<RequestForDecision> {
  if (!uuidPattern.test(id)) throw requestNotFound(id);
  const [row] = await queryRows<{
    id: string;
    status: string;
    requesterId: string;
    requestedDays: number;
    expiresAt: Date | string | null;
    urn: string;
  }>(
    tx,
    sql`select r.id::text, r.status, r.requester_id as "requesterId", r.requested_days as "requestedDays",
        r.expires_at as "expiresAt", a.urn
      from access_requests r join assets a on a.id = r.asset_id
      where r.id = ${id}::uuid and ${visibleAssetsSql(ctx.principal)}
      for update of r`,
  );
  if (!row) throw requestNotFound(id);
  const asset = await assetFacts(ctx, tx, row.urn);
  return { ...row, asset: asset! };
}

/** Asset owner, an owner of the asset's domain, or a steward (admins included) decides access. */
async function mayDecide(tx: Tx, ctx: ServiceContext, asset: AssetFacts): Promise<boolean> {
  if (asset.owner === ctx.principal.id || hasRole(ctx.principal, 'steward')) return true;
  if (!asset.domainId) return false;
  const [row] = await queryRows<{ owns: boolean }>(
    tx,
    sql`select exists (select 1 from domain_members where domain_id = ${asset.domainId}
      and principal_id = ${ctx.principal.id} and role = 'owner') as owns`,
  );
  return row!.owns;
}

async function requireDecider(tx: Tx, ctx: ServiceContext, request: RequestForDecision, action: string) {
  if (request.requesterId === ctx.principal.id) {
    throw new DataOpsError('forbidden', `you may not ${action} your own access request: another owner or steward must`);
  }
  if (!(await mayDecide(tx, ctx, request.asset))) {
    throw new DataOpsError(
      'forbidden',
      `only the owner of ${request.asset.qualifiedName}, an owner of its domain or a steward may ${action} access to it`,
    );
  }
}

/** An owner approves (with an expiry) or denies (with a reason) a pending request. Audited. */
export async function decideAccess(
  ctx: ServiceContext,
  decision: { id: string; approve: boolean; reason?: string; days?: number },
): Promise<AccessRequestView> {
  const reason = decision.reason?.trim() || null;
  if (!decision.approve && !reason) {
    throw new DataOpsError('invalid_input', 'a denial needs a reason the requester can act on');
  }
  if (decision.days !== undefined) validateDays(decision.days, 'the grant');
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    const request = await lockRequest(tx, ctx, decision.id);
    await requireDecider(tx, ctx, request, 'decide');
    if (request.status !== 'pending') {
      throw new DataOpsError('conflict', `access request ${decision.id} was already ${request.status}`);
    }
    if (decision.approve) {
      const [requester] = await tx
        .select({ clearance: principals.clearance })
        .from(principals)
        .where(eq(principals.id, request.requesterId));
      if (!requester || !clearanceAllows(requester.clearance, request.asset.classification)) {
        throw new DataOpsError(
          'invalid_input',
          `${request.requesterId} is not cleared for ${request.asset.classification} data: an access grant gives ` +
            'need-to-know, never clearance; deny the request instead',
        );
      }
    }
    // Checked as the grant would stand: a blocking policy on access.grant refuses it, naming the policy.
    const warnings = decision.approve ? await enforcePolicies(tx, ctx, 'access.grant', [request.asset.id]) : [];
    const days = decision.days ?? request.requestedDays;
    await tx
      .update(accessRequests)
      .set({
        status: decision.approve ? 'approved' : 'denied',
        decidedBy: ctx.principal.id,
        decidedAt: now,
        decisionReason: reason,
        expiresAt: decision.approve ? addDays(now, days) : null,
      })
      .where(eq(accessRequests.id, request.id));
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: decision.approve ? 'access.approve' : 'access.deny',
      targetUrn: request.asset.urn,
      details: {
        request: request.id,
        requester: request.requesterId,
        reason,
        days: decision.approve ? days : null,
        policyWarnings: warnings,
      },
      at: now,
    });
  });
  return loadRequestView(ctx.db, decision.id);
}

/** Ends a grant before it expires: its deciders may revoke it, and its holder may give it up. Audited. */
export async function revokeAccess(
  ctx: ServiceContext,
  revocation: { id: string; reason: string },
): Promise<AccessRequestView> {
  const reason = revocation.reason.trim();
  if (!reason) throw new DataOpsError('invalid_input', 'say why the grant is revoked');
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    const request = await lockRequest(tx, ctx, revocation.id);
    if (request.requesterId !== ctx.principal.id) await requireDecider(tx, ctx, request, 'revoke');
    const expired = request.expiresAt !== null && new Date(request.expiresAt) <= now;
    if (request.status !== 'approved' || expired) {
      throw new DataOpsError(
        'conflict',
        `access request ${revocation.id} is ${expired && request.status === 'approved' ? 'expired' : request.status}: only a current grant can be revoked`,
      );
    }
    await tx
      .update(accessRequests)
      .set({ status: 'revoked', revokedBy: ctx.principal.id, revokedAt: now, decisionReason: reason })
      .where(and(eq(accessRequests.id, request.id), eq(accessRequests.status, 'approved')));
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'access.revoke',
      targetUrn: request.asset.urn,
      details: { request: request.id, requester: request.requesterId, reason },
      at: now,
    });
  });
  return loadRequestView(ctx.db, revocation.id);
}

export interface ListAccessRequests {
  /** `mine`: the caller's own requests; `to_decide`: pending requests the caller may decide. */
  scope: 'mine' | 'to_decide';
  status?: AccessRequestStatus;
  limit?: number;
  cursor?: string;
}

/**
 * The caller's requests (only on assets the caller may see now: a pending need-to-know request shows once
 * it is granted) or the pending requests the caller may decide, newest first.
 */
export async function listAccessRequests(ctx: ServiceContext, list: ListAccessRequests) {
  const limit = list.limit ?? 20;
  const offset = list.cursor ? decodeCursor(list.cursor) : 0;
  const me = ctx.principal.id;
  const scope =
    list.scope === 'mine'
      ? sql`r.requester_id = ${me}`
      : sql`r.status = 'pending' and r.requester_id <> ${me} and (${hasRole(ctx.principal, 'steward') ? sql`true` : sql`false`}
          or a.owner = ${me} or exists (select 1 from domain_members m
            where m.domain_id = a.domain_id and m.principal_id = ${me} and m.role = 'owner'))`;
  const rows = await queryRows<RequestRow & { total: number }>(
    ctx.db,
    sql`select q.*, count(*) over ()::int as total from (select ${requestColumns}
        from access_requests r join assets a on a.id = r.asset_id join principals p on p.id = r.requester_id
        where ${scope} and ${visibleAssetsSql(ctx.principal)}) q
      where ${list.status ? sql`q.status = ${list.status}` : sql`true`}
      order by q."createdAt" desc, q.id limit ${limit} offset ${offset}`,
  );
  const total = rows[0]?.total ?? 0;
  return {
    total,
    requests: rows.map(({ total: _, ...row }) => toView(row)),
    nextCursor: offset + limit < total ? encodeCursor(offset + limit) : null,
  };
}
