import { type SQL, sql } from 'drizzle-orm';
import { queryRows } from '../../db/create-db.js';
import type { AssetKind } from '../../db/schema/catalog.js';
import type { Classification } from '../../db/schema/types.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { SearchFilters, SearchHit, SearchResult } from './schemas.js';
import { retrieve } from './search-retrievers.js';

export interface SearchRequest {
  query: string;
  filters?: SearchFilters;
  limit?: number;
  cursor?: string;
}

/** Reciprocal rank fusion constant (Cormack et al. use 60). */
const rrfK = 60;

interface Candidate {
  id: string;
  score: number;
  matched_by: string[];
  domain_id: string | null;
  owner: string | null;
  tags: string[];
  classification: Classification;
  kind: AssetKind;
  source_name: string | null;
  certification: string | null;
}

/**
 * Hybrid search: weighted full-text, trigram similarity on names and vector similarity, fused by
 * reciprocal rank and boosted by certification, quality, usage and rating. An exact name match ranks
 * first. Only assets the principal may see are retrieved, so counts and facets never reveal others.
 */
export async function searchCatalog(ctx: ServiceContext, request: SearchRequest): Promise<SearchResult> {
  const limit = request.limit ?? 10;
  const offset = request.cursor ? decodeCursor(request.cursor) : 0;
  const query = request.query.trim();
  const where = searchConditions(ctx, request.filters ?? {});
  if (!query) return browse(ctx, where, limit, offset);
  const candidates = await retrieveCandidates(ctx, query, where, request.filters ?? {});
  return {
    total: candidates.length,
    hits: await loadHits(ctx, candidates.slice(offset, offset + limit)),
    facets: facetCounts(candidates),
    nextCursor: offset + limit < candidates.length ? encodeCursor(offset + limit) : null,
  };
}

/**
 * Fuses the retrievers' rankings by reciprocal rank, boosted by trust signals; an exact name match
 * adds 1 so it ranks first. The visibility and filter predicate is applied again in the fusing
 * statement, so an asset hidden while separate retriever statements ran is not returned or counted.
 */
function retrieveCandidates(
  ctx: ServiceContext,
  query: string,
  where: SQL,
  filters: SearchFilters,
): Promise<Candidate[]> {
  return retrieve<Candidate>(
    ctx,
    query,
    where,
    filters,
    (ranked) => sql`with fused as (
        select id, sum(1.0 / (${rrfK} + r)) as rrf, array_agg(distinct retriever) as matched_by
        from (${ranked}) ranked group by id
      )
      select a.id::text, f.matched_by, a.domain_id, a.owner, a.tags, a.classification::text as classification,
        a.kind, s.name as source_name, a.certification,
        (f.rrf * ${boostSql()} + case when 'exact' = any(f.matched_by) then 1 else 0 end)::float8 as score
      from fused f join assets a on a.id = f.id left join sources s on s.id = a.source_id
      where ${where}
      order by score desc, a.name, a.id`,
  );
}

/**
 * With no query text: every visible asset that passes the filters, best-regarded first. Paging and
 * facet counts run in the database, since the whole catalog may match.
 */
async function browse(ctx: ServiceContext, where: SQL, limit: number, offset: number): Promise<SearchResult> {
  const page = await queryRows<Pick<Candidate, 'id' | 'score' | 'matched_by'>>(
    ctx.db,
    sql`select a.id::text, '{}'::text[] as matched_by, (${boostSql()})::float8 as score
      from assets a where ${where}
      order by score desc, a.qualified_name, a.id limit ${limit} offset ${offset}`,
  );
  const facetRows = await queryRows<{
    facet: keyof SearchResult['facets'] | 'total';
    value: string | null;
    count: number;
  }>(
    ctx.db,
    sql`with matched as (
        select a.domain_id, a.owner, a.tags, a.classification::text as classification, a.kind,
          s.name as source_name, (a.certification is not null)::text as certified
        from assets a left join sources s on s.id = a.source_id where ${where}
      )
      select 'total' as facet, null as value, count(*)::int as count from matched
      union all select 'domain', domain_id, count(*)::int from matched group by domain_id
      union all select 'owner', owner, count(*)::int from matched group by owner
      union all select 'tag', tag, count(*)::int from matched, unnest(tags) tag group by tag
      union all select 'classification', classification, count(*)::int from matched group by classification
      union all select 'kind', kind, count(*)::int from matched group by kind
      union all select 'source', source_name, count(*)::int from matched group by source_name
      union all select 'certified', certified, count(*)::int from matched group by certified`,
  );
  const total = facetRows.find((r) => r.facet === 'total')?.count ?? 0;
  const facets: SearchResult['facets'] = {
    domain: [],
    owner: [],
    tag: [],
    classification: [],
    kind: [],
    source: [],
    certified: [],
  };
  for (const row of facetRows) {
    if (row.facet !== 'total' && row.value !== null) facets[row.facet].push({ value: row.value, count: row.count });
  }
  for (const list of Object.values(facets)) list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  return {
    total,
    hits: await loadHits(ctx, page),
    facets,
    nextCursor: offset + limit < total ? encodeCursor(offset + limit) : null,
  };
}

