import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '../cli/workspace.js';
import { queryRows } from '../db/create-db.js';
import { withSourceReader } from '../mcp-server/connectors/source-reader.js';
import { classifyAsset } from '../mcp-server/governance/classify.js';
import { setClassification } from '../mcp-server/governance/markings.js';
import { maskAssetRows } from '../mcp-server/governance/masking.js';
import { upsertPrincipal } from '../mcp-server/governance/principals.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';

/** The demo workspace's planted personal data, found by the classifier and masked for readers who are not stewards. */
describe('personal data in the demo workspace', () => {
  let ws: Workspace;
  let close: () => Promise<void>;
  const sourceOf = async (qualifiedName: string) =>
    (
      await queryRows<{ id: string }>(
        ws.database.db,
        sql`select source_id::text as id from assets where urn = ${demoUrn(qualifiedName)}`,
      )
    )[0]!.id;

  beforeAll(async () => {
    ({ ws, close } = await openDemoWorkspace('dataops_demopii'));
  }, 240_000);
  afterAll(() => close?.());

  it('finds the SSNs, DoD IDs, names, birth dates, contacts and home addresses of personnel.people', async () => {
    const people = await classifyAsset(await ws.contextFor('r.patel'), { urn: demoUrn('personnel.people') });
    expect(people.sample).toMatchObject({ method: 'limit', rows: 200 });
    expect(Object.fromEntries(people.columns.map((c) => [c.column, c.kind]))).toEqual({
      dod_id: 'dod_id',
      ssn: 'ssn',
      last_name: 'person_name',
      first_name: 'person_name',
      middle_initial: 'person_name',
      date_of_birth: 'date_of_birth',
      email: 'email',
      work_phone: 'phone',
      mobile_phone: 'phone',
      home_street: 'postal_address',
      home_city: 'postal_address',
      home_state: 'postal_address',
      home_zip: 'postal_address',
    });
    const ssn = people.columns.find((c) => c.column === 'ssn')!;
    // The demo's generator writes a few SSNs with group 00 or serial 0000, which the SSA never issues.
    const [issuable] = await withSourceReader(ws.ctx, await sourceOf('personnel.people'), (reader) =>
      reader.query<{ n: number }>(
        `select count(*)::int as n from (select ssn from personnel.people limit 200) s
         where ssn !~ '^(000|666)' and ssn !~ '^...-00-' and ssn !~ '-0000$'`,
      ),
    );
    expect(issuable!.n).toBeGreaterThan(190);
    expect(ssn.evidence).toMatchObject({ sampled: 200, matched: issuable!.n, nameHint: 'ssn' });
    expect(ssn.evidence.example).toMatch(/^\*\*\*-\*\*-\d{4}$/);
    // Already marked pii by the demo's stewards: suggestions agree, and the marking (C) stands.
    expect(ssn.current.sensitivity).toBe('pii');
    expect(people.marking).toEqual({ current: 'C', suggested: 'C', reason: null });
    // The street line is recognised by its shape even without the column name.
    expect(people.columns.find((c) => c.column === 'home_street')!.evidence.matchShare).toBe(1);
  });

  it('leaves the PII-free roster and the logistics tables unflagged', async () => {
    const ctx = await ws.contextFor('s.nguyen');
    expect((await classifyAsset(ctx, { urn: demoUrn('personnel.roster') })).columns).toEqual([]);
    for (const table of ['logistics.parts', 'logistics.depots', 'contracts.payments']) {
      expect((await classifyAsset(ctx, { urn: demoUrn(table) })).columns, table).toEqual([]);
    }
  });

  it('keeps the roster U by its recorded downgrade until personnel data is marked above C', async () => {
    const steward = await ws.contextFor('s.nguyen');
    const [downgrade] = await queryRows<{ kind: string; reason: string }>(
      ws.database.db,
      sql`select e.kind, e.reason from classification_events e join assets a on a.id = e.asset_id
          where a.urn = ${demoUrn('personnel.roster')}`,
    );
    expect(downgrade).toMatchObject({ kind: 'downgraded', reason: expect.stringMatching(/no personal columns/) });
    const raised = await setClassification(steward, { urn: demoUrn('personnel.people'), classification: 'S' });
    expect(raised.propagated.map((p) => `${p.urn} ${p.to}`)).toContain(`${demoUrn('personnel.roster')} S`);
    await setClassification(steward, {
      urn: demoUrn('personnel.people'),
      classification: 'C',
      reason: 'restore the demo marking',
    });
  });

  it('masks personnel rows for an HR analyst and shows them to the data owner', async () => {
    await upsertPrincipal(ws.database.db, {
      id: 'hr.analyst',
      displayName: 'HR analyst',
      clearance: 'C',
      roles: ['viewer'],
      domains: ['personnel'],
    });
    const [people] = await queryRows<{ id: string; sourceId: string }>(
      ws.database.db,
      sql`select id::text, source_id::text as "sourceId" from assets where urn = ${demoUrn('personnel.people')}`,
    );
    const owner = await ws.contextFor('r.patel');
    const rows = await withSourceReader(owner, people!.sourceId, (reader) =>
      reader.query<Record<string, unknown>>(
        `select person_id, ssn, dod_id, first_name, email, home_street, pay_grade
         from personnel.people where person_id in (1, 2) order by person_id`,
      ),
    );
    const forAnalyst = await maskAssetRows(await ws.contextFor('hr.analyst'), people!.id, rows);
    const first = forAnalyst.rows[0]!;
    expect(first.person_id).toBe(1);
    expect(first.pay_grade).toBe(rows[0]!.pay_grade);
    expect(first.ssn).toBe(`***-**-${String(rows[0]!.ssn).slice(-4)}`);
    expect(first.dod_id).toMatch(/^hash:[0-9a-f]{16}$/);
    expect(first.dod_id).not.toBe(forAnalyst.rows[1]!.dod_id);
    expect(first.first_name).toBe(`${String(rows[0]!.first_name)[0]}***`);
    expect(first.home_street).toBe('[redacted]');
    expect(JSON.stringify(forAnalyst.rows)).not.toContain(String(rows[0]!.ssn));
    const forOwner = await maskAssetRows(owner, people!.id, rows);
    expect(forOwner.rows).toEqual(rows);
  });
});
