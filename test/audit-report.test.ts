import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../cli/workspace.js';
import { accessRequests, classificationEvents } from '../db/schema/index.js';
import { findVisibleAsset } from '../mcp-server/catalog/find-visible-asset.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { appendAudit } from '../mcp-server/governance/audit.js';
import type { AuditReport } from '../mcp-server/governance/audit-report.js';
import { createDemoCatalog } from './helpers/demo-catalog.js';
import { runCli } from './helpers/run-cli.js';

const demo = (qualifiedName: string) => {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
};
const spend = demo('contracts.vendor_spend_by_fy');
const payments = demo('contracts.payments');
const day = 86_400_000;

/** `dataops audit-report` on the demo workspace, with governance history recorded through the services. */
describe('dataops audit-report', () => {
  let db: string;
  let cleanup: () => Promise<void>;

  const report = async (as: string, target: string) => {
    const result = await runCli(['--db', db, '--as', as, 'audit-report', target, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    return { report: JSON.parse(result.stdout) as AuditReport, raw: result.stdout };
  };

  beforeAll(async () => {
    ({ db, cleanup } = await createDemoCatalog('dataops_auditreport'));
    const loaded = await runCli(['--db', db, '--json', 'demo']);
    expect(loaded.code, loaded.stderr).toBe(0);

    // The demo brings policies, ATO and STIG records and certifications; grants and a marking change are added here.
    const ws = await openWorkspace({ db });
    try {
      const paymentsAsset = await findVisibleAsset(ws.ctx, payments);
      const now = Date.now();
      await ws.database.db.insert(accessRequests).values([
        {
          assetId: paymentsAsset.id,
          requesterId: 't.brooks',
          justification: 'Carrier cost comparison for the Q3 review',
          status: 'approved',
          decidedBy: 'm.okafor',
          decidedAt: new Date(now - 5 * day),
          expiresAt: new Date(now + 25 * day),
        },
        {
          assetId: paymentsAsset.id,
          requesterId: 'a.chen',
          justification: 'Last year spend drill',
          status: 'approved',
          decidedBy: 'm.okafor',
          decidedAt: new Date(now - 60 * day),
          expiresAt: new Date(now - 30 * day),
        },
      ]);
      await ws.database.db.insert(classificationEvents).values({
        assetId: paymentsAsset.id,
        from: 'C',
        to: 'U',
        reason: 'Disbursements are published in USAspending',
        actorId: 'm.okafor',
      });
      // A lineage change recorded on contracts.programs that names a Top Secret asset in its details.
      await ws.database.db.transaction((tx) =>
        appendAudit(tx, {
          actorId: 'k.washington',
          action: 'lineage.edge_added',
          targetUrn: demo('contracts.programs'),
          details: { from: demo('performance.sap_program_reviews') },
          at: new Date(),
        }),
      );
    } finally {
      await ws.close();
    }
  }, 240_000);
  afterAll(() => cleanup());

  it('reports classification, lineage, policies, compliance and certifications of a certified view', async () => {
    const { report: r } = await report('m.okafor', 'contracts.vendor_spend_by_fy');
    expect(r.scope).toEqual({ kind: 'asset', id: spend, name: 'contracts.vendor_spend_by_fy' });
    expect(r.generatedBy).toMatchObject({ id: 'm.okafor', clearance: 'S' });
    expect(r.policies).toEqual([
      expect.objectContaining({
        name: 'Authoritative reporting sources',
        authority: 'DoDI 8320.02 (Sharing Data, Information, and IT Services)',
      }),
    ]);
    const [a] = r.assets;
    expect(a!.classification.marking).toBe('U');
    expect(a!.classification.sensitiveColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['obligated_usd', 'paid_usd']),
    );
    expect(a!.lineage.upstream.map((n) => n.qualifiedName)).toEqual(
      expect.arrayContaining(['contracts.payments', 'contracts.obligations', 'contracts.vendors']),
    );
    expect(a!.lineage.downstream).toEqual(
      expect.arrayContaining([expect.objectContaining({ qualifiedName: 'performance.vendor_scorecard', hops: 1 })]),
    );
    expect(a!.compliance).toMatchObject({ status: 'compliant', unmet: [], certifications: ['Approved for Reporting'] });
    expect(a!.certifications).toEqual([
      expect.objectContaining({
        label: 'Approved for Reporting',
        status: 'approved',
        requestedBy: 'a.chen',
        reviewedBy: 'm.okafor',
      }),
    ]);
    expect(a!.auditTrail.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['certification.request', 'certification.approve']),
    );
    expect(r.summary).toMatchObject({ assets: 1, compliant: 1, certified: 1 });

    const search = await runCli(['--db', db, '--as', 'a.chen', '--json', 'search', 'spend', '--certified']);
    expect(search.code, search.stderr).toBe(0);
    const hits = (JSON.parse(search.stdout) as { hits: { urn: string; certification: string | null }[] }).hits;
    expect(hits).toContainEqual(expect.objectContaining({ urn: spend, certification: 'Approved for Reporting' }));
  });

  it('writes Markdown an assessor can read: ATO, STIG, documents, grants in force and marking history', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dataops-report-')), 'report.md');
    const result = await runCli(['--db', db, '--as', 'm.okafor', 'audit-report', payments, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const markdown = readFileSync(out, 'utf8');
    expect(markdown).toMatch(/^# Audit report: contracts\.payments\n/);
    for (const expected of [
      '### Financial system authorisation',
      '- Authority: DoDI 8510.01 (Risk Management Framework)',
      'Status: **Compliant with warnings**',
      '| no open STIG control | Financial system authorisation | DoDI 8510.01 (Risk Management Framework) | warning |',
      'ATO: authorized (in force), authorising official Col. Dana Reyes, USAF, granted 2025-03-01, expires 2028-03-01',
      '| V-214120 | PostgreSQL 9.x STIG V2R5 | not_a_finding |',
      '| V-214133 | PostgreSQL 9.x STIG V2R5 | open |',
      '| System Security Plan | SSP | https://emass.example.mil/ssp/2231 |',
      '| t.brooks | Carrier cost comparison for the Q3 review | m.okafor |',
      '| C | U | Disbursements are published in USAspending | m.okafor |',
      'Downstream (within 3 hops): ',
      'contracts.vendor_spend_by_fy (U, 1 hop)',
      'compliance.control',
    ]) {
      expect(markdown).toContain(expected);
    }
    expect(markdown).not.toContain('Last year spend drill');
  });

  it('leaves out what the reader may not see: assets above clearance, their columns, lineage and audit entries', async () => {
    const secret = await report('m.okafor', 'performance');
    const topSecret = await report('k.washington', 'performance');
    expect(secret.report.scope).toEqual({ kind: 'domain', id: 'performance', name: 'Contractor Performance' });
    expect(topSecret.raw).toContain('performance.sap_program_reviews');
    expect(secret.raw).not.toContain('sap_program_reviews');
    expect(secret.report.assets.length).toBe(topSecret.report.assets.length - 1);

    const confidential = await report('d.kowalski', 'contracts.programs');
    expect(confidential.raw).not.toContain('is_special_access');
    expect(confidential.raw).not.toContain('sensitive_program_performance');
    expect(confidential.raw).not.toContain('sap_program_reviews');
    const admin = await report('k.washington', 'contracts.programs');
    expect(admin.raw).toContain('is_special_access');
    expect(admin.raw).toContain('performance.sensitive_program_performance');
    expect(admin.report.assets[0]!.auditTrail.entries.map((e) => e.action)).toContain('lineage.edge_added');
    expect(confidential.report.assets[0]!.auditTrail.entries.map((e) => e.action)).not.toContain('lineage.edge_added');
  });

  it('needs a steward, and a hidden domain reads like one that does not exist', async () => {
    const viewer = await runCli(['--db', db, '--as', 'a.chen', 'audit-report', 'contracts']);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('a.chen may not produce audit reports: it needs the steward role');
    const hidden = await runCli(['--db', db, '--as', 'd.kowalski', 'audit-report', 'personnel']);
    const missing = await runCli(['--db', db, '--as', 'd.kowalski', 'audit-report', 'no_such_domain']);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr.replaceAll('personnel', 'no_such_domain')).toBe(missing.stderr);
  });
});
