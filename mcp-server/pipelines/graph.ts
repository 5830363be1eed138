import { z } from 'zod';
import { type NodeType, nodeTypes } from './nodes/index.js';

/**
 * A pipeline graph in the shape @xyflow/react edits as is: nodes `{id, type, position, data: {label, config}}`
 * and edges `{id, source, target, sourceHandle?, targetHandle?}`. Each node type's config schema is in its
 * module under `nodes/`, so a canvas, the MCP tools and the compiler agree on one shape.
 */

export const nodeIdSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'a node id starts with a letter and holds letters, digits, _ and -');

export const pipelineNodeSchema = z.object({
  id: nodeIdSchema,
  type: z.enum(nodeTypes as [NodeType, ...NodeType[]]),
  position: z.object({ x: z.number(), y: z.number() }),
  data: z.object({ label: z.string().max(200), config: z.record(z.string(), z.unknown()) }),
});

export const pipelineEdgeSchema = z.object({
  id: z.string().min(1).max(200),
  source: nodeIdSchema,
  target: nodeIdSchema,
  sourceHandle: z.string().max(63).nullish(),
  targetHandle: z.string().max(63).nullish(),
});

export type PipelineNode = z.infer<typeof pipelineNodeSchema>;
export type PipelineEdge = z.infer<typeof pipelineEdgeSchema>;
export interface PipelineGraph {
  nodes: PipelineNode[];
  edges: PipelineEdge[];
}

/** The edges into a node, by target handle. */
export function inputsOf(graph: PipelineGraph, nodeId: string): PipelineEdge[] {
  return graph.edges.filter((e) => e.target === nodeId);
}
