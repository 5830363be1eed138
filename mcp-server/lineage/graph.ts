import type { AssetKind } from '../../db/schema/catalog.js';
import type { Classification } from '../../db/schema/types.js';
import type { EdgeKind, TransformationSubtype, TransformationType } from './store.js';

/**
 * The one lineage graph payload: what `lineage_get` returns, what the web canvas hands to
 * `@xyflow/react` as is (nodes `{id, type, position, data}`, edges `{id, source, target, data}`), and
 * what channels/render draws as SVG or PNG for Slack and Teams.
 */
export interface LineageGraph {
  /** URN of the asset the graph is about. */
  focus: string;
  /** The column the graph was narrowed to, if any. */
  focusColumn: string | null;
  direction: 'upstream' | 'downstream' | 'both';
  depth: number;
  /** The time the graph describes (ISO 8601); now unless asked `as_of`. */
  asOf: string;
  nodes: LineageGraphNode[];
  edges: LineageGraphEdge[];
  /** True when a limit (depth, node count or time budget) cut the walk short. */
  truncated: boolean;
  /**
   * Which limit: `depth` when more lineage lies beyond the last hop shown (ask for more depth to see it),
   * `size` when the node count or time budget stopped the walk (ask for less depth, or one column).
   */
  truncatedBy?: TruncatedBy;
}

export type TruncatedBy = 'depth' | 'size';

export interface LineageGraphNode {
  /** The asset's URN, or `group:<…>` for a collapsed group. */
  id: string;
  type: 'asset' | 'group';
  position: { x: number; y: number };
  width: number;
  height: number;
  data: LineageNodeData;
}

export interface LineageNodeData {
  label: string;
  urn: string | null;
  kind: AssetKind | null;
  qualifiedName: string | null;
  platform: string | null;
  classification: Classification | null;
  qualityScore: number | null;
  owner: string | null;
  status: 'active' | 'deprecated' | null;
  /** Hops from the focus: negative upstream, positive downstream, 0 for the focus. */
  layer: number;
  focus: boolean;
  /** Columns that take part in the shown column lineage. */
  columns: string[];
  /** For a group: how many assets it stands for. */
  count: number;
}

export interface LineageGraphEdge {
  id: string;
  /**
   * Node ids; data flows from source to target. For `references` (a foreign key) the source is what is
   * depended on, the referenced table, and the target is what depends on it, the referencing table.
   */
  source: string;
  target: string;
  data: {
    kind: EdgeKind;
    /** Where the edge was learned: `postgres`, `sql`, `openlineage`, `dbt`, `manual`, ... */
    origin: string;
    columns: LineageColumnEdge[];
  };
}

export interface LineageColumnEdge {
  from: string;
  /** Null for INDIRECT lineage on the whole target (a join key, a filter). */
  to: string | null;
  transformationType: TransformationType | null;
  transformationSubtype: TransformationSubtype | null;
}
