import { and, eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { type Db, queryRows, type Tx } from '../../db/create-db.js';
import { activityEvents, assets, certifications } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { hasRole, visibleAssetsSql } from './access.js';
import { appendAudit } from './audit.js';
import { enforcePolicies } from './policies.js';
import type { PolicyWarning } from './policy-rules.js';

/** The fixed vocabulary of certification labels; search results and profiles show them as written. */
export const certificationLabels = ['Approved for Reporting', 'Production Ready', 'Authoritative Source'] as const;
export type CertificationLabel = (typeof certificationLabels)[number];

export const certificationStatuses = ['pending', 'approved', 'rejected', 'superseded', 'expired'] as const;
export type CertificationStatus = (typeof certificationStatuses)[number];

/** Longest approval a reviewer may grant, so every certification is looked at again. */
export const maxCertificationDays = 1095;

/** Who lapses expired certifications in the audit trail: the catalog itself, not a person. */
const systemActor = 'system';

export interface CertificationView {
  id: string;
  urn: string;
  qualifiedName: string;
  label: string;
  /** As of now: an approved certification past its expiry reads `expired` even before the lapse step ran. */
  status: CertificationStatus;
  requestedBy: string;
  requestedAt: string;
  note: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
  expiresAt: string | null;
  /** Whether the caller may approve or reject it (a pending request someone else made, on an asset it curates). */
  canReview: boolean;
}

/** Asks for a label on an asset; anyone who can see the asset may ask. Asking again while pending changes nothing. */
export async function requestCertification(
  ctx: ServiceContext,
  request: { urn: string; label: CertificationLabel; note?: string },
): Promise<CertificationView & { created: boolean }> {
  const asset = await findVisibleAsset(ctx, request.urn);
  const now = ctx.clock();
  const { id, created } = await ctx.db.transaction(async (tx) => {
    // Serialises requests for one asset, so two people asking at once get one pending request.
    await tx.select({ id: assets.id }).from(assets).where(eq(assets.id, asset.id)).for('update');
    const [pending] = await tx
      .select({ id: certifications.id })
      .from(certifications)
      .where(
        and(
          eq(certifications.assetId, asset.id),
          eq(certifications.level, request.label),
          eq(certifications.status, 'pending'),
        ),
      );
    if (pending) return { id: pending.id, created: false };
    const [row] = await tx
      .insert(certifications)
      .values({
        assetId: asset.id,
        level: request.label,
        status: 'pending',
        requestedBy: ctx.principal.id,
        requestedAt: now,
        note: request.note ?? null,
      })
      .returning({ id: certifications.id });
    await tx.insert(activityEvents).values({
      assetId: asset.id,
      type: 'certification_requested',
      actorId: ctx.principal.id,
      summary: `${ctx.principal.displayName} asked for "${request.label}"`,
      at: now,
    });
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'certification.request',
      targetUrn: asset.urn,
      details: { id: row!.id, label: request.label, note: request.note ?? null },
      at: now,
    });
    return { id: row!.id, created: true };
  });
  return { ...(await getCertification(ctx, id)), created };
}

export interface ReviewRequest {
  id: string;
  decision: 'approve' | 'reject';
  /** Approval only: how long it holds (default a year). */
  expiresInDays?: number;
  /** The reviewer's comment; required when rejecting. */
  reason?: string;
}

/**
 * Approves (with an expiry) or rejects (with a reason) a pending request. Reviewers are the asset's owner,
 * stewards, owners and admins, never the requester. An approval supersedes an earlier one of the same label,
 * passes the `certification.approve` policies, and puts the label on the asset. Audited.
 */
