import { and, eq } from 'drizzle-orm';
import { certifications } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { type CertificationLabel, requestCertification, reviewCertification } from '../governance/certification.js';
import { type ComplianceRecord, recordCompliance } from '../governance/compliance.js';
import { linkPolicy, type PolicyInput, type PolicyTarget, savePolicy } from '../governance/policies.js';

const demo = (qualifiedName: string) => {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
};

/** The demo's policies, written as a data governance office would, with what each governs. */
const policies: (PolicyInput & { links: PolicyTarget[] })[] = [
  {
    name: 'PII handling',
    kind: 'privacy',
    authority: 'NIST SP 800-53 Rev. 5 AC-3, PT-2; DoD 5400.11-R',
    description: 'Personal data is marked at least C and has an accountable owner',
    document: [
      '# PII handling',
      '',
      'Tables holding personally identifiable information (names, SSNs, DoD ID numbers, birth dates, home addresses)',
      'are marked at least CONFIDENTIAL and have a named owner who answers for their use.',
      'A change that would leave such a table marked lower is refused.',
    ].join('\n'),
    rules: [
      {
        when: { columnSensitivity: 'pii' },
        require: { type: 'classification_at_least', level: 'C' },
        enforcement: 'blocking',
        actions: ['asset.update', 'classification.change'],
      },
      { when: { columnSensitivity: 'pii' }, require: { type: 'has_owner' }, enforcement: 'warning', actions: [] },
    ],
    links: [{ domain: 'personnel' }],
  },
  {
    name: 'Authoritative reporting sources',
    kind: 'quality',
    authority: 'DoDI 8320.02 (Sharing Data, Information, and IT Services)',
    description: 'Data behind briefings and reports is certified, owned and described',
    document: [
      '# Authoritative reporting sources',
      '',
      'Datasets tagged `reporting` feed briefings and dashboards. They are certified "Approved for Reporting";',
      'a certification is granted only to a dataset with an owner and a description.',
    ].join('\n'),
    rules: [
      {
        when: {},
        require: { type: 'certified', label: 'Approved for Reporting' },
        enforcement: 'warning',
        actions: [],
      },
      { when: {}, require: { type: 'has_owner' }, enforcement: 'blocking', actions: ['certification.approve'] },
      { when: {}, require: { type: 'description' }, enforcement: 'blocking', actions: ['certification.approve'] },
    ],
    links: [{ tag: 'reporting' }],
  },
  {
    name: 'Financial system authorisation',
    kind: 'security',
    authority: 'DoDI 8510.01 (Risk Management Framework)',
    description: 'Payment data lives on an authorised system with its STIG findings closed',
    document: [
      '# Financial system authorisation',
      '',
      'Payments and obligations are processed on a system with an ATO in force; open STIG findings are tracked',
      'to closure in the POA&M.',
    ].join('\n'),
    rules: [
      { when: {}, require: { type: 'ato_current' }, enforcement: 'warning', actions: [] },
      { when: {}, require: { type: 'controls_closed' }, enforcement: 'warning', actions: [] },
    ],
    links: [{ urn: demo('contracts.payments') }, { urn: demo('contracts.obligations') }],
  },
];

const compliance: ComplianceRecord[] = [
  {
    urn: demo('contracts.payments'),
    ato: {
      status: 'authorized',
      authorizingOfficial: 'Col. Dana Reyes, USAF',
      grantedAt: '2025-03-01',
      expiresAt: '2028-03-01',
      note: 'Defense Financial Reporting Enclave, eMASS #2231',
    },
    control: {
      controlId: 'V-214120',
      benchmark: 'PostgreSQL 9.x STIG V2R5',
      status: 'not_a_finding',
      evidence: 'pgaudit logs DDL, role and write statements (config review 2025-02-11)',
    },
    document: { title: 'System Security Plan', kind: 'SSP', reference: 'https://emass.example.mil/ssp/2231' },
  },
  {
    urn: demo('contracts.payments'),
    control: {
      controlId: 'V-214133',
      benchmark: 'PostgreSQL 9.x STIG V2R5',
      status: 'open',
      evidence: 'Client certificates not yet required on the reporting replica; POA&M item 14, due 2026-12-31',
    },
  },
  {
    urn: demo('contracts.obligations'),
    ato: { status: 'interim', authorizingOfficial: 'Col. Dana Reyes, USAF', grantedAt: '2025-09-15' },
    document: { title: 'DFAS data sharing agreement', kind: 'MOU', reference: 'DFAS-IN MOU 24-117' },
  },
];

/** Certifications decided in the demo, and one still waiting for its reviewer. */
const certificationsToLoad: {
  asset: string;
  label: CertificationLabel;
  requestedBy: string;
  note: string;
  reviewer?: string;
}[] = [
  {
    asset: 'contracts.vendor_spend_by_fy',
    label: 'Approved for Reporting',
    requestedBy: 'a.chen',
    note: 'Reconciled with the FY24 and FY25 spend briefings to the dollar',
    reviewer: 'm.okafor',
  },
  {
    asset: 'performance.vendor_scorecard',
    label: 'Production Ready',
    requestedBy: 'j.alvarez',
    note: 'Refreshed nightly; feeds the source selection dashboards',
    reviewer: 'm.okafor',
  },
  {
    asset: 'contracts.vendors',
    label: 'Authoritative Source',
    requestedBy: 'm.okafor',
    note: 'Mirrors SAM.gov entity registrations daily',
    reviewer: 'j.alvarez',
  },
  {
    asset: 'logistics.shipments',
    label: 'Approved for Reporting',
    requestedBy: 't.brooks',
    note: 'Needed for the quarterly carrier performance review',
  },
];

/**
 * Governance a data office would have in place: policies on PII, reporting sources and the financial system,
 * ATO and STIG records, and certifications (one pending). Written through the services, as people would;
 * loading it again changes nothing.
 */
export async function loadDemoGovernance(contextFor: (principalId: string) => Promise<ServiceContext>) {
  const admin = await contextFor('s.nguyen');
  for (const { links, ...policy } of policies) {
    await savePolicy(admin, policy);
    for (const target of links) await linkPolicy(admin, { policy: policy.name, target });
  }
  for (const record of compliance) await recordCompliance(admin, record);
  let certified = 0;
  for (const c of certificationsToLoad) {
    const asset = await findVisibleAsset(admin, demo(c.asset));
    const [existing] = await admin.db
      .select({ id: certifications.id })
      .from(certifications)
      .where(and(eq(certifications.assetId, asset.id), eq(certifications.level, c.label)));
    if (existing) continue;
    const asked = await requestCertification(await contextFor(c.requestedBy), {
      urn: asset.urn,
      label: c.label,
      note: c.note,
    });
    if (!c.reviewer) continue;
    await reviewCertification(await contextFor(c.reviewer), { id: asked.id, decision: 'approve', expiresInDays: 365 });
    certified++;
  }
  return { policies: policies.length, certified };
}
