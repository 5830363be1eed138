import { type SQL, sql } from 'drizzle-orm';
import { identifierWords } from './words.js';

export interface SearchableAsset {
  name: string;
  namespace: string;
  description?: string | null;
  tags: string[];
  columns: { name: string; description?: string | null }[];
}

/**
 * The weighted full-text document of an asset: its name weighs most (A), then description and tags (B),
 * column names (C) and column descriptions (D). The `english` configuration stems, so `contracts`
 * matches `contract`.
 */
export function searchDocumentSql(asset: SearchableAsset): SQL {
  const name = `${identifierWords(asset.name)} ${asset.name}`;
  const about = `${asset.description ?? ''} ${asset.tags.map(identifierWords).join(' ')} ${identifierWords(asset.namespace)}`;
  const columnNames = asset.columns.map((c) => identifierWords(c.name)).join(' ');
  const columnNotes = asset.columns.map((c) => c.description ?? '').join(' ');
  return sql`setweight(to_tsvector('english', ${name}), 'A')
    || setweight(to_tsvector('english', ${about}), 'B')
    || setweight(to_tsvector('english', ${columnNames}), 'C')
    || setweight(to_tsvector('english', ${columnNotes}), 'D')`;
}

/** The text an embedder turns into the asset's vector: what it is called, what it says it holds, its columns. */
export function embeddingText(asset: SearchableAsset): string {
  const columns = asset.columns
    .slice(0, 60)
    .map((c) => identifierWords(c.name))
    .join(', ');
  return [identifierWords(asset.name), asset.description ?? '', asset.tags.join(' '), columns]
    .filter(Boolean)
    .join('. ');
}
