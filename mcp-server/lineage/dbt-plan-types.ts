import type { DbtExposure, DbtNode } from './dbt-manifest.js';
import type { AssetFacts, OwnedAsset } from './producer-assets.js';
import type { ColumnMapping } from './store.js';

/** The plan of a dbt ingestion (dbt-plan.ts makes it; dbt-sql.ts adds its column lineage; dbt.ts writes it). */

export type RelationRole = 'model' | 'seed' | 'snapshot' | 'source';

export interface PlannedRelation {
  node: DbtNode;
  role: RelationRole;
  database: string;
  schema: string;
  identifier: string;
  /** The connector's asset this relation is, or null when the project's dbt source owns it. */
  connectorAssetId: string | null;
  owned: OwnedAsset | null;
  facts: AssetFacts;
}

export interface DbtPlan {
  project: string;
  sourceName: string;
  location: string;
  relations: Map<string, PlannedRelation>;
  exposures: { exposure: DbtExposure; owned: OwnedAsset }[];
  /** Ephemeral models: no relation of their own, lineage passes through them. */
  ephemeral: Map<string, DbtNode>;
  /** Per model: column mappings by the unique id of the relation they come from. */
  columnLineage: Map<string, Map<string, ColumnMapping[]>>;
  warnings: string[];
}
