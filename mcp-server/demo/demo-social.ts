import { inArray, sql } from 'drizzle-orm';
import { queryRows, type Tx } from '../../db/create-db.js';
import {
  activityEvents,
  assets,
  comments,
  domainFollows,
  follows,
  ratings,
  usageEvents,
} from '../../db/schema/index.js';
import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { clearanceAllows } from '../governance/access.js';
import { mentionedIds } from '../social/comments.js';
import { refreshRatingSummary } from '../social/ratings.js';
import { demoAnnotations } from './demo-annotations.js';
import { demoDomains } from './demo-domains.js';
import { demoPrincipals } from './demo-principals.js';
import { demoFollows, demoRatings, demoRecentBurst, demoThreads, demoWorkingSets } from './demo-social-history.js';

/** Weeks of usage history the demo starts with. */
const historyDays = 42;

/** mulberry32: the same history on every load. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether a demo person may see a demo asset, so the history never puts anyone where they could not be. */
function mayUse(principalId: string, qualifiedName: string): boolean {
  const person = demoPrincipals.find((p) => p.id === principalId);
  const asset = demoAnnotations[qualifiedName];
  if (!person || !asset) return false;
  const restricted = demoDomains.find((d) => d.id === asset.domain)?.restricted ?? false;
  return (
    clearanceAllows(person.clearance, asset.classification) && (!restricted || person.domains.includes(asset.domain))
  );
}

interface UsageRow {
  assetId: string;
  principalId: string;
  action: string;
  at: Date;
}

/** Sessions on working days: each person opens one of their working sets and views, queries or downloads a few assets. */
function generateUsage(ids: Map<string, string>, now: Date): UsageRow[] {
  const random = seeded(20261126);
  const rows: UsageRow[] = [];
  const use = (by: string, asset: string, day: number) => {
    if (!mayUse(by, asset)) return;
    const r = random();
    const action = r < 0.7 ? 'view' : r < 0.95 ? 'query' : 'download';
    const at = new Date(now.getTime() - day * 86_400_000);
    at.setUTCHours(8 + Math.floor(random() * 9), Math.floor(random() * 60), 0, 0);
    if (at < now) rows.push({ assetId: ids.get(asset)!, principalId: by, action, at });
  };
  for (let day = historyDays; day >= 0; day--) {
    const weekday = new Date(now.getTime() - day * 86_400_000).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (const [by, sets] of Object.entries(demoWorkingSets)) {
      if (random() > 0.6) continue;
      const set = sets[Math.floor(random() * sets.length)]!;
      const count = 2 + Math.floor(random() * (set.length - 1));
      const order = [...set];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const asset of order.slice(0, count)) use(by, asset, day);
    }
    if (day <= demoRecentBurst.days) {
      for (const by of demoRecentBurst.people) {
        if (random() < 0.7) for (const asset of demoRecentBurst.assets) use(by, asset, day);
      }
    }
  }
  return rows;
}

const urnOf = (qualifiedName: string) => {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
};

/**
 * Gives the demo workspace a past: ratings with reviews, discussions with @mentions and replies, follows and
 * six weeks of usage, dated relative to now, so feeds, trending and recommendations show something on first
 * start. Written once: a workspace whose demo people already have history keeps it.
 */
