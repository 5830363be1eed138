import { sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { type Db, queryRows, type Tx, textArray } from '../../db/create-db.js';
import { atoAuthorizations, complianceControls, governingDocuments } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from './access.js';
import { appendAudit } from './audit.js';
import { findVisibleDomain, loadApplicablePolicies, loadAssetFacts } from './policies.js';
import { type ComplianceStatus, complianceStatus, type UnmetRequirement, unmetRequirements } from './policy-rules.js';

export const atoStatuses = ['authorized', 'interim', 'testing', 'denied', 'pending'] as const;
export const controlStatuses = ['open', 'not_a_finding', 'not_applicable'] as const;

export interface ComplianceRecord {
  urn: string;
  ato?: {
    status: (typeof atoStatuses)[number];
    authorizingOfficial: string;
    grantedAt?: string;
    expiresAt?: string;
    note?: string;
  };
  control?: { controlId: string; benchmark?: string; status: (typeof controlStatuses)[number]; evidence?: string };
  document?: { title: string; kind: string; reference: string };
}

/**
 * Records an asset's ATO decision, the state of one STIG control, or a governing document (any of them in
 * one call); each replaces what was recorded before under the same key. Steward work; audited.
 */
export async function recordCompliance(ctx: ServiceContext, record: ComplianceRecord) {
  requireRole(ctx.principal, 'record compliance', 'steward');
  if (!record.ato && !record.control && !record.document) {
    throw new DataOpsError('invalid_input', 'nothing to record: give an ato, a control or a document');
  }
  const asset = await findVisibleAsset(ctx, record.urn);
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    if (record.ato) {
      const ato = {
        status: record.ato.status,
        authorizingOfficial: record.ato.authorizingOfficial,
        grantedAt: record.ato.grantedAt ? parseInstant('ato.grantedAt', record.ato.grantedAt) : null,
        expiresAt: record.ato.expiresAt ? parseInstant('ato.expiresAt', record.ato.expiresAt) : null,
        note: record.ato.note ?? null,
        recordedBy: ctx.principal.id,
        updatedAt: now,
      };
      if (ato.grantedAt && ato.expiresAt && ato.expiresAt <= ato.grantedAt) {
        throw new DataOpsError('invalid_input', 'ato.expiresAt must be after ato.grantedAt');
      }
      const written = await tx
        .insert(atoAuthorizations)
        .values({ assetId: asset.id, ...ato })
        .onConflictDoUpdate({
          target: atoAuthorizations.assetId,
          set: ato,
          setWhere: changed('ato_authorizations', [
            'status',
            'authorizing_official',
            'granted_at',
            'expires_at',
            'note',
          ]),
        })
        .returning({ assetId: atoAuthorizations.assetId });
      if (written.length > 0) await audit(tx, ctx, 'compliance.ato', asset.urn, { ...record.ato }, now);
    }
    if (record.control) {
      const control = {
        benchmark: record.control.benchmark ?? null,
        status: record.control.status,
        evidence: record.control.evidence ?? null,
        recordedBy: ctx.principal.id,
        updatedAt: now,
      };
      const written = await tx
        .insert(complianceControls)
        .values({ assetId: asset.id, controlId: record.control.controlId, ...control })
        .onConflictDoUpdate({
          target: [complianceControls.assetId, complianceControls.controlId],
          set: control,
          setWhere: changed('compliance_controls', ['benchmark', 'status', 'evidence']),
        })
        .returning({ id: complianceControls.id });
      if (written.length > 0) await audit(tx, ctx, 'compliance.control', asset.urn, { ...record.control }, now);
    }
    if (record.document) {
      const document = { kind: record.document.kind, reference: record.document.reference, addedBy: ctx.principal.id };
      const written = await tx
        .insert(governingDocuments)
        .values({ assetId: asset.id, title: record.document.title, ...document, addedAt: now })
        .onConflictDoUpdate({
          target: [governingDocuments.assetId, governingDocuments.title],
          set: document,
          setWhere: changed('governing_documents', ['kind', 'reference']),
        })
        .returning({ id: governingDocuments.id });
      if (written.length > 0) await audit(tx, ctx, 'compliance.document', asset.urn, { ...record.document }, now);
    }
  });
  return getCompliance(ctx, { urn: record.urn });
}

/** On conflict, update (and audit) only when a recorded field differs: recording the same facts again changes nothing. */
function changed(table: string, fields: string[]) {
  const list = (prefix: string) => sql.raw(fields.map((f) => `${prefix}.${f}`).join(', '));
  return sql`(${list(table)}) is distinct from (${list('excluded')})`;
}

function parseInstant(field: string, value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new DataOpsError('invalid_input', `${field} must be a date such as 2027-06-30, not "${value}"`);
  }
  return date;
}

async function audit(
  tx: Tx,
  ctx: ServiceContext,
  action: string,
  urn: string,
  details: Record<string, unknown>,
  at: Date,
) {
  await appendAudit(tx, { actorId: ctx.principal.id, action, targetUrn: urn, details, at });
}

