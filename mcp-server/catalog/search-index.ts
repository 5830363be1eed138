import { asc, inArray, sql } from 'drizzle-orm';
import { type Db, isEmbeddedDb, queryRows, type Tx } from '../../db/create-db.js';
import { assets, columns } from '../../db/schema/index.js';
import { clearanceAllows } from '../governance/access.js';
import type { Embedder } from './embeddings/embedder-type.js';
import { embeddingText, searchDocumentSql } from './search-document.js';

/**
 * Recomputes the full-text document and the embedding of assets from what the catalog now holds
 * (curated description, tags, columns). A column marked above its asset stays out of both, so a
 * search can never match, or rank by, what a reader of the asset may not see.
 */
export async function reindexAssets(tx: Tx, embedder: Embedder, assetIds: string[]): Promise<void> {
  if (assetIds.length === 0) return;
  const rows = await tx.select().from(assets).where(inArray(assets.id, assetIds));
  const columnRows = await tx
    .select({
      assetId: columns.assetId,
      name: columns.name,
      description: columns.description,
      classification: columns.classification,
    })
    .from(columns)
    .where(inArray(columns.assetId, assetIds))
    .orderBy(asc(columns.position));
  const searchable = rows.map((asset) => ({
    id: asset.id,
    name: asset.name,
    namespace: asset.namespace,
    description: asset.description,
    tags: asset.tags,
    columns: columnRows.filter(
      (c) => c.assetId === asset.id && (!c.classification || clearanceAllows(asset.classification, c.classification)),
    ),
  }));
  const vectors = await embedder.embed(searchable.map(embeddingText));
  for (const [i, asset] of searchable.entries()) {
    await tx
      .update(assets)
      .set({ searchDocument: searchDocumentSql(asset), embedding: vectors[i], embeddingModel: embedder.modelId })
      .where(inArray(assets.id, [asset.id]));
  }
}

/**
 * After a write that changed many assets: fresh planner statistics (without them the planner skips the
 * search indexes) and the GIN indexes' pending lists merged. GIN collects new entries in an unsorted
 * pending list of up to 4 MB that every search scans in full until VACUUM merges it; PGlite never
 * vacuums on its own and servers may lag, so a large sync would leave every text and name search slower.
 * Indexes owned by another role are left to their owner's VACUUM.
 */
export async function refreshSearchIndexes(db: Pick<Db, 'execute'>): Promise<void> {
  await db.execute(sql`analyze assets, columns`);
  await db.execute(sql`select gin_clean_pending_list(i.indexrelid)
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam
    where am.amname = 'gin' and i.indrelid in ('assets'::regclass, 'columns'::regclass)
      and pg_has_role(c.relowner, 'MEMBER')`);
}

/** Below this many new assets a sync always inserts into the vector index as it goes. */
const rebuildFrom = 1000;

/**
 * Runs `work` (which adds `added` assets with vectors) so that the HNSW index costs least. Inserting
 * one vector into the graph takes several times longer than placing it during a build, and the graph
 * is most of a large first sync's time. On an embedded database the sync's transaction holds the only
 * connection, so nobody searches while it runs: when the sync at least doubles the vectors, the index is
 * dropped inside the transaction and built again after the inserts (a failure rolls both back). On a
 * server the index stays, since dropping it would lock every reader out until the sync commits.
 */
export async function withVectorIndexFor<T>(db: Db, tx: Tx, added: number, work: () => Promise<T>): Promise<T> {
  if (!isEmbeddedDb(db) || added < rebuildFrom) return work();
  const [index] = await queryRows<{ definition: string | null; vectors: number }>(
    tx,
    sql`select pg_get_indexdef(to_regclass('assets_embedding_idx')) as definition,
      (select count(*)::int from assets where embedding is not null) as vectors`,
  );
  if (!index?.definition || added < index.vectors) return work();
  await tx.execute(sql`drop index assets_embedding_idx`);
  const result = await work();
  await tx.execute(sql.raw(index.definition));
  return result;
}