export async function reviewCertification(
  ctx: ServiceContext,
  review: ReviewRequest,
): Promise<CertificationView & { policyWarnings: PolicyWarning[] }> {
  const current = await getCertification(ctx, review.id);
  if (current.status !== 'pending') {
    throw new DataOpsError(
      'conflict',
      `certification request ${review.id} was already ${current.status}${current.reviewedBy ? ` by ${current.reviewedBy}` : ''}: ask for it again with governance_request_certification`,
    );
  }
  if (current.requestedBy === ctx.principal.id) {
    throw new DataOpsError(
      'forbidden',
      'you asked for this certification, so another owner or steward must review it (two people, one decision)',
    );
  }
  if (!current.canReview) {
    throw new DataOpsError(
      'forbidden',
      `${ctx.principal.id} may not review certifications of ${current.qualifiedName}: its owner or a steward reviews them`,
    );
  }
  if (review.decision === 'reject' && !review.reason?.trim()) {
    throw new DataOpsError('invalid_input', 'a rejection needs a reason the requester can act on');
  }
  const days = review.expiresInDays ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > maxCertificationDays) {
    throw new DataOpsError('invalid_input', `expiresInDays must be a whole number from 1 to ${maxCertificationDays}`);
  }
  const now = ctx.clock();
  const expiresAt = review.decision === 'approve' ? new Date(now.getTime() + days * 86_400_000) : null;
  const policyWarnings = await ctx.db.transaction(async (tx) => {
    const [locked] = await tx.select().from(certifications).where(eq(certifications.id, review.id)).for('update');
    if (locked?.status !== 'pending') {
      throw new DataOpsError('conflict', `certification request ${review.id} was decided meanwhile: list it again`);
    }
    const approved = review.decision === 'approve';
    if (approved) {
      await tx
        .update(certifications)
        .set({ status: 'superseded' })
        .where(
          and(
            eq(certifications.assetId, locked.assetId),
            eq(certifications.level, locked.level),
            eq(certifications.status, 'approved'),
          ),
        );
    }
    await tx
      .update(certifications)
      .set({
        status: approved ? 'approved' : 'rejected',
        reviewedBy: ctx.principal.id,
        reviewedAt: now,
        reviewNote: review.reason ?? null,
        expiresAt,
      })
      .where(eq(certifications.id, review.id));
    const warnings = approved ? await enforcePolicies(tx, ctx, 'certification.approve', [locked.assetId]) : [];
    await refreshCertificationLabels(tx, [locked.assetId], now);
    await tx.insert(activityEvents).values({
      assetId: locked.assetId,
      type: approved ? 'certified' : 'certification_rejected',
      actorId: ctx.principal.id,
      summary: approved
        ? `${ctx.principal.displayName} certified it "${locked.level}" until ${expiresAt!.toISOString().slice(0, 10)}`
        : `${ctx.principal.displayName} declined "${locked.level}": ${review.reason}`,
      at: now,
    });
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: approved ? 'certification.approve' : 'certification.reject',
      targetUrn: current.urn,
      details: {
        id: review.id,
        label: locked.level,
        expiresAt: expiresAt?.toISOString() ?? null,
        reason: review.reason ?? null,
        ...(warnings.length > 0 ? { policyWarnings: warnings } : {}),
      },
      at: now,
    });
    return warnings;
  });
  return { ...(await getCertification(ctx, review.id)), policyWarnings };
}

/** Sets `assets.certification` to the labels in force (comma-separated), or null: what search boosts and shows. */
async function refreshCertificationLabels(tx: Tx, assetIds: string[], now: Date): Promise<void> {
  for (const assetId of assetIds) {
    await tx.execute(
      sql`update assets set certification = (
            select string_agg(c.level, ', ' order by c.level) from certifications c
            where c.asset_id = ${assetId} and c.status = 'approved'
              and (c.expires_at is null or c.expires_at > ${now.toISOString()}::timestamptz))
          where id = ${assetId}`,
    );
  }
}

/**
 * Lapses approved certifications whose expiry has passed: marks them expired, takes their labels off the
 * assets (so search stops boosting them) and records it in each asset's activity and the audit trail.
 * Idempotent; the quality scheduler calls it on every tick. Returns how many lapsed.
 */