export interface AssetCompliance {
  urn: string;
  qualifiedName: string;
  classification: Classification;
  status: ComplianceStatus;
  policies: string[];
  unmet: UnmetRequirement[];
  certifications: string[];
  ato: {
    status: string;
    inForce: boolean;
    authorizingOfficial: string;
    grantedAt: string | null;
    expiresAt: string | null;
    note: string | null;
  } | null;
  controls: {
    open: number;
    notAFinding: number;
    notApplicable: number;
    items: {
      controlId: string;
      benchmark: string | null;
      status: string;
      evidence: string | null;
      updatedAt: string;
    }[];
  };
  documents: { title: string; kind: string; reference: string }[];
}

/** Compliance of the given (already visible) assets: policy status with unmet requirements, ATO, STIG, documents. */
export async function assetsCompliance(db: Pick<Db, 'execute'>, assetIds: string[], now: Date) {
  const facts = await loadAssetFacts(db, assetIds, now);
  const applicable = await loadApplicablePolicies(db, assetIds);
  const ids = textArray(assetIds);
  const atos = await queryRows<{
    assetId: string;
    status: string;
    authorizingOfficial: string;
    grantedAt: string | null;
    expiresAt: string | null;
    note: string | null;
  }>(
    db,
    sql`select asset_id::text as "assetId", status, authorizing_official as "authorizingOfficial",
          granted_at::text as "grantedAt", expires_at::text as "expiresAt", note
        from ato_authorizations where asset_id = any(${ids}::uuid[])`,
  );
  const controls = await queryRows<{
    assetId: string;
    controlId: string;
    benchmark: string | null;
    status: string;
    evidence: string | null;
    updatedAt: string;
  }>(
    db,
    sql`select asset_id::text as "assetId", control_id as "controlId", benchmark, status, evidence,
          updated_at::text as "updatedAt"
        from compliance_controls where asset_id = any(${ids}::uuid[]) order by control_id`,
  );
  const documents = await queryRows<{ assetId: string; title: string; kind: string; reference: string }>(
    db,
    sql`select asset_id::text as "assetId", title, kind, reference
        from governing_documents where asset_id = any(${ids}::uuid[]) order by title`,
  );
  return facts.map((f): AssetCompliance => {
    const governing = applicable.get(f.id) ?? [];
    const unmet = unmetRequirements(f, governing);
    const ato = atos.find((a) => a.assetId === f.id);
    const mine = controls.filter((c) => c.assetId === f.id);
    const iso = (value: string | null) => (value ? new Date(value).toISOString() : null);
    return {
      urn: f.urn,
      qualifiedName: f.qualifiedName,
      classification: f.classification,
      status: complianceStatus(governing.length, unmet),
      policies: governing.map((p) => p.name),
      unmet,
      certifications: f.certifications,
      ato: ato
        ? {
            status: ato.status,
            inForce: f.atoCurrent,
            authorizingOfficial: ato.authorizingOfficial,
            grantedAt: iso(ato.grantedAt),
            expiresAt: iso(ato.expiresAt),
            note: ato.note,
          }
        : null,
      controls: {
        open: mine.filter((c) => c.status === 'open').length,
        notAFinding: mine.filter((c) => c.status === 'not_a_finding').length,
        notApplicable: mine.filter((c) => c.status === 'not_applicable').length,
        items: mine.map(({ assetId: _, updatedAt, ...c }) => ({ ...c, updatedAt: new Date(updatedAt).toISOString() })),
      },
      documents: documents.filter((d) => d.assetId === f.id).map(({ assetId: _, ...d }) => d),
    };
  });
}

/**
 * Compliance of one asset, or of the visible assets of a domain (a page of them, with status counts over all),
 * as governance_compliance and the audit report show it.
 */
export async function getCompliance(
  ctx: ServiceContext,
  request: { urn?: string; domain?: string; limit?: number; cursor?: string },
) {
  if ((request.urn === undefined) === (request.domain === undefined)) {
    throw new DataOpsError('invalid_input', 'give either an asset urn or a domain');
  }
  const now = ctx.clock();
  if (request.urn !== undefined) {
    const asset = await findVisibleAsset(ctx, request.urn);
    const assets = await assetsCompliance(ctx.db, [asset.id], now);
    return { scope: asset.urn, total: 1, summary: summarise(assets), assets, nextCursor: null };
  }
  const domain = await findVisibleDomain(ctx, request.domain!);
  const ids = await queryRows<{ id: string }>(
    ctx.db,
    sql`select a.id::text from assets a
        where a.domain_id = ${domain.id} and a.status = 'active' and ${visibleAssetsSql(ctx.principal)}
        order by a.qualified_name`,
  );
  const all = await assetsCompliance(
    ctx.db,
    ids.map((r) => r.id),
    now,
  );
  const limit = request.limit ?? 50;
  const offset = request.cursor ? decodeCursor(request.cursor) : 0;
  return {
    scope: `domain ${domain.id}`,
    total: all.length,
    summary: summarise(all),
    assets: all.slice(offset, offset + limit),
    nextCursor: offset + limit < all.length ? encodeCursor(offset + limit) : null,
  };
}

function summarise(assets: AssetCompliance[]) {
  const count = (status: ComplianceStatus) => assets.filter((a) => a.status === status).length;
  return {
    compliant: count('compliant'),
    warning: count('warning'),
    nonCompliant: count('non_compliant'),
    notGoverned: count('not_governed'),
    atoInForce: assets.filter((a) => a.ato?.inForce).length,
    openControls: assets.reduce((n, a) => n + a.controls.open, 0),
  };
}
