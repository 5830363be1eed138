import { is, type SQL, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { isEmbeddedDb, queryRows } from '../../db/create-db.js';
import type { ServiceContext } from '../context.js';
import type { SearchFilters } from './schemas.js';

/** How many candidates each retriever contributes before fusion. */
export const candidatesPerRetriever = 200;
/** Names farther than this trigram word distance (1 - word similarity) do not match. */
const maxNameDistance = 0.5;
/** Vector neighbours farther than this cosine distance are not "similar in meaning". */
const maxSemanticDistance = 0.55;

export type RetrieverName = 'text' | 'name' | 'meaning' | 'exact';

export interface Retriever {
  name: RetrieverName;
  /** `select id, r ...`, visible assets that pass the filters only, r = 1 for the best. */
  query: SQL;
  /** Settings the query needs, applied to its transaction. */
  settings?: SQL;
}

/**
 * Runs the retrievers and hands their rankings to `fuse`, as an SQL row source of
 * `(id uuid, r int, retriever text)`, to build the statement whose rows are returned.
 *
 * On a server the retrievers run side by side, each on its own pooled connection (the words and the
 * name while the query is being embedded, a remote call with Bedrock), so a search takes about as long
 * as its slowest retriever rather than all of them added up; their rankings then reach the fusing
 * statement as JSON. An embedded database runs one statement at a time, so there everything is one
 * statement, which saves the extra round trips and plans; so it is inside a caller's transaction.
 */
export async function retrieve<T>(
  ctx: ServiceContext,
  query: string,
  where: SQL,
  filters: SearchFilters,
  fuse: (ranked: SQL) => SQL,
): Promise<T[]> {
  const lexical = lexicalRetrievers(query, where);
  const meaning = () => meaningRetrievers(ctx, query, where, filters);
  // A transaction has one connection too: its statements cannot run side by side either.
  if (isEmbeddedDb(ctx.db) || is(ctx.db, PgTransaction)) {
    const retrievers = [...lexical, ...(await meaning())];
    const ranked = sql.join(
      retrievers.map(
        (r) => sql`select id, r::int as r, ${r.name}::text as retriever from (${r.query}) ${sql.identifier(r.name)}`,
      ),
      sql` union all `,
    );
    return ctx.db.transaction(async (tx) => {
      for (const r of retrievers) if (r.settings) await tx.execute(r.settings);
      return queryRows<T>(tx, fuse(ranked));
    });
  }
  const run = async (retriever: Retriever): Promise<Ranked[]> => {
    const statement = sql`select id::text as id, r::int as r from (${retriever.query}) hits`;
    const rows = retriever.settings
      ? await ctx.db.transaction(async (tx) => {
          await tx.execute(retriever.settings!);
          return queryRows<{ id: string; r: number }>(tx, statement);
        })
      : await queryRows<{ id: string; r: number }>(ctx.db, statement);
    return rows.map((row) => ({ id: row.id, r: row.r, retriever: retriever.name }));
  };
  const lists = await Promise.all([...lexical.map(run), meaning().then((m) => Promise.all(m.map(run)))]);
  const ranked = lists.flat(2);
  if (ranked.length === 0) return [];
  return queryRows<T>(
    ctx.db,
    fuse(sql`select * from jsonb_to_recordset(${JSON.stringify(ranked)}::jsonb) as x(id uuid, r int, retriever text)`),
  );
}

/** The retrievers that need no vector: full text, trigram names, exact names. */
export function lexicalRetrievers(query: string, where: SQL): Retriever[] {
  return [textHits(query, where), nameHits(query.toLowerCase(), where), exactHits(query, where)];
}

/** The vector retriever, or none for a query the embedder cannot place (no known words). */
export async function meaningRetrievers(
  ctx: ServiceContext,
  query: string,
  where: SQL,
  filters: SearchFilters,
): Promise<Retriever[]> {
  const [vector] = await ctx.embedder.embed([query]);
  return vector?.some((v) => v !== 0) ? [meaningHits(ctx, `[${vector.join(',')}]`, where, filters)] : [];
}

interface Ranked {
  id: string;
  r: number;
  retriever: RetrieverName;
}

// Query values are inlined as parameters, not read from a CTE, so the planner can match them to the
// GIN (text, trigram) and HNSW (vector) indexes.

function textHits(query: string, where: SQL): Retriever {
  return {
    name: 'text',
    // The best 200 by rank first (a top-N sort), then numbered: numbering every match would sort them all.
    query: sql`select id, row_number() over (order by rank desc, id) as r from (
        select a.id, ts_rank_cd(a.search_document, websearch_to_tsquery('english', ${query}), 32) as rank
        from assets a
        where a.search_document @@ websearch_to_tsquery('english', ${query}) and ${where}
        order by rank desc, a.id limit ${candidatesPerRetriever}
      ) best`,
  };
}

/**
 * Nearest names by trigram word distance: catches misspellings ("contrcts") and fragments ("depot_inv")
 * that full text cannot. The GIN trigram index finds the names whose word similarity reaches the
 * threshold (<%), the same cut as distance <= max. A one-word query is at distance 0 from every name
 * containing the word: the shorter name, closer to being just that word, goes first.
 */
function nameHits(lowered: string, where: SQL): Retriever {
  return {
    name: 'name',
    settings: sql`select set_config('pg_trgm.word_similarity_threshold', ${String(1 - maxNameDistance)}, true)`,
    query: sql`select id, row_number() over (order by distance, length, id) as r from (
        select a.id, lower(a.name) <->> ${lowered} as distance, length(a.name) as length
        from assets a where ${lowered} <% lower(a.name) and ${where}
        order by distance, length, a.id limit ${candidatesPerRetriever}
      ) nearest`,
  };
}

function exactHits(query: string, where: SQL): Retriever {
  const lowered = query.toLowerCase();
  return {
    name: 'exact',
    // A range, not equality, so only the btree indexes match it: the trigram index also answers
    // equality, the planner rates it as cheap, and it rechecks every name sharing the query's trigrams.
    query: sql`select a.id, 1 as r from assets a
      where (lower(a.name) between ${lowered} and ${lowered}
        or lower(a.qualified_name) between ${lowered} and ${lowered}) and ${where}`,
  };
}

/**
 * The assets nearest to the query vector within the cosine-distance cut. Unfiltered (or broadly
 * filtered) the HNSW index walks the graph, and iterative scanning skips rows the filters reject until
 * enough are found. A filter that an index narrows to a small part of the catalog (a source, a domain,
 * an owner, a tag) makes that walk visit thousands of rejected neighbours and still miss many of the
 * matching assets, so those assets are compared with the query one by one instead: exact, and cheaper.
 */
function meaningHits(ctx: ServiceContext, vector: string, where: SQL, filters: SearchFilters): Retriever {
  const narrow = Boolean(filters.source || filters.domain || filters.owner || filters.tag);
  const scored = sql`select a.id, a.embedding <=> ${vector}::vector as distance
    from assets a where a.embedding_model = ${ctx.embedder.modelId} and ${where}`;
  // "offset 0" keeps the subquery from being flattened, so the ordering cannot come from the HNSW index.
  const nearest = narrow
    ? sql`select id, distance from (${scored} offset 0) filtered order by distance, id limit ${candidatesPerRetriever}`
    : sql`${scored} order by distance limit ${candidatesPerRetriever}`;
  return {
    name: 'meaning',
    settings: sql`select set_config('hnsw.ef_search', ${String(candidatesPerRetriever)}, true),
      set_config('hnsw.iterative_scan', 'relaxed_order', true)`,
    query: sql`select id, row_number() over (order by distance, id) as r from (${nearest}) nearest
      where distance <= ${maxSemanticDistance}`,
  };
}
