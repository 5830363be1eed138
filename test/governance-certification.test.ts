import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { annotateAssets } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { lapseExpiredCertifications } from '../mcp-server/governance/certification.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { callOk, callTool, connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);

interface Certification {
  id: string;
  label: string;
  status: string;
  reviewedBy: string | null;
  reviewNote: string | null;
  expiresAt: string | null;
  canReview: boolean;
  created?: boolean;
}

const days = (n: number) => n * 86_400_000;

describe('certification workflow', () => {
  let database: Database;
  let analystCtx: ServiceContext;
  let stewardCtx: ServiceContext;
  let analyst: Client;
  let steward: Client;
  let owner: Client;

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    await syncSource(admin, warehouseSnapshot());
    await annotateAssets(admin, [
      { urn: urn('procurement', 'contracts'), classification: 'U' },
      { urn: urn('intel', 'collection_requirements'), classification: 'TS' },
    ]);
    analystCtx = await contextAs(database, {
      id: 'ana',
      displayName: 'Ana Analyst',
      clearance: 'U',
      roles: ['viewer'],
    });
    stewardCtx = await contextAs(database, {
      id: 'sam',
      displayName: 'Sam Steward',
      clearance: 'TS',
      roles: ['steward'],
    });
    analyst = await connectMcpClient(analystCtx);
    steward = await connectMcpClient(stewardCtx);
    owner = await connectMcpClient(
      await contextAs(database, { id: 'olu', displayName: 'Olu Owner', clearance: 'S', roles: ['owner'] }),
    );
  });
  afterAll(() => database.close());

  it('goes from request to approval, and the label shows in search and the profile', async () => {
    const target = urn('procurement', 'contracts');
    const asked = await callOk<Certification>(analyst, 'governance_request_certification', {
      urn: target,
      label: 'Production Ready',
      note: 'Loaded nightly, row counts reconciled with FPDS',
    });
    expect(asked).toMatchObject({ status: 'pending', created: true, canReview: false });
    const again = await callOk<Certification>(analyst, 'governance_request_certification', {
      urn: target,
      label: 'Production Ready',
    });
    expect(again).toMatchObject({ id: asked.id, created: false });

    const byAnalyst = await callTool(analyst, 'governance_review_certification', { id: asked.id, decision: 'approve' });
    expect(byAnalyst.isError).toBe(true);
    expect(byAnalyst.text).toContain('another owner or steward must review it');

    const queue = await callOk<{ certifications: Certification[] }>(steward, 'governance_list_certifications', {
      toReview: true,
    });
    expect(queue.certifications.map((c) => c.id)).toEqual([asked.id]);

    const approved = await callOk<Certification>(steward, 'governance_review_certification', {
      id: asked.id,
      decision: 'approve',
      expiresInDays: 90,
    });
    expect(approved).toMatchObject({ status: 'approved', reviewedBy: 'sam' });
    const expires = new Date(approved.expiresAt!).getTime() - Date.now();
    expect(expires).toBeGreaterThan(days(89));
    expect(expires).toBeLessThanOrEqual(days(90));

    const found = await callOk<{ hits: { urn: string; certification: string | null }[] }>(analyst, 'catalog_search', {
      query: 'contracts',
      certified: true,
    });
    expect(found.hits.map((h) => [h.urn, h.certification])).toEqual([[target, 'Production Ready']]);
    const profile = await callOk<{ certification: string | null }>(analyst, 'catalog_get_asset', { urn: target });
    expect(profile.certification).toBe('Production Ready');

    const decidedTwice = await callTool(owner, 'governance_review_certification', { id: asked.id, decision: 'reject' });
    expect(decidedTwice.isError).toBe(true);
    expect(decidedTwice.text).toContain('already approved by sam');
  });

  it('never lets the requester decide, and a rejection needs a reason', async () => {
    const target = urn('logistics', 'shipments');
    const asked = await callOk<Certification>(steward, 'governance_request_certification', {
      urn: target,
      label: 'Approved for Reporting',
    });
    const self = await callTool(steward, 'governance_review_certification', { id: asked.id, decision: 'approve' });
    expect(self.isError).toBe(true);
    expect(self.text).toContain('another owner or steward');

    const viewer = await callTool(analyst, 'governance_review_certification', { id: asked.id, decision: 'approve' });
    expect(viewer.isError).toBe(true);
    expect(viewer.text).toContain('ana may not review certifications of logistics.shipments');
    const noReason = await callTool(owner, 'governance_review_certification', { id: asked.id, decision: 'reject' });
    expect(noReason.isError).toBe(true);
    expect(noReason.text).toContain('reason');
    const rejected = await callOk<Certification>(owner, 'governance_review_certification', {
      id: asked.id,
      decision: 'reject',
      reason: 'Depot codes are not yet reconciled with DLA',
    });
    expect(rejected).toMatchObject({ status: 'rejected', reviewNote: 'Depot codes are not yet reconciled with DLA' });
    const profile = await callOk<{ certification: string | null }>(owner, 'catalog_get_asset', { urn: target });
    expect(profile.certification).toBeNull();
  });

  it('refuses an approval a blocking policy forbids, naming the policy and the requirement', async () => {
    const target = urn('logistics', 'parts_catalog');
    await callOk(steward, 'governance_create_policy', {
      name: 'Reporting data provenance',
      kind: 'quality',
      document: 'Data certified for reporting carries a data-quality review tag.',
      authority: 'DoDI 8320.02',
      rules: [
        {
          require: { type: 'tag', tag: 'dq-reviewed' },
          enforcement: 'blocking',
          actions: ['certification.approve'],
        },
      ],
    });
    await callOk(steward, 'governance_link_policy', { policy: 'Reporting data provenance', urn: target });
    const asked = await callOk<Certification>(analyst, 'governance_request_certification', {
      urn: target,
      label: 'Approved for Reporting',
    });
    const refused = await callTool(steward, 'governance_review_certification', { id: asked.id, decision: 'approve' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('Reporting data provenance');
    expect(refused.text).toContain('tagged dq-reviewed');
    const still = await callOk<{ certifications: Certification[] }>(steward, 'governance_list_certifications', {
      urn: target,
    });
    expect(still.certifications.map((c) => c.status)).toEqual(['pending']);

    await callOk(steward, 'catalog_update_asset', { urn: target, addTags: ['dq-reviewed'] });
    const approved = await callOk<Certification>(steward, 'governance_review_certification', {
      id: asked.id,
      decision: 'approve',
    });
    expect(approved.status).toBe('approved');
  });

  it('lapses on its own: expired at read time, then taken off the asset by the lapse step', async () => {
    const target = urn('logistics', 'shipments');
    const asked = await callOk<Certification>(analyst, 'governance_request_certification', {
      urn: target,
      label: 'Authoritative Source',
    });
    await callOk(steward, 'governance_review_certification', { id: asked.id, decision: 'approve', expiresInDays: 1 });

    const later = new Date(Date.now() + days(2));
    const analystLater = await connectMcpClient({ ...analystCtx, clock: () => later });
    const profile = await callOk<{ certification: string | null }>(analystLater, 'catalog_get_asset', { urn: target });
    expect(profile.certification).toBeNull();
    const listed = await callOk<{ certifications: Certification[] }>(analystLater, 'governance_list_certifications', {
      urn: target,
      status: 'expired',
    });
    expect(listed.certifications.map((c) => c.id)).toEqual([asked.id]);

    expect(await lapseExpiredCertifications(database.db, later)).toBe(1);
    expect(await lapseExpiredCertifications(database.db, later)).toBe(0);
    const certified = await callOk<{ hits: { urn: string }[] }>(analyst, 'catalog_search', {
      query: 'shipments',
      certified: true,
    });
    expect(certified.hits.map((h) => h.urn)).not.toContain(target);
    const audit = await queryRows<{ action: string }>(
      database.db,
      sql`select action from audit_log where target_urn = ${target} order by seq`,
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        'certification.request',
        'certification.reject',
        'certification.approve',
        'certification.lapse',
      ]),
    );
  });

  it('never confirms a certification or an asset the caller may not see', async () => {
    const hidden = urn('intel', 'collection_requirements');
    const asked = await callOk<Certification>(steward, 'governance_request_certification', {
      urn: hidden,
      label: 'Production Ready',
    });
    const onHidden = await callTool(analyst, 'governance_request_certification', {
      urn: hidden,
      label: 'Production Ready',
    });
    const onMissing = await callTool(analyst, 'governance_request_certification', {
      urn: urn('intel', 'no_such_table'),
      label: 'Production Ready',
    });
    expect(onHidden.isError).toBe(true);
    expect(onHidden.text.replace('collection_requirements', 'no_such_table')).toBe(onMissing.text);
    const review = await callTool(analyst, 'governance_review_certification', { id: asked.id, decision: 'approve' });
    expect(review.text).toBe(
      `no certification request ${asked.id}: governance_list_certifications lists the ones you can see`,
    );
    const all = await callOk<{ certifications: Certification[] }>(analyst, 'governance_list_certifications', {});
    expect(JSON.stringify(all)).not.toContain('collection_requirements');
    expect(all.certifications.map((c) => c.id)).not.toContain(asked.id);
  });
});