export async function loadDemoSocialHistory(ctx: ServiceContext): Promise<{ usageEvents: number } | null> {
  const now = ctx.clock();
  const people = demoPrincipals.map((p) => p.id);
  return ctx.db.transaction(async (tx) => {
    const [seen] = await queryRows<{ has: boolean }>(
      tx,
      sql`select exists (select 1 from usage_events where principal_id in (select jsonb_array_elements_text(${JSON.stringify(people)}::jsonb))) as has`,
    );
    if (seen!.has) return null;
    const rows = await tx
      .select({ id: assets.id, urn: assets.urn })
      .from(assets)
      .where(inArray(assets.urn, Object.keys(demoAnnotations).map(urnOf)));
    const byUrn = new Map(rows.map((r) => [r.urn, r.id]));
    const ids = new Map(Object.keys(demoAnnotations).map((q) => [q, byUrn.get(urnOf(q))!]));
    const name = (id: string) => demoPrincipals.find((p) => p.id === id)!.displayName;
    const daysAgo = (days: number, hour = 10) => {
      const at = new Date(now.getTime() - days * 86_400_000);
      at.setUTCHours(hour, 0, 0, 0);
      return at < now ? at : new Date(now.getTime() - 60_000);
    };

    for (const r of demoRatings.filter((r) => mayUse(r.by, r.asset))) {
      const at = daysAgo(r.daysAgo, 14);
      const assetId = ids.get(r.asset)!;
      await tx.insert(ratings).values({
        assetId,
        principalId: r.by,
        stars: r.stars,
        review: r.review ?? null,
        createdAt: at,
        updatedAt: at,
      });
      await tx.insert(activityEvents).values({
        assetId,
        type: 'rated',
        actorId: r.by,
        summary: `${name(r.by)} rated it ${r.stars}/5${r.review ? ' with a review' : ''}`,
        details: { stars: r.stars, previous: null },
        at,
      });
    }
    for (const thread of demoThreads.filter((t) => mayUse(t.by, t.asset))) {
      const assetId = ids.get(thread.asset)!;
      const root = await writeComment(tx, {
        assetId,
        by: thread.by,
        name: name(thread.by),
        body: thread.body,
        at: daysAgo(thread.daysAgo, 9),
        parentId: null,
      });
      for (const reply of thread.replies.filter((r) => mayUse(r.by, thread.asset))) {
        await writeComment(tx, {
          assetId,
          by: reply.by,
          name: name(reply.by),
          body: reply.body,
          at: daysAgo(reply.daysAgo, 11),
          parentId: root,
        });
      }
    }
    for (const f of demoFollows) {
      const followed = f.assets.filter((a) => mayUse(f.by, a));
      if (followed.length) {
        await tx
          .insert(follows)
          .values(followed.map((a) => ({ principalId: f.by, assetId: ids.get(a)!, createdAt: daysAgo(historyDays) })));
      }
      if (f.domains.length) {
        await tx
          .insert(domainFollows)
          .values(f.domains.map((d) => ({ principalId: f.by, domainId: d, createdAt: daysAgo(historyDays) })));
      }
    }
    const usage = generateUsage(ids, now);
    for (let i = 0; i < usage.length; i += 1000) await tx.insert(usageEvents).values(usage.slice(i, i + 1000));
    const assetIds = [...ids.values()];
    await tx.execute(sql`update assets a set usage_count = a.usage_count + u.n
      from (select asset_id, count(*)::int as n from usage_events
        where principal_id in (select jsonb_array_elements_text(${JSON.stringify(people)}::jsonb)) group by asset_id) u
      where u.asset_id = a.id`);
    for (const id of assetIds) await refreshRatingSummary(tx, id);
    return { usageEvents: usage.length };
  });
}

async function writeComment(
  tx: Tx,
  c: { assetId: string; by: string; name: string; body: string; at: Date; parentId: string | null },
): Promise<string> {
  const mentions = mentionedIds(c.body).filter((id) => demoPrincipals.some((p) => p.id === id));
  const [row] = await tx
    .insert(comments)
    .values({ assetId: c.assetId, authorId: c.by, parentId: c.parentId, body: c.body, mentions, createdAt: c.at })
    .returning({ id: comments.id });
  await tx.insert(activityEvents).values({
    assetId: c.assetId,
    type: c.parentId ? 'replied' : 'commented',
    actorId: c.by,
    summary: `${c.name} ${c.parentId ? 'replied to a comment' : 'commented'}`,
    details: { comment: row!.id, mentions },
    at: c.at,
  });
  return row!.id;
}
