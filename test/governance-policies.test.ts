import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { callOk, callTool, connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);

interface Compliance {
  total: number;
  summary: { compliant: number; warning: number; nonCompliant: number; notGoverned: number; openControls: number };
  assets: {
    urn: string;
    status: string;
    policies: string[];
    unmet: { policy: string; requirement: string; enforcement: string }[];
    ato: { status: string; inForce: boolean; authorizingOfficial: string } | null;
    controls: { open: number; notAFinding: number; items: { controlId: string; evidence: string | null }[] };
    documents: { title: string; kind: string; reference: string }[];
  }[];
}

describe('policies, enforcement and compliance', () => {
  let database: Database;
  let steward: Client;
  let analyst: Client;

  beforeAll(async () => {
    database = await createTestDb();
    const adminCtx = await createTestContext(database);
    await syncSource(adminCtx, warehouseSnapshot());
    await defineDomains(adminCtx, [
      { id: 'procurement', name: 'Procurement', restricted: false },
      { id: 'personnel', name: 'Personnel', restricted: true },
    ]);
    await annotateAssets(adminCtx, [
      { urn: urn('procurement', 'contracts'), domain: 'procurement', tags: ['finance'], classification: 'U' },
      { urn: urn('procurement', 'vendor_spend'), domain: 'procurement', tags: ['finance'], classification: 'U' },
      { urn: urn('procurement', 'vendors'), domain: 'procurement', classification: 'U' },
      {
        urn: urn('personnel', 'service_members'),
        domain: 'personnel',
        classification: 'U',
        columns: { ssn: { sensitivity: 'pii' } },
      },
    ]);
    steward = await connectMcpClient(
      await contextAs(database, {
        id: 'sam',
        displayName: 'Sam Steward',
        clearance: 'S',
        roles: ['steward'],
        domains: ['personnel'],
      }),
    );
    analyst = await connectMcpClient(
      await contextAs(database, { id: 'ana', displayName: 'Ana Analyst', clearance: 'U', roles: ['viewer'] }),
    );
  });
  afterAll(() => database.close());

  it('evaluates a policy linked to a domain: PII must be marked at least C, and should be certified', async () => {
    const policy = await callOk<{ name: string; authority: string; rules: unknown[] }>(
      steward,
      'governance_create_policy',
      {
        name: 'PII handling',
        kind: 'privacy',
        document: '# PII handling\n\nPersonal data is marked at least CONFIDENTIAL and certified by its steward.',
        authority: 'NIST SP 800-53 Rev. 5 AC-3',
        rules: [
          {
            when: { columnSensitivity: 'pii' },
            require: { type: 'classification_at_least', level: 'C' },
            enforcement: 'blocking',
            actions: ['asset.update'],
          },
          { require: { type: 'certified' }, enforcement: 'warning' },
          { when: { domain: 'personnel' }, require: { type: 'description' }, enforcement: 'warning' },
        ],
      },
    );
    expect(policy.authority).toBe('NIST SP 800-53 Rev. 5 AC-3');
    await callOk(steward, 'governance_link_policy', { policy: 'PII handling', domain: 'personnel' });

    const compliance = await callOk<Compliance>(steward, 'governance_compliance', {
      urn: urn('personnel', 'service_members'),
    });
    expect(compliance.assets[0]!.status).toBe('non_compliant');
    expect(compliance.assets[0]!.unmet.map((u) => `${u.enforcement}: ${u.requirement}`).sort()).toEqual([
      'blocking: classified at least C',
      'warning: certified',
    ]);

    // The clearance investigations table has no PII column: only the certification rule applies to it.
    await annotateAssets(await createTestContext(database), [
      { urn: urn('personnel', 'clearance_investigations'), domain: 'personnel', classification: 'C' },
    ]);
    const domain = await callOk<Compliance>(steward, 'governance_compliance', { domain: 'personnel' });
    expect(domain.total).toBe(2);
    expect(domain.summary).toMatchObject({ nonCompliant: 1, warning: 1, compliant: 0 });
  });

  it('a blocking policy refuses the update it governs, naming the policy and the requirement, and changes nothing', async () => {
    await callOk(steward, 'governance_create_policy', {
      name: 'Records retention',
      kind: 'retention',
      document: 'Financial records carry a retention schedule tag (retention:<period>).',
      authority: 'DoD 7000.14-R Vol. 1 Ch. 9',
      rules: [{ require: { type: 'tag', tag: 'retention' }, enforcement: 'blocking', actions: ['asset.update'] }],
    });
    await callOk(steward, 'governance_link_policy', { policy: 'Records retention', tag: 'finance' });

    const refused = await callTool(steward, 'catalog_update_asset', {
      urn: urn('procurement', 'vendor_spend'),
      description: 'Payments per vendor and fiscal year',
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('Records retention');
    expect(refused.text).toContain('tagged retention');
    const profile = await callOk<{ description: string }>(steward, 'catalog_get_asset', {
      urn: urn('procurement', 'vendor_spend'),
    });
    expect(profile.description).toBe('Money paid to each vendor per fiscal year, from the finance system');

    // The same change together with the retention tag leaves the asset compliant, so it goes through.
    const updated = await callOk<{ description: string; tags: string[]; policyWarnings: unknown[] }>(
      steward,
      'catalog_update_asset',
      { urn: urn('procurement', 'vendor_spend'), description: 'Payments per vendor', addTags: ['retention:7y'] },
    );
    expect(updated.tags).toContain('retention:7y');
    expect(updated.policyWarnings).toEqual([]);

    const removing = await callTool(steward, 'catalog_update_asset', {
      urn: urn('procurement', 'vendor_spend'),
      removeTags: ['retention:7y'],
    });
    expect(removing.isError).toBe(true);
    const after = await callOk<{ tags: string[] }>(steward, 'catalog_get_asset', {
      urn: urn('procurement', 'vendor_spend'),
    });
    expect(after.tags).toContain('retention:7y');
  });

  it('a warning policy lets the update through and reports the warning', async () => {
    await callOk(steward, 'governance_create_policy', {
      name: 'Stewardship',
      kind: 'handling',
      document: 'Vendor data used in reports is certified Approved for Reporting.',
      authority: 'DoD Data Strategy (2020), goal 3',
      rules: [{ require: { type: 'certified', label: 'Approved for Reporting' }, enforcement: 'warning' }],
    });
    await callOk(steward, 'governance_link_policy', { policy: 'Stewardship', urn: urn('procurement', 'vendors') });
    const result = await callTool(steward, 'catalog_update_asset', {
      urn: urn('procurement', 'vendors'),
      description: 'Registered vendors',
    });
    expect(result.isError, result.text).toBeFalsy();
    const updated = result.structuredContent as {
      description: string;
      policyWarnings: { policy: string; requirement: string }[];
    };
    expect(updated.description).toBe('Registered vendors');
    expect(updated.policyWarnings).toEqual([
      expect.objectContaining({ policy: 'Stewardship', requirement: 'certified "Approved for Reporting"' }),
    ]);
    expect(result.text).toContain('warning: policy "Stewardship"');
  });

  it('a blocking policy on lineage edits refuses a manual edge', async () => {
    await callOk(steward, 'governance_create_policy', {
      name: 'Certified provenance',
      kind: 'quality',
      document: 'Lineage into the contracts table is changed only while it is certified.',
      authority: 'AFI 17-130 para 4.2',
      rules: [{ require: { type: 'certified' }, enforcement: 'blocking', actions: ['lineage.edit'] }],
    });
    await callOk(steward, 'governance_link_policy', {
      policy: 'Certified provenance',
      urn: urn('procurement', 'contracts'),
    });
    const refused = await callTool(steward, 'lineage_add_edge', {
      from: urn('procurement', 'vendors'),
      to: urn('procurement', 'contracts'),
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('Certified provenance');
    expect(refused.text).toContain('requires certified');
    const edges = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from lineage_edges where origin = 'manual'`,
    );
    expect(edges[0]!.n).toBe(0);
    // Other actions are not governed by that rule.
    const untouched = await callTool(steward, 'catalog_update_asset', {
      urn: urn('procurement', 'contracts'),
      addTags: ['retention:10y'],
    });
    expect(untouched.isError, untouched.text).toBeFalsy();
  });

  it('records ATO, STIG controls and governing documents, and evaluates ato_current and controls_closed', async () => {
    const target = urn('procurement', 'contracts');
    await callOk(steward, 'governance_create_policy', {
      name: 'RMF authorisation',
      kind: 'security',
      document: 'Systems holding contract data operate under an ATO with no open CAT I findings.',
      authority: 'DoDI 8510.01',
      rules: [
        { require: { type: 'ato_current' }, enforcement: 'warning' },
        { require: { type: 'controls_closed' }, enforcement: 'warning' },
      ],
    });
    await callOk(steward, 'governance_link_policy', { policy: 'RMF authorisation', urn: target });
    await callOk(steward, 'governance_record_compliance', {
      urn: target,
      ato: {
        status: 'authorized',
        authorizingOfficial: 'Col. R. Ortiz',
        grantedAt: '2023-01-01',
        expiresAt: '2024-01-01',
      },
      control: { controlId: 'V-214120', benchmark: 'PostgreSQL 9.x STIG V2R5', status: 'open', evidence: 'audit off' },
      document: { title: 'System Security Plan', kind: 'SSP', reference: 'https://emass.example/ssp/4411' },
    });
    let compliance = await callOk<Compliance>(steward, 'governance_compliance', { urn: target });
    let asset = compliance.assets[0]!;
    expect(asset.ato).toMatchObject({ status: 'authorized', inForce: false, authorizingOfficial: 'Col. R. Ortiz' });
    expect(asset.controls.open).toBe(1);
    expect(asset.documents).toEqual([
      { title: 'System Security Plan', kind: 'SSP', reference: 'https://emass.example/ssp/4411' },
    ]);
    expect(asset.unmet.map((u) => u.requirement)).toEqual(
      expect.arrayContaining(['an ATO or IATO in force', 'no open STIG control']),
    );

    await callOk(steward, 'governance_record_compliance', {
      urn: target,
      ato: {
        status: 'authorized',
        authorizingOfficial: 'Col. R. Ortiz',
        grantedAt: '2025-01-01',
        expiresAt: '2099-01-01',
      },
      control: { controlId: 'V-214120', status: 'not_a_finding', evidence: 'log_statement = all since 2025-02' },
    });
    compliance = await callOk<Compliance>(steward, 'governance_compliance', { urn: target });
    asset = compliance.assets[0]!;
    expect(asset.ato?.inForce).toBe(true);
    expect(asset.controls).toMatchObject({ open: 0, notAFinding: 1 });
    expect(asset.controls.items[0]!.evidence).toBe('log_statement = all since 2025-02');
    expect(asset.unmet.filter((u) => u.policy === 'RMF authorisation')).toEqual([]);

    // Recording the same facts and saving the same policy again changes nothing and records nothing.
    const governanceEntries = async () =>
      (
        await queryRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from audit_log where action like 'compliance.%' or action like 'policy.%'`,
        )
      )[0]!.n;
    const entries = await governanceEntries();
    await callOk(steward, 'governance_record_compliance', {
      urn: target,
      ato: {
        status: 'authorized',
        authorizingOfficial: 'Col. R. Ortiz',
        grantedAt: '2025-01-01',
        expiresAt: '2099-01-01',
      },
      control: { controlId: 'V-214120', status: 'not_a_finding', evidence: 'log_statement = all since 2025-02' },
      document: { title: 'System Security Plan', kind: 'SSP', reference: 'https://emass.example/ssp/4411' },
    });
    await callOk(steward, 'governance_create_policy', {
      name: 'RMF authorisation',
      kind: 'security',
      document: 'Systems holding contract data operate under an ATO with no open CAT I findings.',
      authority: 'DoDI 8510.01',
      rules: [
        { require: { type: 'ato_current' }, enforcement: 'warning' },
        { require: { type: 'controls_closed' }, enforcement: 'warning' },
      ],
    });
    expect(await governanceEntries()).toBe(entries);

    const audit = await queryRows<{ action: string }>(
      database.db,
      sql`select action from audit_log where target_urn = ${target} order by seq`,
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['policy.link', 'compliance.ato', 'compliance.control', 'compliance.document']),
    );
  });

  it('needs a steward to write, and never confirms what the caller may not see', async () => {
    const denied = await callTool(analyst, 'governance_create_policy', {
      name: 'Mine',
      kind: 'access',
      document: 'x',
      authority: 'none',
    });
    expect(denied.isError).toBe(true);
    expect(denied.text).toContain('steward');

    const unknownDomain = await callTool(steward, 'governance_create_policy', {
      name: 'Typo',
      kind: 'access',
      document: 'x',
      authority: 'none',
      rules: [{ when: { domain: 'personel' }, require: { type: 'has_owner' }, enforcement: 'warning' }],
    });
    expect(unknownDomain.text).toContain('no domain personel');

    const hiddenAsset = await callTool(analyst, 'governance_compliance', { urn: urn('personnel', 'service_members') });
    const missingAsset = await callTool(analyst, 'governance_compliance', { urn: urn('personnel', 'nothing_here') });
    expect(hiddenAsset.isError).toBe(true);
    expect(hiddenAsset.text.replace('service_members', 'nothing_here')).toBe(missingAsset.text);
    const hiddenDomain = await callTool(analyst, 'governance_compliance', { domain: 'personnel' });
    expect(hiddenDomain.text).toContain('no domain personnel');

    const listed = await callOk<{ policies: { name: string; linkedTo: { domains: string[]; assets: string[] } }[] }>(
      analyst,
      'governance_list_policies',
      {},
    );
    const pii = listed.policies.find((p) => p.name === 'PII handling')!;
    expect(pii.linkedTo.domains).toEqual([]);
    expect(JSON.stringify(listed)).not.toContain('personnel');

    const forAsset = await callOk<{ policies: { name: string }[] }>(steward, 'governance_list_policies', {
      urn: urn('procurement', 'vendor_spend'),
    });
    expect(forAsset.policies.map((p) => p.name)).toEqual(['Records retention']);
  });

  it('gives a steward the audit report as a tool, with text from the data fenced', async () => {
    const report = await callOk<{ summary: { assets: number; nonCompliant: number }; markdown: string }>(
      steward,
      'governance_audit_report',
      { urn: urn('procurement', 'vendor_spend') },
    );
    expect(report.summary.assets).toBe(1);
    expect(report.markdown).toContain('# Audit report: procurement.vendor_spend');
    expect(report.markdown).toContain('### Records retention');
    expect(report.markdown).toContain('- Description: «Payments per vendor»');
    const domain = await callOk<{ summary: { assets: number; nonCompliant: number }; markdown: string }>(
      steward,
      'governance_audit_report',
      { domain: 'personnel' },
    );
    expect(domain.summary).toMatchObject({ assets: 2, nonCompliant: 1 });
    expect(domain.markdown).toContain('## personnel.service_members');
    const denied = await callTool(analyst, 'governance_audit_report', { urn: urn('procurement', 'vendor_spend') });
    expect(denied.text).toContain('ana may not produce audit reports: it needs the steward role');
  });
});
