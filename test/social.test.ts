import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { searchCatalog } from '../mcp-server/catalog/search.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { addComment, deleteComment, editComment, listComments, mentionedIds } from '../mcp-server/social/comments.js';
import { readFeed } from '../mcp-server/social/feed.js';
import { followAsset, followDomain } from '../mcp-server/social/follows.js';
import { listReviews, rateAsset } from '../mcp-server/social/ratings.js';
import { recommend } from '../mcp-server/social/recommend.js';
import { recordUsage } from '../mcp-server/social/usage.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);
const contracts = urn('procurement', 'contracts');
const vendorSpend = urn('procurement', 'vendor_spend');
const vendors = urn('procurement', 'vendors');
const shipments = urn('logistics', 'shipments');
const members = urn('personnel', 'service_members');
const investigations = urn('personnel', 'clearance_investigations');
const hiddenNames = ['personnel.service_members', 'personnel.clearance_investigations'];

describe('the social layer', () => {
  let database: Database;
  let ana: ServiceContext;
  let ben: ServiceContext;
  let hr: ServiceContext;
  let outsider: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    const admin = await createTestContext(database);
    await defineDomains(admin, [
      { id: 'procurement', name: 'Procurement', restricted: false },
      { id: 'personnel', name: 'Personnel', restricted: true },
    ]);
    await syncSource(admin, warehouseSnapshot());
    await annotateAssets(admin, [
      { urn: contracts, domain: 'procurement' },
      { urn: vendorSpend, domain: 'procurement' },
      { urn: members, domain: 'personnel' },
      { urn: investigations, domain: 'personnel' },
    ]);
    ana = await contextAs(database, { id: 'ana', displayName: 'Ana', clearance: 'TS', roles: ['viewer'] });
    ben = await contextAs(database, {
      id: 'ben',
      displayName: 'Ben',
      clearance: 'TS',
      roles: ['viewer'],
      domains: ['procurement'],
    });
    hr = await contextAs(database, {
      id: 'hr',
      displayName: 'Harper',
      clearance: 'TS',
      roles: ['viewer'],
      domains: ['personnel'],
    });
    outsider = await contextAs(database, { id: 'oz', displayName: 'Oz', clearance: 'TS', roles: ['viewer'] });
  });
  afterAll(() => database.close());

  it('keeps one rating per person, and the asset average and count in step', async () => {
    await rateAsset(ana, { urn: vendorSpend, stars: 4, review: 'Reconciles with the ledger' });
    const second = await rateAsset(ben, { urn: vendorSpend, stars: 2 });
    expect(second).toMatchObject({ average: 3, count: 2 });
    const changed = await rateAsset(ana, { urn: vendorSpend, stars: 5, review: 'Now with FY26' });
    expect(changed).toMatchObject({ average: 3.5, count: 2 });
    expect(await rateAsset(ana, { urn: vendorSpend, stars: 5, review: 'Now with FY26' })).toMatchObject({
      average: 3.5,
    });
    const rated = (await readFeed(ben, { scope: 'domains' })).items.filter((i) => i.type === 'rated');
    expect(rated.map((i) => i.summary)).toEqual([
      'Ana changed their rating to 5/5 with a review',
      'Ben rated it 2/5',
      'Ana rated it 4/5 with a review',
    ]);
    expect((await getAssetProfile(ben, vendorSpend)).ratings).toEqual({ average: 3.5, count: 2 });
    const reviews = await listReviews(ben, { urn: vendorSpend, withText: true });
    expect(reviews.reviews.map((r) => [r.principal, r.stars, r.review])).toEqual([['ana', 5, 'Now with FY26']]);
    await expect(rateAsset(ana, { urn: vendorSpend, stars: 6 })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(rateAsset(outsider, { urn: members, stars: 5 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('threads comments, resolves @mentions to principals, and lets authors edit and delete their own', async () => {
    expect(mentionedIds('ping @ben, @a.chen. and @nobody; mail x@y.org')).toEqual(['ben', 'a.chen', 'nobody']);
    const root = await addComment(ana, { urn: contracts, body: 'Is ceiling_value in dollars? @ben @nobody' });
    expect(root.mentions).toEqual(['ben']);
    const reply = await addComment(ben, { urn: contracts, body: 'Yes, whole dollars', replyTo: root.id });
    const nested = await addComment(ana, { urn: contracts, body: 'Thanks!', replyTo: reply.id });
    expect([reply.replyTo, nested.replyTo]).toEqual([root.id, root.id]);
    await expect(addComment(ana, { urn: vendorSpend, body: 'wrong thread', replyTo: root.id })).rejects.toMatchObject({
      code: 'invalid_input',
    });

    const mentions = await readFeed(ben, { scope: 'mentions' });
    expect(mentions.items.map((i) => [i.asset, i.actor, i.text])).toEqual([
      ['procurement.contracts', 'ana', 'Is ceiling_value in dollars? @ben @nobody'],
    ]);

    await expect(editComment(ben, { id: root.id, body: 'hijack' })).rejects.toMatchObject({ code: 'forbidden' });
    const edited = await editComment(ana, { id: root.id, body: 'Is ceiling_value in dollars or thousands?' });
    expect(edited.editedAt).not.toBeNull();
    expect(edited.mentions).toEqual([]);
    expect((await readFeed(ben, { scope: 'mentions' })).items).toEqual([]);

    await deleteComment(ben, { id: reply.id });
    const thread = await listComments(outsider, { urn: contracts });
    expect(thread.total).toBe(1);
    expect(thread.threads[0]!.body).toBe('Is ceiling_value in dollars or thousands?');
    expect(thread.threads[0]!.replies.map((r) => [r.author, r.body, r.deleted])).toEqual([
      ['ben', null, true],
      ['ana', 'Thanks!', false],
    ]);
  });

  it('hides comments, mentions and follows on assets the reader may not see', async () => {
    const secret = await addComment(hr, { urn: members, body: '@oz you will want this roster' });
    expect(secret.mentions).toEqual(['oz']);
    expect((await readFeed(outsider, { scope: 'mentions' })).items).toEqual([]);
    await expect(listComments(outsider, { urn: members })).rejects.toMatchObject({ code: 'not_found' });
    await expect(editComment(outsider, { id: secret.id, body: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(addComment(outsider, { urn: shipments, body: 'x', replyTo: secret.id })).rejects.toMatchObject({
      code: 'not_found',
    });
    const unknownDomain = await followDomain(outsider, { domain: 'nowhere', follow: true }).catch((e: Error) => e);
    const hiddenDomain = await followDomain(outsider, { domain: 'personnel', follow: true }).catch((e: Error) => e);
    expect((hiddenDomain as Error).message).toBe((unknownDomain as Error).message.replace('nowhere', 'personnel'));
  });

  it('feeds what one follows and one’s own domains, and stops when one unfollows', async () => {
    await followAsset(outsider, { urn: shipments, follow: true });
    await followDomain(hr, { domain: 'personnel', follow: true });
    await addComment(ben, { urn: shipments, body: 'Weights look off for depot 7' });
    await rateAsset(hr, { urn: investigations, stars: 3 });

    // Newest first; the earlier ingestion and annotation events of those assets come after what people did.
    const following = await readFeed(outsider, { scope: 'following' });
    expect(following.items[0]).toMatchObject({ type: 'commented', asset: 'logistics.shipments', actor: 'ben' });
    expect(new Set(following.items.map((i) => i.asset))).toEqual(new Set(['logistics.shipments']));
    const hrFeed = await readFeed(hr, { scope: 'following' });
    expect(hrFeed.items.slice(0, 2).map((i) => [i.type, i.asset])).toEqual([
      ['rated', 'personnel.clearance_investigations'],
      ['commented', 'personnel.service_members'],
    ]);
    const benDomains = await readFeed(ben, { scope: 'domains', limit: 100 });
    expect(new Set(benDomains.items.map((i) => i.asset))).toEqual(
      new Set(['procurement.vendor_spend', 'procurement.contracts']),
    );

    await followAsset(outsider, { urn: shipments, follow: false });
    expect((await readFeed(outsider, { scope: 'following' })).items).toEqual([]);
  });

  it('counts views and uses, and builds trending and recommendations from the assets the reader may see', async () => {
    const client = await connectMcpClient(ana);
    const viewed = await client.callTool({ name: 'catalog_get_asset', arguments: { urn: vendors } });
    expect((viewed.structuredContent as { usageCount: number }).usageCount).toBe(1);
    await client.close();

    // Three people query vendors and vendor_spend together; two of them also use the personnel roster.
    for (const ctx of [ben, hr, ana]) {
      await recordUsage(ctx, vendors, 'query');
      await recordUsage(ctx, vendorSpend, 'download');
    }
    for (const ctx of [
      hr,
      await contextAs(database, {
        id: 'hr2',
        displayName: 'H2',
        clearance: 'TS',
        roles: ['viewer'],
        domains: ['personnel'],
      }),
    ]) {
      await recordUsage(ctx, members, 'view');
      await recordUsage(ctx, vendors, 'view');
    }
    expect((await getAssetProfile(ana, vendors)).usageCount).toBe(6);

    const forHr = await recommend(hr, { urn: vendors });
    expect(forHr.alsoUsed[0]).toMatchObject({ asset: 'procurement.vendor_spend', people: 2 });
    expect(forHr.alsoUsed.map((a) => a.asset)).toContain('personnel.service_members');
    const forOutsider = await recommend(outsider, { urn: vendors });
    expect(forOutsider.alsoUsed.map((a) => [a.asset, a.people])).toEqual([['procurement.vendor_spend', 3]]);
    expect(forOutsider.similar.length).toBeGreaterThan(0);
    for (const name of hiddenNames) {
      expect(forOutsider.similar.map((s) => s.asset)).not.toContain(name);
    }
    expect(forOutsider.similar.map((s) => s.asset)).not.toContain('procurement.vendors');
    // Recommendations for a person come from what they used lately.
    const mine = await recommend(ben, {});
    expect(mine.basis).toBe('your usage');
    expect(mine.alsoUsed.map((a) => a.asset)).not.toContain('personnel.service_members');

    const trendingForHr = await readFeed(hr, { scope: 'trending' });
    expect(trendingForHr.items.slice(0, 2).map((i) => [i.asset, i.people])).toEqual([
      ['procurement.vendors', 4],
      ['procurement.vendor_spend', 3],
    ]);
    expect(trendingForHr.items.map((i) => i.asset)).toContain('personnel.service_members');
    const trendingForOutsider = await readFeed(outsider, { scope: 'trending' });
    for (const name of hiddenNames) expect(trendingForOutsider.items.map((i) => i.asset)).not.toContain(name);
    const fresh = await readFeed(outsider, { scope: 'new', limit: 50 });
    expect(fresh.items.length).toBe((await searchCatalog(outsider, { query: '', limit: 50 })).total);
    for (const name of hiddenNames) expect(fresh.items.map((i) => i.asset)).not.toContain(name);
  });

  it('lists the social tools with annotations that say which change state', async () => {
    const client = await connectMcpClient(ana);
    const { tools } = await client.listTools();
    const readOnly = Object.fromEntries(
      tools.filter((t) => t.name.startsWith('social_')).map((t) => [t.name, t.annotations?.readOnlyHint]),
    );
    expect(readOnly).toEqual({
      social_rate: false,
      social_list_reviews: true,
      social_comment: false,
      social_edit_comment: false,
      social_list_comments: true,
      social_follow: false,
      social_feed: true,
      social_recommend: true,
      social_record_usage: false,
    });
    const both = await client.callTool({ name: 'social_follow', arguments: { urn: contracts, domain: 'procurement' } });
    expect(both.isError).toBe(true);
    await client.close();
  });
});
