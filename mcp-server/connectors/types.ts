/**
 * What a connector reports about a source. Connectors only read the source and describe it;
 * `syncSource` (mcp-server/catalog/sync.ts) turns a snapshot into catalog rows, so idempotence,
 * transactions and change detection live in one place for every kind of source.
 */

export type SourceKind = 'postgres' | 'mysql' | 'files';

export type DiscoveredAssetKind = 'table' | 'view' | 'materialized_view' | 'file';

export interface DiscoveredColumn {
  name: string;
  /** 1-based ordinal position in the table or file. */
  position: number;
  /** The type as the source spells it, e.g. `integer`, `character varying(40)`, `mpaa_rating`, `text[]`. */
  dataType: string;
  nullable: boolean;
  isPrimaryKey: boolean;
  description?: string | null;
  defaultValue?: string | null;
}

export interface DiscoveredForeignKey {
  /** Constraint name, unique within the referencing table. */
  name: string;
  columns: string[];
  /** The referenced table, in the same source. */
  refNamespace: string;
  refName: string;
  refColumns: string[];
}

export interface DiscoveredAsset {
  kind: DiscoveredAssetKind;
  /** Schema (Postgres), database (MySQL) or directory relative to the root (files; '' for the root). */
  namespace: string;
  name: string;
  description?: string | null;
  /** The owner as the source knows it (a database role, a file owner); null when unknown. */
  owner?: string | null;
  /** SQL definition of a view or materialized view. */
  definition?: string | null;
  /** Exact for files, the planner's estimate for database tables; null when unknown. */
  rowCount?: number | null;
  sizeBytes?: number | null;
  lastModified?: Date | null;
  /** Source-specific facts worth showing: partitioning, file format, engine, etc. JSON-serialisable. */
  properties?: Record<string, unknown>;
  columns: DiscoveredColumn[];
  foreignKeys?: DiscoveredForeignKey[];
}

/** A problem with one object of the source that did not stop the rest (e.g. a malformed file). */
export interface DiscoveryError {
  /** What failed: a file path relative to the root, or `schema.table`. */
  object: string;
  message: string;
}

export interface SourceSnapshot {
  kind: SourceKind;
  /** The source's display name, e.g. the database name or the directory's base name. */
  name: string;
  /** Where it was read from, with any password removed. */
  location: string;
  assets: DiscoveredAsset[];
  errors: DiscoveryError[];
}

export interface DiscoverProgress {
  done: number;
  total: number;
  current?: string;
}

export type ProgressListener = (progress: DiscoverProgress) => void;

export interface Connector {
  readonly kind: SourceKind;
  /** Reads the source's metadata. Throws a DataOpsError with an actionable message when the source cannot be read at all. */
  discover(onProgress?: ProgressListener): Promise<SourceSnapshot>;
}
