import { sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';

/** How far back the caller's own usage reaches when recommendations are for the caller rather than an asset. */
const personalHistoryDays = 90;

/**
 * Recommendations from an asset, or (without one) from what the caller used lately:
 * - `alsoUsed`: assets that the other people who used the seed assets also used, by how many of them;
 * - `similar`: the nearest assets by meaning (cosine distance of their embeddings).
 * Only assets the caller may see are named or counted.
 */
export async function recommend(ctx: ServiceContext, input: { urn?: string; limit?: number }) {
  const limit = input.limit ?? 5;
  const me = ctx.principal.id;
  const visible = visibleAssetsSql(ctx.principal);
  let seeds: string[];
  if (input.urn) {
    seeds = [(await findVisibleAsset(ctx, input.urn)).id];
  } else {
    const since = new Date(ctx.clock().getTime() - personalHistoryDays * 86_400_000);
    const rows = await queryRows<{ id: string }>(
      ctx.db,
      sql`select distinct a.id::text from usage_events u join assets a on a.id = u.asset_id
        where u.principal_id = ${me} and u.at > ${since.toISOString()}::timestamptz and ${visible}`,
    );
    seeds = rows.map((r) => r.id);
  }
  if (seeds.length === 0) return { basis: 'your usage' as const, alsoUsed: [], similar: [] };
  const seedIds = sql`(${textArray(seeds)})::uuid[]`;
  const alsoUsed = await queryRows<{ urn: string; asset: string; people: number }>(
    ctx.db,
    sql`select a.urn, a.qualified_name as asset, count(distinct u.principal_id)::int as people
      from usage_events u join assets a on a.id = u.asset_id
      where u.principal_id in (select s.principal_id from usage_events s
          where s.asset_id = any(${seedIds}) and s.principal_id <> ${me})
        and not (u.asset_id = any(${seedIds})) and a.status = 'active' and ${visible}
      group by a.id, a.urn, a.qualified_name
      order by people desc, count(*) desc, a.qualified_name
      limit ${limit}`,
  );
  // The seeds' mean direction, read first so the nearest-neighbour query orders by a constant vector
  // and can walk the HNSW index.
  const [centre] = await queryRows<{ v: string | null }>(
    ctx.db,
    sql`select avg(embedding)::text as v from assets where id = any(${seedIds}) and embedding is not null`,
  );
  const similar = centre?.v
    ? await queryRows<{ urn: string; asset: string; similarity: number }>(
        ctx.db,
        sql`select a.urn, a.qualified_name as asset, (1 - (a.embedding <=> ${centre.v}::vector))::float8 as similarity
          from assets a
          where a.embedding is not null and not (a.id = any(${seedIds})) and a.status = 'active' and ${visible}
          order by a.embedding <=> ${centre.v}::vector
          limit ${limit}`,
      )
    : [];
  return {
    basis: input.urn ? ('asset' as const) : ('your usage' as const),
    alsoUsed,
    similar: similar.map((s) => ({ ...s, similarity: Math.round(s.similarity * 1000) / 1000 })),
  };
}
