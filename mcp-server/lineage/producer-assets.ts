import type { Tx } from '../../db/create-db.js';
import type { AssetKind } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import type { ServiceContext } from '../context.js';

/**
 * What lineage producers (OpenLineage, dbt) say about assets, and the writer that records it: the shapes
 * openlineage-assets.ts and openlineage-columns.ts share.
 */

export type ProducerKind = 'openlineage' | 'dbt';

export interface FactColumn {
  name: string;
  dataType?: string | null;
  description?: string | null;
  tags?: string[];
}

/** What a producer says about an asset; an absent field says nothing (the catalog's value stays). */
export interface AssetFacts {
  description?: string | null;
  owner?: string | null;
  tags?: string[];
  /** The whole schema as the producer knows it; absent leaves the columns as they are. */
  columns?: FactColumn[];
  /** The producer knows only some columns (e.g. the documented ones): add and describe, never remove. */
  partialColumns?: boolean;
}

/** An asset that belongs to a producer's source (it is not in any database source the catalog reads). */
export interface OwnedAsset {
  source: { kind: ProducerKind; name: string; location: string };
  urn: string;
  kind: AssetKind;
  namespace: string;
  name: string;
  qualifiedName: string;
  definition?: string | null;
  /** Producer-specific facts worth showing, stored whole in `properties`. */
  properties?: Record<string, unknown>;
  /** The kind is a guess (no facet declared it): it does not overwrite a kind a producer declared earlier. */
  guessedKind?: boolean;
  /**
   * Each `properties` entry adds to what the asset has (a producer that sends a facet in one event and not
   * the next has not withdrawn it); otherwise `properties` replaces them.
   */
  mergeProperties?: boolean;
  facts: AssetFacts;
}

export interface WriteStats {
  created: number;
  updated: number;
  restored: number;
  schemaChanges: number;
}

/** Transaction-scoped writer: collects the assets it changed so their search documents are rebuilt once. */
export interface AssetWriter {
  tx: Tx;
  ctx: ServiceContext;
  now: Date;
  /** Vectors computed before the transaction for assets that did not exist yet, by URN. */
  embeddings: Map<string, number[]>;
  stats: WriteStats;
  changed: Set<string>;
  sourceIds: Map<string, SourceRow>;
}

export interface SourceRow {
  id: string;
  classification: Classification;
  domainId: string | null;
}
