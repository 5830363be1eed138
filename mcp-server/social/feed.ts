import { type SQL, sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';

export const feedScopes = ['following', 'domains', 'mentions', 'trending', 'new'] as const;
export type FeedScope = (typeof feedScopes)[number];

/** How far back trending looks. */
export const trendingDays = 14;

export interface FeedItem {
  type: string;
  urn: string;
  asset: string;
  summary: string;
  actor: string | null;
  at: string;
  /** Comment text for a mention; the asset's description for a new asset. */
  text: string | null;
  /** For trending: uses and distinct people in the window. */
  uses: number | null;
  people: number | null;
}

type Row = Omit<FeedItem, 'at'> & { at: Date | string };

/**
 * One page of the caller's feed. `following`: activity on followed assets and in followed domains;
 * `domains`: activity in the caller's own domains; `mentions`: comments that @mention the caller;
 * `trending`: the most used assets of the last two weeks; `new`: assets that joined the catalog most
 * recently. Every scope reads only assets the caller may see, so nothing hidden is ever named or counted.
 */
export async function readFeed(ctx: ServiceContext, input: { scope: FeedScope; limit?: number; cursor?: string }) {
  const limit = input.limit ?? 20;
  const offset = input.cursor ? decodeCursor(input.cursor) : 0;
  const rows = await queryRows<Row>(ctx.db, sql`${scopeQuery(ctx, input.scope)} limit ${limit + 1} offset ${offset}`);
  return {
    scope: input.scope,
    items: rows.slice(0, limit).map((r) => ({ ...r, at: new Date(r.at).toISOString() })),
    nextCursor: rows.length > limit ? encodeCursor(offset + limit) : null,
  };
}

function scopeQuery(ctx: ServiceContext, scope: FeedScope): SQL {
  const me = ctx.principal.id;
  const visible = visibleAssetsSql(ctx.principal);
  const activity = (where: SQL) => sql`select e.type, a.urn, a.qualified_name as asset, e.summary, e.actor_id as actor,
      e.at, null::text as text, null::int as uses, null::int as people
    from activity_events e join assets a on a.id = e.asset_id
    where (${where}) and ${visible}
    order by e.at desc, e.id desc`;
  switch (scope) {
    case 'following':
      return activity(sql`exists (select 1 from follows f where f.principal_id = ${me} and f.asset_id = e.asset_id)
        or a.domain_id in (select df.domain_id from domain_follows df where df.principal_id = ${me})`);
    case 'domains':
      return activity(sql`a.domain_id = any(${textArray(ctx.principal.domains)})`);
    case 'mentions':
      return sql`select 'mention' as type, a.urn, a.qualified_name as asset,
          p.display_name || ' mentioned you' as summary, c.author_id as actor, c.created_at as at,
          c.body as text, null::int as uses, null::int as people
        from comments c join assets a on a.id = c.asset_id join principals p on p.id = c.author_id
        where c.mentions @> array[${me}]::text[] and c.deleted_at is null and ${visible}
        order by c.created_at desc, c.id desc`;
    case 'trending': {
      const since = new Date(ctx.clock().getTime() - trendingDays * 86_400_000);
      return sql`select 'trending' as type, a.urn, a.qualified_name as asset,
          count(*) || ' uses by ' || count(distinct u.principal_id) || ' people in ' || ${trendingDays}::int || ' days' as summary,
          null::text as actor, max(u.at) as at, null::text as text,
          count(*)::int as uses, count(distinct u.principal_id)::int as people
        from usage_events u join assets a on a.id = u.asset_id
        where u.at > ${since.toISOString()}::timestamptz and a.status = 'active' and ${visible}
        group by a.id, a.urn, a.qualified_name
        order by count(distinct u.principal_id) desc, count(*) desc, a.qualified_name`;
    }
    case 'new':
      return sql`select 'new_asset' as type, a.urn, a.qualified_name as asset,
          'new ' || replace(a.kind, '_', ' ') || coalesce(' in ' || a.domain_id, '') as summary,
          null::text as actor, a.created_at as at, a.description as text, null::int as uses, null::int as people
        from assets a
        where a.status = 'active' and ${visible}
        order by a.created_at desc, a.qualified_name`;
  }
}
