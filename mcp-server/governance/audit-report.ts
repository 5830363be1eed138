import { sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import type { Classification } from '../../db/schema/types.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { walk } from '../lineage/queries.js';
import { hiddenColumnNames, requireRole, visibleAssetsSql } from './access.js';
import { appendAudit, withoutMentions } from './audit.js';
import { listCertifications } from './certification.js';
import { type AssetCompliance, assetsCompliance } from './compliance.js';
import { findVisibleDomain, listPolicies } from './policies.js';
import { describeRule } from './policy-rules.js';

/** How far the report follows lineage each way, and how many audit entries it lists per asset (newest first). */
const lineageDepth = 3;
const auditEntriesPerAsset = 100;

export interface LineageNeighbour {
  urn: string;
  qualifiedName: string;
  classification: Classification;
  hops: number;
}

export interface AuditReportAsset {
  urn: string;
  qualifiedName: string;
  kind: string;
  domain: string | null;
  owner: string | null;
  description: string | null;
  tags: string[];
  classification: {
    marking: Classification;
    sensitiveColumns: { name: string; sensitivity: string | null; classification: Classification | null }[];
    history: {
      at: string;
      column: string | null;
      from: Classification | null;
      to: Classification;
      reason: string;
      actor: string | null;
    }[];
  };
  lineage: { upstream: LineageNeighbour[]; downstream: LineageNeighbour[]; truncated: boolean };
  compliance: AssetCompliance;
  certifications: {
    label: string;
    status: string;
    requestedBy: string;
    requestedAt: string;
    reviewedBy: string | null;
    reviewedAt: string | null;
    reviewNote: string | null;
    expiresAt: string | null;
  }[];
  accessGrants: {
    principal: string;
    purpose: string;
    approvedBy: string;
    approvedAt: string | null;
    expiresAt: string | null;
  }[];
  auditTrail: {
    total: number;
    entries: { seq: number; at: string; actor: string; action: string; details: Record<string, unknown> }[];
  };
}

export interface AuditReport {
  title: string;
  scope: { kind: 'asset' | 'domain'; id: string; name: string };
  generatedAt: string;
  generatedBy: { id: string; displayName: string; clearance: Classification };
  summary: {
    assets: number;
    compliant: number;
    warning: number;
    nonCompliant: number;
    notGoverned: number;
    certified: number;
    activeGrants: number;
    openControls: number;
  };
  policies: { name: string; kind: string; authority: string | null; rules: string[] }[];
  assets: AuditReportAsset[];
}

/**
 * Everything an assessor asks about an asset or a domain, in one document: classification and its history,
 * lineage, policies and compliance (ATO, STIG, documents), certifications, access grants in force and the
 * audit trail. Written as the caller sees the catalog: hidden assets, columns and entries that name them
 * are left out without a trace. Stewards and admins only: the trail says who looked at what.
 */
export async function buildAuditReport(
  ctx: ServiceContext,
  target: { urn: string } | { domain: string },
): Promise<AuditReport> {
  requireRole(ctx.principal, 'produce audit reports', 'steward');
  const now = ctx.clock();
  let scope: AuditReport['scope'];
  let assetIds: string[];
  if ('urn' in target) {
    const asset = await findVisibleAsset(ctx, target.urn);
    scope = { kind: 'asset', id: asset.urn, name: asset.qualifiedName };
    assetIds = [asset.id];
  } else {
    const domain = await findVisibleDomain(ctx, target.domain);
    scope = { kind: 'domain', id: domain.id, name: domain.name };
    const rows = await queryRows<{ id: string }>(
      ctx.db,
      sql`select a.id::text from assets a
          where a.domain_id = ${domain.id} and a.status = 'active' and ${visibleAssetsSql(ctx.principal)}
          order by a.qualified_name`,
    );
    assetIds = rows.map((r) => r.id);
  }
  const compliance = await assetsCompliance(ctx.db, assetIds, now);
  const assets: AuditReportAsset[] = [];
  for (const c of compliance) assets.push(await assetSection(ctx, c, now));
  const governing = new Set(compliance.flatMap((c) => c.policies));
  const policies = (await listPolicies(ctx)).policies
    .filter((p) => governing.has(p.name))
    .map((p) => ({ name: p.name, kind: p.kind, authority: p.authority, rules: p.rules.map(describeRule) }));
  // Producing a report is itself on the record: who looked at the governance of what, and when.
  await ctx.db.transaction((tx) =>
    appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'audit.report',
      targetUrn: scope.kind === 'asset' ? scope.id : null,
      details: { scope: scope.kind, id: scope.id, assets: assets.length },
      at: now,
    }),
  );
  const count = (status: AssetCompliance['status']) => compliance.filter((c) => c.status === status).length;
  return {
    title: `Audit report: ${scope.name}`,
    scope,
    generatedAt: now.toISOString(),
    generatedBy: {
      id: ctx.principal.id,
      displayName: ctx.principal.displayName,
      clearance: ctx.principal.clearance,
    },
    summary: {
      assets: assets.length,
      compliant: count('compliant'),
      warning: count('warning'),
      nonCompliant: count('non_compliant'),
      notGoverned: count('not_governed'),
      certified: compliance.filter((c) => c.certifications.length > 0).length,
      activeGrants: assets.reduce((n, a) => n + a.accessGrants.length, 0),
      openControls: compliance.reduce((n, c) => n + c.controls.open, 0),
    },
    policies,
    assets,
  };
}

