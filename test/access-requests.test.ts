import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { searchCatalog } from '../mcp-server/catalog/search.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { ServiceContext } from '../mcp-server/context.js';
import {
  autoApprovalRule,
  decideAccess,
  listAccessRequests,
  requestAccess,
  revokeAccess,
} from '../mcp-server/governance/access-requests.js';
import { linkPolicy, savePolicy } from '../mcp-server/governance/policies.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);
const contracts = urn('procurement', 'contracts');
const vendorSpend = urn('procurement', 'vendor_spend');
const members = urn('personnel', 'service_members');
const investigations = urn('personnel', 'clearance_investigations');
const purpose = 'Quarterly spend review for the comptroller';

async function names(ctx: ServiceContext, query = ''): Promise<string[]> {
  return (await searchCatalog(ctx, { query, limit: 50 })).hits.map((h) => h.qualifiedName);
}

async function auditActions(database: Database, target: string): Promise<string[]> {
  const rows = await queryRows<{ action: string }>(
    database.db,
    sql`select action from audit_log where target_urn = ${target} and action like 'access.%' order by seq`,
  );
  return rows.map((r) => r.action);
}

describe('access requests', () => {
  let database: Database;
  let analyst: ServiceContext;
  let secretAnalyst: ServiceContext;
  let outsider: ServiceContext;
  let hrOwner: ServiceContext;
  let spendOwner: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    await defineDomains(admin, [
      { id: 'procurement', name: 'Procurement', restricted: false },
      { id: 'personnel', name: 'Personnel', restricted: true },
    ]);
    await syncSource(admin, warehouseSnapshot());
    analyst = await contextAs(database, { id: 'analyst', displayName: 'Ana', clearance: 'U', roles: ['viewer'] });
    secretAnalyst = await contextAs(database, { id: 'sa', displayName: 'Sam', clearance: 'S', roles: ['viewer'] });
    outsider = await contextAs(database, { id: 'out', displayName: 'Oz', clearance: 'C', roles: ['viewer'] });
    hrOwner = await contextAs(database, {
      id: 'hr',
      displayName: 'Harper',
      clearance: 'S',
      roles: ['viewer'],
      domains: ['personnel'],
    });
    spendOwner = await contextAs(database, { id: 'fin', displayName: 'Finn', clearance: 'S', roles: ['viewer'] });
    await annotateAssets(admin, [
      { urn: contracts, domain: 'procurement', classification: 'U', owner: 'fin' },
      { urn: vendorSpend, domain: 'procurement', classification: 'S', owner: 'fin' },
      { urn: members, domain: 'personnel', classification: 'C', owner: 'hr' },
      { urn: investigations, domain: 'personnel', classification: 'S', owner: 'hr' },
    ]);
  });
  afterAll(() => database.close());

  it('approves U and C data one is cleared for at once, naming the rule, and asking twice returns the same grant', async () => {
    const granted = await requestAccess(analyst, { urn: contracts, purpose, days: 14 });
    expect(granted).toMatchObject({
      status: 'approved',
      autoRule: autoApprovalRule,
      decidedBy: null,
      requestedDays: 14,
    });
    expect(granted.reason).toMatch(/clearance U covers the marking U/);
    const days = (Date.parse(granted.expiresAt!) - Date.parse(granted.decidedAt!)) / 86_400_000;
    expect(days).toBe(14);
    const again = await requestAccess(analyst, { urn: contracts, purpose, days: 30 });
    expect(again.id).toBe(granted.id);
    expect(await auditActions(database, contracts)).toEqual(['access.request.auto_approved']);

    // Sent twice at once (a retried call): one request.
    const eager = await contextAs(database, { id: 'eager', displayName: 'Eve', clearance: 'U', roles: ['viewer'] });
    const vendors = urn('procurement', 'vendors');
    const [first, second] = await Promise.all([
      requestAccess(eager, { urn: vendors, purpose, days: 30 }),
      requestAccess(eager, { urn: vendors, purpose, days: 30 }),
    ]);
    expect(second.id).toBe(first.id);
  });

  it('sends Secret data to its owner, who approves with an expiry; the requester sees the decision', async () => {
    const pending = await requestAccess(secretAnalyst, { urn: vendorSpend, purpose, days: 90 });
    expect(pending).toMatchObject({ status: 'pending', autoRule: null, expiresAt: null });

    const mine = await listAccessRequests(secretAnalyst, { scope: 'mine' });
    expect(mine.requests.map((r) => r.id)).toEqual([pending.id]);
    // One who may not see it has nothing to decide; a viewer who sees it but does not own it may not decide it.
    expect((await listAccessRequests(outsider, { scope: 'to_decide' })).total).toBe(0);
    await expect(decideAccess(outsider, { id: pending.id, approve: true })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(decideAccess(hrOwner, { id: pending.id, approve: true })).rejects.toMatchObject({ code: 'forbidden' });
    const toDecide = await listAccessRequests(spendOwner, { scope: 'to_decide' });
    expect(toDecide.requests.map((r) => [r.asset, r.requester, r.purpose])).toEqual([
      ['procurement.vendor_spend', 'sa', purpose],
    ]);

    await expect(decideAccess(secretAnalyst, { id: pending.id, approve: true })).rejects.toMatchObject({
      code: 'forbidden',
    });
    const approved = await decideAccess(spendOwner, { id: pending.id, approve: true, days: 7, reason: 'audit season' });
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'fin', autoRule: null, reason: 'audit season' });
    expect((Date.parse(approved.expiresAt!) - Date.parse(approved.decidedAt!)) / 86_400_000).toBe(7);
    await expect(decideAccess(spendOwner, { id: pending.id, approve: false, reason: 'no' })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect((await listAccessRequests(spendOwner, { scope: 'to_decide' })).total).toBe(0);
    expect(await auditActions(database, vendorSpend)).toEqual(['access.request', 'access.approve']);
  });

  it('answers a request for a hidden asset exactly like one for an unknown URN, and routes a cleared one to its owner', async () => {
    const unknown = urn('personnel', 'no_such_table');
    const forUnknown = await requestAccess(outsider, { urn: unknown, purpose, days: 30 }).catch((e: Error) => e);
    const forHidden = await requestAccess(outsider, { urn: members, purpose, days: 30 }).catch((e: Error) => e);
    expect(forUnknown).toMatchObject({ code: 'not_found' });
    expect((forHidden as Error).message).toBe((forUnknown as Error).message.replace(unknown, members));
    // Above the requester's clearance: nothing reaches the owner either.
    await requestAccess(outsider, { urn: investigations, purpose, days: 30 }).catch(() => undefined);
    expect(await names(outsider)).not.toContain('personnel.service_members');
    expect((await listAccessRequests(outsider, { scope: 'mine' })).total).toBe(0);

    const toDecide = await listAccessRequests(hrOwner, { scope: 'to_decide' });
    expect(toDecide.requests.map((r) => [r.asset, r.requester])).toEqual([['personnel.service_members', 'out']]);
    await decideAccess(hrOwner, { id: toDecide.requests[0]!.id, approve: true, days: 30 });

    // The grant gives need-to-know for that asset only.
    expect(await names(outsider, 'roster assigned personnel')).toContain('personnel.service_members');
    expect((await getAssetProfile(outsider, members)).classification).toBe('C');
    expect(await names(outsider)).not.toContain('personnel.clearance_investigations');
    const mine = await listAccessRequests(outsider, { scope: 'mine', status: 'approved' });
    expect(mine.requests.map((r) => r.asset)).toEqual(['personnel.service_members']);
  });

  it('ends need-to-know when a grant expires or is revoked', async () => {
    const [grant] = (await listAccessRequests(outsider, { scope: 'mine', status: 'approved' })).requests;
    // Time passes: the grant's last day is behind us.
    await database.db.execute(
      sql`update access_requests set expires_at = now() - interval '1 minute' where id = ${grant!.id}`,
    );
    expect(await names(outsider)).not.toContain('personnel.service_members');
    await expect(getAssetProfile(outsider, members)).rejects.toMatchObject({ code: 'not_found' });
    const expired = await listAccessRequests(outsider, { scope: 'mine' });
    expect(expired.total).toBe(0);

    // Asked again and granted again, then revoked by the owner.
    await requestAccess(outsider, { urn: members, purpose, days: 30 }).catch(() => undefined);
    const [again] = (await listAccessRequests(hrOwner, { scope: 'to_decide' })).requests;
    await decideAccess(hrOwner, { id: again!.id, approve: true });
    expect(await names(outsider)).toContain('personnel.service_members');
    await expect(revokeAccess(analyst, { id: again!.id, reason: 'not mine' })).rejects.toMatchObject({
      code: 'not_found',
    });
    const revoked = await revokeAccess(hrOwner, { id: again!.id, reason: 'project ended' });
    expect(revoked).toMatchObject({ status: 'revoked', reason: 'project ended' });
    expect(await names(outsider)).not.toContain('personnel.service_members');
    expect(await auditActions(database, members)).toEqual([
      'access.request',
      'access.approve',
      'access.request',
      'access.approve',
      'access.revoke',
    ]);
  });

  it('denies with a reason only, and keeps clearance out of reach of any grant', async () => {
    const pending = await requestAccess(secretAnalyst, { urn: vendorSpend, purpose, days: 30 }).then(async (r) =>
      r.status === 'approved' ? revokeAccess(secretAnalyst, { id: r.id, reason: 'done' }) : r,
    );
    expect(pending.status).toBe('revoked');
    const fresh = await requestAccess(secretAnalyst, { urn: vendorSpend, purpose, days: 30 });
    await expect(decideAccess(spendOwner, { id: fresh.id, approve: false })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    const denied = await decideAccess(spendOwner, { id: fresh.id, approve: false, reason: 'use the summary view' });
    expect(denied).toMatchObject({ status: 'denied', reason: 'use the summary view', expiresAt: null });

    // A requester whose clearance was lowered after asking cannot be granted the asset.
    const lowered = await contextAs(database, { id: 'low', displayName: 'Lo', clearance: 'S', roles: ['viewer'] });
    const asked = await requestAccess(lowered, { urn: vendorSpend, purpose, days: 30 });
    await contextAs(database, { id: 'low', displayName: 'Lo', clearance: 'C', roles: ['viewer'] });
    await expect(decideAccess(spendOwner, { id: asked.id, approve: true })).rejects.toThrow(/never clearance/);
    await expect(decideAccess(spendOwner, { id: 'not-a-request', approve: true })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('lets an owner of the asset’s domain decide, but not a plain member', async () => {
    const domainOwner = await contextAs(database, {
      id: 'dom',
      displayName: 'Dana',
      clearance: 'S',
      roles: ['viewer'],
      domains: ['personnel'],
    });
    // An administrator made Dana an owner of the personnel domain.
    await database.db.execute(
      sql`update domain_members set role = 'owner' where domain_id = 'personnel' and principal_id = 'dom'`,
    );
    const member = await contextAs(database, {
      id: 'mem',
      displayName: 'Mo',
      clearance: 'S',
      roles: ['viewer'],
      domains: ['personnel'],
    });
    await requestAccess(secretAnalyst, { urn: investigations, purpose, days: 10 }).catch(() => undefined);
    expect((await listAccessRequests(member, { scope: 'to_decide' })).total).toBe(0);
    const [pending] = (await listAccessRequests(domainOwner, { scope: 'to_decide' })).requests;
    expect(pending).toMatchObject({ asset: 'personnel.clearance_investigations', requester: 'sa' });
    await expect(decideAccess(member, { id: pending!.id, approve: true })).rejects.toMatchObject({ code: 'forbidden' });
    await decideAccess(domainOwner, { id: pending!.id, approve: true });
    expect(await names(secretAnalyst)).toContain('personnel.clearance_investigations');
    expect(await names(secretAnalyst)).not.toContain('personnel.service_members');
  });

  it('lets a blocking policy on granting hold the rule back and refuse an owner, naming the policy', async () => {
    const admin = await createTestContext(database);
    await savePolicy(admin, {
      name: 'Certified before sharing',
      kind: 'access',
      document: 'Only certified parts catalogs are shared.',
      authority: 'NIST 800-53 AC-3',
      rules: [{ when: {}, require: { type: 'certified' }, enforcement: 'blocking', actions: ['access.grant'] }],
    });
    const parts = urn('logistics', 'parts_catalog');
    await linkPolicy(admin, { policy: 'Certified before sharing', target: { urn: parts } });
    const held = await requestAccess(analyst, { urn: parts, purpose, days: 30 });
    expect(held).toMatchObject({ status: 'pending', autoRule: null });
    expect(held.reason).toMatch(/Certified before sharing/);
    await expect(decideAccess(admin, { id: held.id, approve: true })).rejects.toThrow(
      /blocking policy "Certified before sharing"/,
    );
    const denied = await decideAccess(admin, { id: held.id, approve: false, reason: 'not certified yet' });
    expect(denied.status).toBe('denied');
  });

  it('works through MCP, with annotations that say which tools change state', async () => {
    const client = await connectMcpClient(analyst);
    const { tools } = await client.listTools();
    const annotations = Object.fromEntries(
      tools.filter((t) => t.name.includes('access')).map((t) => [t.name, t.annotations?.readOnlyHint]),
    );
    expect(annotations).toEqual({
      governance_request_access: false,
      governance_decide_access: false,
      governance_list_access_requests: true,
      governance_revoke_access: false,
    });
    const shipments = urn('logistics', 'shipments');
    const result = await client.callTool({ name: 'governance_request_access', arguments: { urn: shipments, purpose } });
    expect(result.structuredContent).toMatchObject({
      status: 'approved',
      autoRule: autoApprovalRule,
      requestedDays: 30,
    });
    const tooShort = await client.callTool({
      name: 'governance_request_access',
      arguments: { urn: shipments, purpose: 'x' },
    });
    expect(tooShort.isError).toBe(true);
    await client.close();
  });
});
