import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '../cli/workspace.js';
import { queryRows } from '../db/create-db.js';
import { demoAnnotations } from '../mcp-server/demo/demo-annotations.js';
import { demoDomains } from '../mcp-server/demo/demo-domains.js';
import { demoPrincipals } from '../mcp-server/demo/demo-principals.js';
import { loadDemo } from '../mcp-server/demo/load-demo.js';
import { clearanceAllows } from '../mcp-server/governance/access.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { readFeed } from '../mcp-server/social/feed.js';
import { recommend } from '../mcp-server/social/recommend.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';

/** What the demo says a person may see, worked out from the demo's own data rather than by the code under test. */
function allowed(principalId: string, qualifiedName: string): boolean {
  const person = demoPrincipals.find((p) => p.id === principalId)!;
  const asset = demoAnnotations[qualifiedName]!;
  const restricted = demoDomains.find((d) => d.id === asset.domain)!.restricted;
  return (
    clearanceAllows(person.clearance, asset.classification) && (!restricted || person.domains.includes(asset.domain))
  );
}

describe('the demo workspace’s social history', () => {
  let ws: Workspace;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ws, close } = await openDemoWorkspace('dataops_demosocial'));
  }, 240_000);
  afterAll(() => close?.());

  it('shows ratings, discussions and follows on first start', async () => {
    const chen = await ws.contextFor('a.chen');
    expect((await getAssetProfile(chen, demoUrn('contracts.vendor_spend_by_fy'))).ratings).toEqual({
      average: 5,
      count: 1,
    });
    const following = await readFeed(chen, { scope: 'following', limit: 50 });
    expect(following.items.map((i) => i.type)).toContain('replied');
    const mentions = await readFeed(await ws.contextFor('m.okafor'), { scope: 'mentions' });
    expect(mentions.items.map((i) => [i.asset, i.actor])).toContainEqual(['contracts.vendor_spend_by_fy', 'a.chen']);
    for (const person of demoPrincipals) {
      const ctx = await ws.contextFor(person.id);
      for (const scope of ['following', 'domains', 'mentions', 'trending', 'new'] as const) {
        const feed = await readFeed(ctx, { scope, limit: 100 });
        for (const item of feed.items)
          expect(allowed(person.id, item.asset), `${person.id} ${scope} ${item.asset}`).toBe(true);
      }
    }
  });

  it('has a trend and co-usage to recommend from, naming only what each person may see', async () => {
    const brooks = await ws.contextFor('t.brooks');
    const trending = await readFeed(brooks, { scope: 'trending' });
    expect(new Set(trending.items.slice(0, 3).map((i) => i.asset))).toEqual(
      new Set(['logistics.open_shipments', 'logistics.shipment_events', 'logistics.shipments']),
    );
    const chen = await ws.contextFor('a.chen');
    const related = await recommend(chen, { urn: demoUrn('contracts.payments'), limit: 10 });
    expect(related.alsoUsed.map((a) => a.asset)).toContain('contracts.vendor_spend_by_fy');
    expect(related.similar.length).toBeGreaterThan(0);
    for (const item of [...related.alsoUsed, ...related.similar])
      expect(allowed('a.chen', item.asset), item.asset).toBe(true);
    const mine = await recommend(chen, {});
    expect(mine.alsoUsed.length).toBeGreaterThan(0);
    for (const item of [...mine.alsoUsed, ...mine.similar])
      expect(allowed('a.chen', item.asset), item.asset).toBe(true);
  });

  it('is written once: loading the demo again adds no history', async () => {
    const count = async () =>
      (await queryRows<{ n: number }>(ws.database.db, sql`select count(*)::int as n from usage_events`))[0]!.n;
    const before = await count();
    expect(before).toBeGreaterThan(300);
    // As `dataops demo` run again: a new process, whose admin now belongs to the demo domains.
    await loadDemo({ ...ws, ctx: await ws.contextFor('admin') }, () => {});
    expect(await count()).toBe(before);
  }, 240_000);
});
