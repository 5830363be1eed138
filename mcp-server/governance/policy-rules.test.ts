import { describe, expect, it } from 'vitest';
import {
  type AssetFacts,
  complianceStatus,
  conditionHolds,
  policyRuleSchema,
  requirementMet,
  unmetRequirements,
} from './policy-rules.js';

const facts = (overrides: Partial<AssetFacts> = {}): AssetFacts => ({
  id: '00000000-0000-0000-0000-000000000001',
  urn: 'urn:dataops:postgres:hr:personnel.people',
  qualifiedName: 'personnel.people',
  kind: 'table',
  domain: 'personnel',
  tags: ['hr'],
  classification: 'C',
  owner: 'r.patel',
  description: 'People',
  certifications: [],
  columnSensitivities: ['pii'],
  atoCurrent: false,
  openControls: 0,
  ...overrides,
});

describe('policy rules', () => {
  it('matches conditions on marking, tag, domain, kind, owner, certification and column sensitivity', () => {
    expect(conditionHolds({ classificationAtLeast: 'C' }, facts())).toBe(true);
    expect(conditionHolds({ classificationAtLeast: 'S' }, facts())).toBe(false);
    expect(conditionHolds({ columnSensitivity: 'pii', domain: 'personnel', kind: 'table' }, facts())).toBe(true);
    expect(conditionHolds({ columnSensitivity: 'financial' }, facts())).toBe(false);
    expect(conditionHolds({ hasOwner: false }, facts())).toBe(false);
    expect(conditionHolds({ certified: true }, facts({ certifications: ['Production Ready'] }))).toBe(true);
    expect(conditionHolds({}, facts())).toBe(true);
  });

  it('meets a tag requirement with the tag or tag:value only', () => {
    const retention = { type: 'tag', tag: 'retention' } as const;
    expect(requirementMet(retention, facts({ tags: ['retention:7y'] }))).toBe(true);
    expect(requirementMet(retention, facts({ tags: ['retention'] }))).toBe(true);
    expect(requirementMet(retention, facts({ tags: ['retentionless', 'no-retention'] }))).toBe(false);
  });

  it('treats a blank owner or description as missing, and a label as a particular certification', () => {
    expect(requirementMet({ type: 'has_owner' }, facts({ owner: ' ' }))).toBe(false);
    expect(requirementMet({ type: 'description' }, facts({ description: '' }))).toBe(false);
    const certified = facts({ certifications: ['Production Ready'] });
    expect(requirementMet({ type: 'certified' }, certified)).toBe(true);
    expect(requirementMet({ type: 'certified', label: 'Approved for Reporting' }, certified)).toBe(false);
  });

  it('gives the status from the strongest unmet rule, and no status without a policy', () => {
    const rule = (require: unknown, enforcement: string) => policyRuleSchema.parse({ require, enforcement });
    const policy = {
      name: 'PII handling',
      authority: 'NIST SP 800-53 Rev. 5 AC-3',
      rules: [
        { ...rule({ type: 'classification_at_least', level: 'S' }, 'blocking'), when: { columnSensitivity: 'pii' } },
        rule({ type: 'ato_current' }, 'warning'),
      ],
    };
    const unmet = unmetRequirements(facts(), [policy]);
    expect(unmet.map((u) => [u.requirement, u.enforcement])).toEqual([
      ['classified at least S', 'blocking'],
      ['an ATO or IATO in force', 'warning'],
    ]);
    expect(complianceStatus(1, unmet)).toBe('non_compliant');
    expect(complianceStatus(1, unmet.slice(1))).toBe('warning');
    expect(complianceStatus(1, [])).toBe('compliant');
    expect(complianceStatus(0, [])).toBe('not_governed');
    expect(unmetRequirements(facts({ columnSensitivities: [], atoCurrent: true }), [policy])).toEqual([]);
  });

  it('rejects a rule with an unknown requirement or action', () => {
    expect(policyRuleSchema.safeParse({ require: { type: 'magic' }, enforcement: 'blocking' }).success).toBe(false);
    expect(
      policyRuleSchema.safeParse({ require: { type: 'has_owner' }, enforcement: 'blocking', actions: ['asset.delete'] })
        .success,
    ).toBe(false);
  });
});