async function assetSection(ctx: ServiceContext, compliance: AssetCompliance, now: Date): Promise<AuditReportAsset> {
  const asset = await findVisibleAsset(ctx, compliance.urn);
  const clearance = ctx.principal.clearance;
  const sensitiveColumns = await queryRows<AuditReportAsset['classification']['sensitiveColumns'][number]>(
    ctx.db,
    sql`select name, sensitivity, classification::text as classification from columns
        where asset_id = ${asset.id} and (sensitivity is not null or classification is not null)
          and (classification is null or classification <= ${clearance}::classification)
        order by position`,
  );
  // A column above the reader's clearance is not in the table for them, nor in its history.
  const history = await queryRows<AuditReportAsset['classification']['history'][number]>(
    ctx.db,
    sql`select e.created_at::text as at, e.column_name as column, e.from_level::text as from, e.to_level::text as to,
          e.reason, e.actor_id as actor
        from classification_events e
        where e.asset_id = ${asset.id}
          and (e.column_name is null or exists (select 1 from columns k where k.asset_id = e.asset_id
            and k.name = e.column_name and (k.classification is null or k.classification <= ${clearance}::classification)))
        order by e.created_at, e.id`,
  );
  const lineage = await lineageNeighbours(ctx, asset.id, now);
  const certifications = (await listCertifications(ctx, { urn: asset.urn, limit: 200 })).certifications.map((c) => ({
    label: c.label,
    status: c.status,
    requestedBy: c.requestedBy,
    requestedAt: c.requestedAt,
    reviewedBy: c.reviewedBy,
    reviewedAt: c.reviewedAt,
    reviewNote: c.reviewNote,
    expiresAt: c.expiresAt,
  }));
  const grants = await queryRows<{
    principal: string;
    purpose: string;
    decidedBy: string | null;
    autoRule: string | null;
    decidedAt: string | null;
    expiresAt: string | null;
  }>(
    ctx.db,
    sql`select r.requester_id as principal, r.justification as purpose, r.decided_by as "decidedBy",
          r.auto_rule as "autoRule", r.decided_at::text as "decidedAt", r.expires_at::text as "expiresAt"
        from access_requests r
        where r.asset_id = ${asset.id} and r.status = 'approved'
          and (r.expires_at is null or r.expires_at > ${now.toISOString()}::timestamptz)
        order by r.decided_at, r.id`,
  );
  const trail = await auditTrail(ctx, asset.urn, await hiddenColumnNames(ctx, asset.id));
  return {
    urn: asset.urn,
    qualifiedName: asset.qualifiedName,
    kind: asset.kind,
    domain: asset.domainId,
    owner: asset.owner,
    description: asset.description,
    tags: asset.tags,
    classification: {
      marking: asset.classification,
      sensitiveColumns,
      history: history.map((h) => ({ ...h, at: iso(h.at)! })),
    },
    lineage,
    compliance,
    certifications,
    accessGrants: grants.map((g) => ({
      principal: g.principal,
      purpose: g.purpose,
      approvedBy: g.autoRule ? `rule ${g.autoRule}` : (g.decidedBy ?? 'unknown'),
      approvedAt: iso(g.decidedAt),
      expiresAt: iso(g.expiresAt),
    })),
    auditTrail: trail,
  };
}

function iso(value: string | null): string | null {
  return value ? new Date(value).toISOString() : null;
}

/** Visible assets up to three hops upstream and downstream over data-flow lineage, nearest first. */
async function lineageNeighbours(ctx: ServiceContext, assetId: string, now: Date) {
  const options = { depth: lineageDepth, asOf: now, maxNodes: 200, kinds: ['derives' as const] };
  const [up, down] = [await walk(ctx, assetId, 'upstream', options), await walk(ctx, assetId, 'downstream', options)];
  const ids = [...up.layers.keys(), ...down.layers.keys()].filter((id) => id !== assetId);
  const rows = await queryRows<{ id: string; urn: string; qualifiedName: string; classification: Classification }>(
    ctx.db,
    sql`select a.id::text, a.urn, a.qualified_name as "qualifiedName", a.classification::text as classification
        from assets a where a.id = any(${textArray(ids)}::uuid[]) and ${visibleAssetsSql(ctx.principal)}`,
  );
  const side = (layers: Map<string, number>) =>
    rows
      .filter((r) => layers.has(r.id) && r.id !== assetId)
      .map((r) => ({
        urn: r.urn,
        qualifiedName: r.qualifiedName,
        classification: r.classification,
        hops: Math.abs(layers.get(r.id)!),
      }))
      .sort((a, b) => a.hops - b.hops || a.qualifiedName.localeCompare(b.qualifiedName));
  return { upstream: side(up.layers), downstream: side(down.layers), truncated: up.truncated || down.truncated };
}

/**
 * The asset's audit entries, newest first. An entry naming an asset the reader may not see is left out;
 * columns above the reader's clearance are cut out of the details (an annotation lists every column).
 */
async function auditTrail(ctx: ServiceContext, urn: string, hiddenColumns: Set<string>) {
  const readable = sql`l.target_urn = ${urn} and not exists (select 1 from assets a
      where not ${visibleAssetsSql(ctx.principal)} and strpos(l.details::text, a.urn) > 0)`;
  const [total] = await queryRows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from audit_log l where ${readable}`,
  );
  const entries = await queryRows<{
    seq: number;
    at: string;
    actor: string;
    action: string;
    details: Record<string, unknown>;
  }>(
    ctx.db,
    sql`select l.seq::float8 as seq, l.at::text as at, l.actor_id as actor, l.action, l.details
        from audit_log l where ${readable} order by l.seq desc limit ${auditEntriesPerAsset}`,
  );
  return {
    total: total!.n,
    entries: entries.map((e) => ({
      ...e,
      at: iso(e.at)!,
      details: withoutMentions(e.details, hiddenColumns) as Record<string, unknown>,
    })),
  };
}