/** The predicate every search statement applies: assets the principal may see that pass the filters. */
export function searchConditions(ctx: ServiceContext, filters: SearchFilters): SQL {
  return sql`${visibleAssetsSql(ctx.principal)} and ${filtersSql(filters)}`;
}

/** Multiplier for trust signals; 1 for an asset nobody has certified, scored, used or rated yet. */
function boostSql(): SQL {
  return sql.raw(`(case when a.certification is not null then 1.25 else 1 end
    * case when a.quality_score is null then 1 else 0.85 + 0.3 * a.quality_score / 100 end
    * (1 + 0.05 * ln(1 + a.usage_count))
    * case when a.rating_count = 0 then 1 else 1 + 0.05 * (a.rating_average - 3) end
    * case when a.status = 'deprecated' then 0.5 else 1 end)`);
}

function filtersSql(filters: SearchFilters): SQL {
  const parts: SQL[] = [];
  if (!filters.includeDeprecated) parts.push(sql`a.status = 'active'`);
  if (filters.domain) parts.push(sql`a.domain_id = ${filters.domain}`);
  if (filters.owner) parts.push(sql`a.owner = ${filters.owner}`);
  // Containment rather than "= any(tags)", so the GIN index on tags can answer it.
  if (filters.tag) parts.push(sql`a.tags @> array[${filters.tag}]::text[]`);
  if (filters.classification) parts.push(sql`a.classification = ${filters.classification}::classification`);
  if (filters.kind) parts.push(sql`a.kind = ${filters.kind}`);
  if (filters.source) parts.push(sql`a.source_id in (select id from sources where name = ${filters.source})`);
  if (filters.certified !== undefined) {
    parts.push(filters.certified ? sql`a.certification is not null` : sql`a.certification is null`);
  }
  // As float8: a tiny score such as 3e-323 is a valid double but out of range for the real column.
  if (filters.minQuality !== undefined) parts.push(sql`a.quality_score >= ${filters.minQuality}::float8`);
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

function facetCounts(candidates: Candidate[]): SearchResult['facets'] {
  const count = (values: (string | null)[]) => {
    const counts = new Map<string, number>();
    for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts.entries()]
      .map(([value, n]) => ({ value, count: n }))
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  };
  return {
    domain: count(candidates.map((c) => c.domain_id)),
    owner: count(candidates.map((c) => c.owner)),
    tag: count(candidates.flatMap((c) => c.tags)),
    classification: count(candidates.map((c) => c.classification)),
    kind: count(candidates.map((c) => c.kind)),
    source: count(candidates.map((c) => c.source_name)),
    certified: count(candidates.map((c) => (c.certification ? 'true' : 'false'))),
  };
}

async function loadHits(
  ctx: ServiceContext,
  page: Pick<Candidate, 'id' | 'score' | 'matched_by'>[],
): Promise<SearchHit[]> {
  if (page.length === 0) return [];
  const rows = await queryRows<Omit<SearchHit, 'score' | 'matchedBy'> & { id: string }>(
    ctx.db,
    sql`select a.id::text, a.urn, a.name, a.qualified_name as "qualifiedName", a.kind, a.description,
        s.name as source, a.domain_id as domain, a.owner, a.tags, a.classification::text as classification,
        a.certification, a.quality_score::float8 as "qualityScore", a.status, a.row_count::float8 as "rowCount"
      from assets a left join sources s on s.id = a.source_id
      where a.id in (select jsonb_array_elements_text(${JSON.stringify(page.map((c) => c.id))}::jsonb)::uuid)`,
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return page.map((c) => {
    const { id: _id, ...row } = byId.get(c.id)!;
    return { ...row, score: Math.round(c.score * 10000) / 10000, matchedBy: c.matched_by };
  });
}
