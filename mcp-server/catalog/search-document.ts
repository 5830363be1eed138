import { type SQL, sql } from 'drizzle-orm';
import { identifierWords } from './words.js';

export interface SearchableAsset {
  name: string;
  namespace: string;
  description?: string | null;
  tags: string[];
  columns: { name: string; description?: string | null }[];
}

/** The texts of the full-text document's four weights, as `searchDocumentSql` combines them. */
export interface SearchDocumentParts {
  /** A: the name, as words and as written. */
  name: string;
  /** B: description, tags and namespace. */
  about: string;
  /** C: column names, as words. */
  columnNames: string;
  /** D: column descriptions. */
  columnNotes: string;
}

export function searchDocumentParts(asset: SearchableAsset): SearchDocumentParts {
  return {
    name: `${identifierWords(asset.name)} ${asset.name}`,
    about: `${asset.description ?? ''} ${asset.tags.map(identifierWords).join(' ')} ${identifierWords(asset.namespace)}`,
    columnNames: asset.columns.map((c) => identifierWords(c.name)).join(' '),
    columnNotes: asset.columns.map((c) => c.description ?? '').join(' '),
  };
}

/** The document from its parts given as SQL expressions (parameters, or fields of a bulk insert's rows). */
export function searchDocumentFrom(parts: Record<keyof SearchDocumentParts, SQL | string>): SQL {
  return sql`setweight(to_tsvector('english', ${parts.name}), 'A')
    || setweight(to_tsvector('english', ${parts.about}), 'B')
    || setweight(to_tsvector('english', ${parts.columnNames}), 'C')
    || setweight(to_tsvector('english', ${parts.columnNotes}), 'D')`;
}

/**
 * The weighted full-text document of an asset: its name weighs most (A), then description and tags (B),
 * column names (C) and column descriptions (D). The `english` configuration stems, so `contracts`
 * matches `contract`.
 */
export function searchDocumentSql(asset: SearchableAsset): SQL {
  return searchDocumentFrom(searchDocumentParts(asset));
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
