import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../cli/workspace.js';
import { accessRequests, classificationEvents } from '../db/schema/index.js';
import { findVisibleAsset } from '../mcp-server/catalog/assets.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { appendAudit } from '../mcp-server/governance/audit.js';
import type { AuditReport } from '../mcp-server/governance/audit-report.js';
import { requestCertification, reviewCertification } from '../mcp-server/governance/certification.js';
import { recordCompliance } from '../mcp-server/governance/compliance.js';
import { linkPolicy, savePolicy } from '../mcp-server/governance/policies.js';
import { runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

const demo = (qualifiedName: string) => {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
};
const spend = demo('contracts.vendor_spend_by_fy');
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
    if (process.env.DATAOPS_TEST_DATABASE_URL) {
      const catalog = await createScratchDatabase(serverUrl, 'dataops_auditreport');
      db = catalog.url;
      cleanup = async () => {
        await catalog.drop();
        const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
        await admin.unsafe(`drop database if exists ${catalog.name}_demo with (force)`);
        await admin.end();
      };
    } else {
      db = mkdtempSync(path.join(tmpdir(), 'dataops-audit-report-'));
      cleanup = async () => rmSync(db, { recursive: true, force: true });
    }
    const loaded = await runCli(['--db', db, '--json', 'demo']);
    expect(loaded.code, loaded.stderr).toBe(0);

    const ws = await openWorkspace({ db });
    try {
      const steward = await ws.contextFor('m.okafor');
      await savePolicy(steward, {
        name: 'Contract data handling',
        kind: 'handling',
        document: '# Contract data handling\n\nSpend data used in briefings is certified and has an owner.',
        authority: 'DFARS 252.204-7012',
        rules: [
          { when: {}, require: { type: 'has_owner' }, enforcement: 'blocking', actions: ['asset.update'] },
          {
            when: { tag: 'reporting' },
            require: { type: 'certified', label: 'Approved for Reporting' },
            enforcement: 'warning',
            actions: [],
          },
          { when: {}, require: { type: 'controls_closed' }, enforcement: 'warning', actions: [] },
        ],
      });
      await linkPolicy(steward, { policy: 'Contract data handling', target: { domain: 'contracts' } });
      await recordCompliance(steward, {
        urn: spend,
        ato: {
          status: 'authorized',
          authorizingOfficial: 'Col. Dana Reyes',
          grantedAt: '2025-03-01',
          expiresAt: '2028-03-01',
        },
        control: {
          controlId: 'V-214120',
          benchmark: 'PostgreSQL 9.x STIG V2R5',
          status: 'open',
          evidence: 'pgaudit not enabled on the reporting replica',
        },
        document: { title: 'System Security Plan', kind: 'SSP', reference: 'https://emass.example/ssp/2231' },
      });
      const asked = await requestCertification(await ws.contextFor('a.chen'), {
        urn: spend,
        label: 'Approved for Reporting',
        note: 'Used in the FY25 spend briefing',
      });
      await reviewCertification(await ws.contextFor('j.alvarez'), {
        id: asked.id,
        decision: 'approve',
        expiresInDays: 180,
      });

      const spendAsset = await findVisibleAsset(ws.ctx, spend);
      const now = Date.now();
      await ws.database.db.insert(accessRequests).values([
        {
          assetId: spendAsset.id,
          requesterId: 't.brooks',
          justification: 'Carrier cost comparison for the Q3 review',
          status: 'approved',
          decidedBy: 'j.alvarez',
          decidedAt: new Date(now - 5 * day),
          expiresAt: new Date(now + 25 * day),
        },
        {
          assetId: spendAsset.id,
          requesterId: 'a.chen',
          justification: 'Last year spend drill',
          status: 'approved',
          decidedBy: 'j.alvarez',
          decidedAt: new Date(now - 60 * day),
          expiresAt: new Date(now - 30 * day),
        },
      ]);
      await ws.database.db.insert(classificationEvents).values({
        assetId: spendAsset.id,
        from: 'C',
        to: 'U',
        reason: 'Totals by fiscal year are publicly released in USAspending',
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

  it('reports classification, lineage, policies, compliance, certifications, grants and the audit trail', async () => {
    const { report: r } = await report('m.okafor', 'contracts.vendor_spend_by_fy');
    expect(r.scope).toEqual({ kind: 'asset', id: spend, name: 'contracts.vendor_spend_by_fy' });
    expect(r.generatedBy).toMatchObject({ id: 'm.okafor', clearance: 'S' });
    expect(r.policies).toEqual([
      expect.objectContaining({ name: 'Contract data handling', authority: 'DFARS 252.204-7012' }),
    ]);
    const [a] = r.assets;
    expect(a!.classification.marking).toBe('U');
    expect(a!.classification.history).toEqual([expect.objectContaining({ from: 'C', to: 'U', actor: 'm.okafor' })]);
    expect(a!.classification.sensitiveColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['obligated_usd', 'paid_usd']),
    );
    expect(a!.lineage.upstream.map((n) => n.qualifiedName)).toEqual(
      expect.arrayContaining(['contracts.payments', 'contracts.obligations', 'contracts.vendors']),
    );
    expect(a!.lineage.downstream).toEqual(
      expect.arrayContaining([expect.objectContaining({ qualifiedName: 'performance.vendor_scorecard', hops: 1 })]),
    );
    expect(a!.compliance.status).toBe('warning');
    expect(a!.compliance.unmet.map((u) => u.requirement)).toEqual(['no open STIG control']);
    expect(a!.compliance.ato).toMatchObject({ authorizingOfficial: 'Col. Dana Reyes', inForce: true });
    expect(a!.compliance.controls.items).toEqual([expect.objectContaining({ controlId: 'V-214120', status: 'open' })]);
    expect(a!.compliance.documents[0]!.title).toBe('System Security Plan');
    expect(a!.certifications).toEqual([
      expect.objectContaining({
        label: 'Approved for Reporting',
        status: 'approved',
        requestedBy: 'a.chen',
        reviewedBy: 'j.alvarez',
      }),
    ]);
    expect(a!.accessGrants).toEqual([expect.objectContaining({ principal: 't.brooks', approvedBy: 'j.alvarez' })]);
    const actions = a!.auditTrail.entries.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'certification.request',
        'certification.approve',
        'compliance.ato',
        'compliance.control',
        'compliance.document',
      ]),
    );
    expect(r.summary).toMatchObject({ assets: 1, warning: 1, certified: 1, activeGrants: 1, openControls: 1 });
  });

  it('writes the same content as Markdown an assessor can read', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dataops-report-')), 'report.md');
    const result = await runCli(['--db', db, '--as', 'm.okafor', 'audit-report', spend, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const markdown = readFileSync(out, 'utf8');
    expect(markdown).toMatch(/^# Audit report: contracts\.vendor_spend_by_fy\n/);
    for (const expected of [
      '## Policies',
      '### Contract data handling',
      '- Authority: DFARS 252.204-7012',
      'Status: **Compliant with warnings**',
      '| no open STIG control | Contract data handling | DFARS 252.204-7012 | warning |',
      'ATO: authorized (in force), authorising official Col. Dana Reyes, granted 2025-03-01, expires 2028-03-01',
      '| V-214120 | PostgreSQL 9.x STIG V2R5 | open | pgaudit not enabled on the reporting replica |',
      '| System Security Plan | SSP | https://emass.example/ssp/2231 |',
      '| Approved for Reporting | approved | a.chen | j.alvarez |',
      '| t.brooks | Carrier cost comparison for the Q3 review | j.alvarez |',
      'Totals by fiscal year are publicly released in USAspending',
      'performance.vendor_scorecard (C, 1 hop)',
      'certification.approve',
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
