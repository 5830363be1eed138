import { z } from 'zod';
import { classificationSchema, kindSchema } from '../catalog/schemas.js';
import { directSubtypes, indirectSubtypes } from './store.js';

/**
 * The one lineage graph payload: what `lineage_get` returns, what the web canvas hands to
 * `@xyflow/react` as is (nodes `{id, type, position, data}`, edges `{id, source, target, data}`), and
 * what channels/render draws as SVG or PNG for Slack and Teams. The zod schema is the definition (the
 * tools' output schema); the types are inferred from it.
 */

export const lineageColumnEdgeSchema = z.object({
  from: z.string(),
  to: z.string().nullable().describe('Null when a column shapes the whole target (a join key, a filter)'),
  transformationType: z.enum(['DIRECT', 'INDIRECT']).nullable(),
  transformationSubtype: z.enum([...directSubtypes, ...indirectSubtypes]).nullable(),
});

const nodeDataSchema = z.object({
  label: z.string(),
  urn: z.string().nullable(),
  kind: kindSchema.nullable(),
  qualifiedName: z.string().nullable(),
  platform: z.string().nullable(),
  classification: classificationSchema.nullable(),
  qualityScore: z.number().nullable(),
  owner: z.string().nullable(),
  status: z.enum(['active', 'deprecated']).nullable(),
  layer: z.number().describe('Hops from the focus: negative upstream, positive downstream'),
  focus: z.boolean(),
  // Columns that take part in the shown column lineage.
  columns: z.array(z.string()),
  count: z.number().describe('For a group node: how many assets it stands for'),
});

const nodeSchema = z.object({
  // The asset's URN, or `group:<…>` for a collapsed group.
  id: z.string(),
  type: z.enum(['asset', 'group']),
  position: z.object({ x: z.number(), y: z.number() }),
  width: z.number(),
  height: z.number(),
  data: nodeDataSchema,
});

const edgeSchema = z.object({
  id: z.string(),
  // Node ids; data flows from source to target. For `references` (a foreign key) the source is what is
  // depended on, the referenced table, and the target is what depends on it, the referencing table.
  source: z.string(),
  target: z.string(),
  data: z.object({
    kind: z.enum(['derives', 'references']),
    // Where the edge was learned: `postgres`, `sql`, `openlineage`, `dbt`, `manual`, ...
    origin: z.string(),
    columns: z.array(lineageColumnEdgeSchema),
  }),
});

export const lineageGraphSchema = z.object({
  // URN of the asset the graph is about.
  focus: z.string(),
  // The column the graph was narrowed to, if any.
  focusColumn: z.string().nullable(),
  direction: z.enum(['upstream', 'downstream', 'both']),
  depth: z.number(),
  // The time the graph describes (ISO 8601); now unless asked `as_of`.
  asOf: z.string(),
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema),
  // True when a limit (depth, node count or time budget) cut the walk short.
  truncated: z.boolean(),
  // Which limit: `depth` when more lineage lies beyond the last hop shown (ask for more depth to see it),
  // `size` when the node count or time budget stopped the walk (ask for less depth, or one column).
  truncatedBy: z.enum(['depth', 'size']).optional(),
});

export type LineageGraph = z.infer<typeof lineageGraphSchema>;
export type LineageGraphNode = z.infer<typeof nodeSchema>;
export type LineageNodeData = z.infer<typeof nodeDataSchema>;
export type LineageGraphEdge = z.infer<typeof edgeSchema>;
export type LineageColumnEdge = z.infer<typeof lineageColumnEdgeSchema>;
export type TruncatedBy = NonNullable<LineageGraph['truncatedBy']>;