export async function lapseExpiredCertifications(db: Db, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const lapsed = await queryRows<{ id: string; assetId: string; level: string; urn: string }>(
      tx,
      sql`update certifications c set status = 'expired'
          from assets a
          where a.id = c.asset_id and c.status = 'approved' and c.expires_at <= ${now.toISOString()}::timestamptz
          returning c.id::text, c.asset_id::text as "assetId", c.level, a.urn`,
    );
    if (lapsed.length === 0) return 0;
    await refreshCertificationLabels(tx, [...new Set(lapsed.map((l) => l.assetId))], now);
    for (const l of lapsed) {
      await tx.insert(activityEvents).values({
        assetId: l.assetId,
        type: 'certification_lapsed',
        actorId: null,
        summary: `"${l.level}" lapsed: its certification expired`,
        at: now,
      });
      await appendAudit(tx, {
        actorId: systemActor,
        action: 'certification.lapse',
        targetUrn: l.urn,
        details: { id: l.id, label: l.level },
        at: now,
      });
    }
    return lapsed.length;
  });
}

/** A certification as read from the database: the view's fields before dates are normalised and review rights worked out. */
type CertificationRow = Omit<CertificationView, 'canReview'> & { owner: string | null };

function certificationsSql(ctx: ServiceContext, where: ReturnType<typeof sql>, limit: number) {
  const now = ctx.clock().toISOString();
  return sql`select c.id::text, a.urn, a.qualified_name as "qualifiedName", a.owner, c.level as label,
        case when c.status = 'approved' and c.expires_at <= ${now}::timestamptz then 'expired' else c.status end as status,
        c.requested_by as "requestedBy", c.requested_at::text as "requestedAt", c.note,
        c.reviewed_by as "reviewedBy", c.reviewed_at::text as "reviewedAt", c.review_note as "reviewNote",
        c.expires_at::text as "expiresAt"
      from certifications c join assets a on a.id = c.asset_id
      where ${visibleAssetsSql(ctx.principal)} and ${where}
      order by c.requested_at desc, c.id
      limit ${limit}`;
}

function toView(ctx: ServiceContext, row: CertificationRow): CertificationView {
  const iso = (value: string | null) => (value ? new Date(value).toISOString() : null);
  const curates = row.owner === ctx.principal.id || hasRole(ctx.principal, 'steward', 'owner');
  return {
    id: row.id,
    urn: row.urn,
    qualifiedName: row.qualifiedName,
    label: row.label,
    status: row.status,
    requestedBy: row.requestedBy,
    requestedAt: iso(row.requestedAt)!,
    note: row.note,
    reviewedBy: row.reviewedBy,
    reviewedAt: iso(row.reviewedAt),
    reviewNote: row.reviewNote,
    expiresAt: iso(row.expiresAt),
    canReview: row.status === 'pending' && curates && row.requestedBy !== ctx.principal.id,
  };
}

/** One certification or request; on an asset the caller may not see it is "not found". */
export async function getCertification(ctx: ServiceContext, id: string): Promise<CertificationView> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : null;
  const [row] = uuid
    ? await queryRows<CertificationRow>(ctx.db, certificationsSql(ctx, sql`c.id = ${uuid}::uuid`, 1))
    : [];
  if (!row) {
    throw new DataOpsError(
      'not_found',
      `no certification request ${id}: governance_list_certifications lists the ones you can see`,
    );
  }
  return toView(ctx, row);
}

export interface ListCertificationsRequest {
  urn?: string;
  status?: CertificationStatus;
  /** Only pending requests the caller may decide. */
  toReview?: boolean;
  limit?: number;
}

/** Certifications and requests on assets the caller may see, newest first. */
export async function listCertifications(ctx: ServiceContext, request: ListCertificationsRequest = {}) {
  const assetId = request.urn ? (await findVisibleAsset(ctx, request.urn)).id : null;
  const status = request.toReview ? 'pending' : (request.status ?? null);
  const now = ctx.clock().toISOString();
  const rows = await queryRows<CertificationRow>(
    ctx.db,
    certificationsSql(
      ctx,
      sql`(${assetId}::uuid is null or c.asset_id = ${assetId}::uuid)
        and (${status}::text is null
          or (case when c.status = 'approved' and c.expires_at <= ${now}::timestamptz then 'expired' else c.status end) = ${status})`,
      request.toReview ? 1000 : (request.limit ?? 50),
    ),
  );
  const views = rows.map((r) => toView(ctx, r));
  const listed = request.toReview ? views.filter((v) => v.canReview) : views;
  return { certifications: listed.slice(0, request.limit ?? 50) };
}
