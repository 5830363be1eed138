import { asc, inArray } from 'drizzle-orm';
import type { Tx } from '../../db/create-db.js';
import { assets, columns } from '../../db/schema/index.js';
import { clearanceAllows } from '../governance/access.js';
import type { Embedder } from './embeddings/embedder.js';
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
