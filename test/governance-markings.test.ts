import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { setClassification } from '../mcp-server/governance/markings.js';
import { linkPolicy, savePolicy } from '../mcp-server/governance/policies.js';
import { addManualEdge } from '../mcp-server/lineage/edit.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);
const contracts = urn('procurement', 'contracts');
const spend = urn('procurement', 'vendor_spend');
const parts = urn('logistics', 'parts_catalog');
const shipments = urn('logistics', 'shipments');
const vendors = urn('procurement', 'vendors');
const members = urn('personnel', 'service_members');

type ToolResult = { isError?: boolean; content: { text: string }[]; structuredContent?: Record<string, unknown> };

describe('classification markings and their propagation through lineage', () => {
  let database: Database;
  let admin: ServiceContext;
  let steward: Client;
  let analyst: Client;
  let lowSteward: Client;

  const call = async (client: Client, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name: 'governance_set_classification', arguments: args })) as ToolResult;
    return { ...result, text: result.content.map((c) => c.text).join('\n') };
  };
  const set = async (args: Record<string, unknown>) => {
    const result = await call(steward, args);
    expect(result.isError, result.text).toBeFalsy();
    return result.structuredContent!;
  };
  const marking = async (u: string) => (await getAssetProfile(admin, u)).classification;
  const events = (u: string) =>
    queryRows<{ kind: string; from: string | null; to: string; reason: string; column: string | null }>(
      database.db,
      sql`select e.kind, e.from_level as "from", e.to_level as "to", e.reason, e.column_name as "column"
          from classification_events e join assets a on a.id = e.asset_id where a.urn = ${u} order by e.created_at, e.id`,
    );

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    await syncSource(admin, warehouseSnapshot());
    const stewardCtx = await contextAs(database, {
      id: 'sam',
      displayName: 'Sam Steward',
      clearance: 'S',
      roles: ['steward'],
    });
    // contracts → vendor_spend → parts_catalog: a chain of derived data.
    await addManualEdge(stewardCtx, { from: contracts, to: spend });
    await addManualEdge(stewardCtx, { from: spend, to: parts });
    steward = await connectMcpClient(stewardCtx);
    analyst = await connectMcpClient(
      await contextAs(database, { id: 'ana', displayName: 'Ana Analyst', clearance: 'TS', roles: ['viewer'] }),
    );
    lowSteward = await connectMcpClient(
      await contextAs(database, { id: 'uma', displayName: 'Uma Steward', clearance: 'U', roles: ['steward'] }),
    );
  });
  afterAll(() => database.close());

  it('raises everything derived downstream when an input is marked higher', async () => {
    const result = await set({ urn: contracts, classification: 'C' });
    expect(result).toMatchObject({ from: 'U', to: 'C', changed: true, downgrade: false });
    expect(result.propagated).toEqual([
      { urn: spend, from: 'U', to: 'C' },
      { urn: parts, from: 'U', to: 'C' },
    ]);
    expect([await marking(spend), await marking(parts)]).toEqual(['C', 'C']);
    const [event] = await events(parts);
    expect(event).toMatchObject({ kind: 'propagated', from: 'U', to: 'C' });
    // The history of a derived asset never names its inputs, which its readers may not be allowed to know.
    expect(event!.reason).not.toContain('contracts');
    const audit = await queryRows<{ action: string; actor: string }>(
      database.db,
      sql`select action, actor_id as actor from audit_log where target_urn = ${parts} order by seq`,
    );
    // The steward whose change caused the raise answers for it.
    expect(audit).toContainEqual({ action: 'classification.propagate', actor: 'sam' });
  });

  it('needs a reason to downgrade, and records the downgrade', async () => {
    const refused = await call(steward, { urn: parts, classification: 'U' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/downgrade.*give a reason/);
    expect(await marking(parts)).toBe('C');
    const result = await set({ urn: parts, classification: 'U', reason: 'only part numbers and prices remain' });
    expect(result).toMatchObject({ from: 'C', to: 'U', changed: true, downgrade: true });
    expect((await events(parts)).at(-1)).toMatchObject({
      kind: 'downgraded',
      to: 'U',
      reason: 'only part numbers and prices remain',
    });
    const [audit] = await queryRows<{ details: { reason: string } }>(
      database.db,
      sql`select details from audit_log where target_urn = ${parts} and action = 'classification.downgrade'`,
    );
    expect(audit!.details.reason).toBe('only part numbers and prices remain');
  });

  it('respects the downgrade until an input rises above the marking it was made against', async () => {
    // New lineage into the downgraded asset from a U table: nothing rises.
    await addManualEdge(
      await contextAs(database, { id: 'sam', displayName: 'Sam Steward', clearance: 'S', roles: ['steward'] }),
      {
        from: shipments,
        to: parts,
      },
    );
    expect(await marking(parts)).toBe('U');
    // Marking vendor_spend C again changes nothing, so nothing propagates.
    expect(await set({ urn: spend, classification: 'C' })).toMatchObject({ changed: false });
    expect(await marking(parts)).toBe('U');
    // An input rises above C: the downgrade no longer covers it.
    const raised = await set({ urn: contracts, classification: 'S' });
    expect(raised.propagated).toEqual([
      { urn: spend, from: 'C', to: 'S' },
      { urn: parts, from: 'U', to: 'S' },
    ]);
  });

  it('raises an asset when lineage from a higher-marked input is recorded', async () => {
    expect(await marking(vendors)).toBe('U');
    await addManualEdge(
      await contextAs(database, { id: 'sam', displayName: 'Sam Steward', clearance: 'S', roles: ['steward'] }),
      {
        from: contracts,
        to: vendors,
      },
    );
    expect(await marking(vendors)).toBe('S');
    expect((await events(vendors)).at(-1)).toMatchObject({ kind: 'propagated', to: 'S' });
  });

  it('marks a column and needs a reason to lower it', async () => {
    expect(await set({ urn: contracts, column: 'ceiling_value', classification: 'S' })).toMatchObject({
      column: 'ceiling_value',
      from: null,
      to: 'S',
      changed: true,
    });
    const refused = await call(steward, { urn: contracts, column: 'ceiling_value', classification: 'U' });
    expect(refused.text).toMatch(/downgrade from S: give a reason/);
    expect((await events(contracts)).filter((e) => e.column === 'ceiling_value')).toHaveLength(1);
    const missing = await call(steward, { urn: contracts, column: 'no_such_column', classification: 'C' });
    expect(missing.text).toMatch(/has no column "no_such_column"/);
  });

  it('raises a derived asset the steward may not see without naming it', async () => {
    await addManualEdge(admin, { from: shipments, to: members });
    await defineDomains(admin, [{ id: 'personnel', name: 'Personnel', restricted: true }]);
    await annotateAssets(admin, [{ urn: members, domain: 'personnel' }]);
    const result = await call(steward, { urn: shipments, classification: 'C' });
    expect(result.isError, result.text).toBeFalsy();
    expect(result.structuredContent!.propagated).toEqual([]);
    expect(result.text).not.toContain('service_members');
    const [row] = await queryRows<{ classification: string }>(
      database.db,
      sql`select classification from assets where urn = ${members}`,
    );
    expect(row!.classification).toBe('C');
  });

  it('refuses a marking change a blocking policy forbids, naming the policy', async () => {
    await annotateAssets(admin, [{ urn: vendors, columns: { legal_name: { sensitivity: 'pii' } } }]);
    await savePolicy(admin, {
      name: 'PII stays controlled',
      kind: 'privacy',
      document: 'Assets with personal data are marked at least C.',
      authority: 'DoDI 5400.11',
      rules: [
        {
          when: { columnSensitivity: 'pii' },
          require: { type: 'classification_at_least', level: 'C' },
          enforcement: 'blocking',
          actions: ['classification.change'],
        },
      ],
    });
    await linkPolicy(admin, { policy: 'PII stays controlled', target: { urn: vendors } });
    const refused = await call(steward, { urn: vendors, classification: 'U', reason: 'public company names only' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(
      /refused on procurement\.vendors: blocking policy "PII stays controlled" \(DoDI 5400\.11\) requires classified at least C/,
    );
    expect(await marking(vendors)).toBe('S');
    expect((await events(vendors)).map((e) => e.kind)).not.toContain('downgraded');
    expect(await set({ urn: vendors, classification: 'C', reason: 'names of companies, not people' })).toMatchObject({
      changed: true,
      to: 'C',
    });
  });

  it('lets only stewards change markings, never above their clearance, and hides what they may not see', async () => {
    const viewer = await call(analyst, { urn: shipments, classification: 'C' });
    expect(viewer.isError).toBe(true);
    expect(viewer.text).toMatch(/needs the steward role/);
    const tooHigh = await call(steward, { urn: spend, classification: 'TS' });
    expect(tooHigh.text).toMatch(/above your clearance \(S\)/);
    // contracts is S now: to a U-cleared steward it does not exist.
    const hidden = await call(lowSteward, { urn: contracts, classification: 'U', reason: 'x' });
    expect(hidden.text).toMatch(/no asset/);
    expect(hidden.text).not.toMatch(/forbidden|clearance/);
    expect(await marking(spend)).toBe('S');
  });
});

describe('propagation around a lineage cycle', () => {
  let database: Database;

  beforeAll(async () => {
    database = await createTestDb();
    await syncSource(await createTestContext(database), warehouseSnapshot());
  });
  afterAll(() => database.close());

  it('raises every asset of the cycle once, and stops', async () => {
    const steward = await contextAs(database, { id: 'sam', displayName: 'Sam', clearance: 'S', roles: ['steward'] });
    // contracts → vendor_spend → parts_catalog → contracts: data that feeds back into its own source.
    await addManualEdge(steward, { from: contracts, to: spend });
    await addManualEdge(steward, { from: spend, to: parts });
    await addManualEdge(steward, { from: parts, to: contracts });
    const result = await setClassification(steward, { urn: spend, classification: 'S' });
    expect(result.propagated).toEqual([
      { urn: parts, from: 'U', to: 'S' },
      { urn: contracts, from: 'U', to: 'S' },
    ]);
    const [count] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from classification_events where kind = 'propagated'`,
    );
    expect(count!.n).toBe(2);
  });
});
