import { describe, expect, it } from 'vitest';
import type { Principal } from '../context.js';
import { applyMasking, type MaskingColumn, maskingPlan } from './masking.js';

const principal = (id: string, clearance: Principal['clearance'], roles: Principal['roles']): Principal => ({
  id,
  displayName: id,
  clearance,
  roles,
  domains: [],
  groups: [],
});
const analyst = principal('analyst', 'C', ['viewer']);
const steward = principal('steward', 'C', ['steward']);
const owner = principal('owner', 'S', ['owner']);

const people: MaskingColumn[] = [
  { name: 'person_id', sensitivity: null, classification: null },
  { name: 'ssn', sensitivity: 'pii', classification: null, tags: ['pii:ssn'] },
  { name: 'dod_id', sensitivity: 'pii', classification: null, tags: ['pii:dod_id'] },
  { name: 'email', sensitivity: 'pii', classification: null, tags: ['pii:email'] },
  { name: 'last_name', sensitivity: 'pii', classification: null },
  { name: 'date_of_birth', sensitivity: 'pii', classification: null },
  { name: 'home_street', sensitivity: 'pii', classification: null, tags: ['pii:postal_address'] },
  { name: 'work_phone', sensitivity: null, classification: null },
  { name: 'salary', sensitivity: 'financial', classification: null },
  { name: 'nickname_notes', sensitivity: 'pii', classification: null },
  { name: 'source_unit', sensitivity: 'opsec', classification: 'S' },
];
const row = {
  person_id: 17,
  ssn: '912-34-5678',
  dod_id: '1234567890',
  email: 'maria.l.garcia.mil@mail.mil',
  last_name: 'Garcia',
  date_of_birth: '1984-03-17',
  home_street: '4521 Oak St',
  work_phone: '(703) 555-0142',
  salary: 91000,
  nickname_notes: 'Goes by Mia',
  source_unit: 'W1A2B3',
};
const salt = 'workspace-salt-a';

describe('masking policy', () => {
  it('shows an analyst partial, hashed or redacted PII and never a column above its clearance', () => {
    const { columns, rows } = applyMasking(maskingPlan(analyst, people), [row], salt);
    expect(rows[0]).toEqual({
      person_id: 17,
      ssn: '***-**-5678',
      dod_id: expect.stringMatching(/^hash:[0-9a-f]{16}$/),
      email: 'm***@mail.mil',
      last_name: 'G***',
      date_of_birth: '1984-**-**',
      home_street: '[redacted]',
      // Not marked PII, but named like a phone number: masked all the same.
      work_phone: '(***) ***-0142',
      salary: 91000,
      nickname_notes: '[redacted]',
    });
    expect(columns.map((c) => c.name)).not.toContain('source_unit');
    expect(JSON.stringify(rows)).not.toMatch(/W1A2B3|1234567890|912-34|Garcia|Oak/);
    expect(columns.find((c) => c.name === 'dod_id')?.treatment).toBe('hashed');
  });

  it('shows PII in full to stewards and owners, within their clearance', () => {
    const forSteward = applyMasking(maskingPlan(steward, people), [row], salt).rows[0]!;
    expect(forSteward.ssn).toBe('912-34-5678');
    expect(forSteward.home_street).toBe('4521 Oak St');
    expect(forSteward).not.toHaveProperty('source_unit');
    const forOwner = applyMasking(maskingPlan(owner, people), [row], salt).rows[0]!;
    expect(forOwner.source_unit).toBe('W1A2B3');
    expect(forOwner.email).toBe('maria.l.garcia.mil@mail.mil');
  });

  it('hashes the same value the same way within a workspace and differently in another', () => {
    const plan = maskingPlan(analyst, people);
    const [a, b] = applyMasking(plan, [row, { ...row, person_id: 18 }], salt).rows;
    const [elsewhere] = applyMasking(plan, [row], 'workspace-salt-b').rows;
    expect(a!.dod_id).toBe(b!.dod_id);
    expect(elsewhere!.dod_id).not.toBe(a!.dod_id);
    const [other] = applyMasking(plan, [{ dod_id: '1234567891' }], salt).rows;
    expect(other!.dod_id).not.toBe(a!.dod_id);
  });

  it('fails closed on a value whose column it was not told about, and keeps nulls', () => {
    const { rows } = applyMasking(maskingPlan(analyst, people), [{ ssn: null, secret_extra: 'x' }], salt);
    expect(rows[0]).toEqual({ ssn: null });
  });
});
