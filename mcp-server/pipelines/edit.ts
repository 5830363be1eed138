import { ZodError } from 'zod';
import { DataOpsError, zodProblems } from '../../core/errors.js';
import type { PipelineGraph, PipelineNode } from './graph.js';
import { destinationTypes, type NodeType, nodeInputs, nodeRegistry, parseNodeConfig } from './nodes/index.js';

/**
 * Edits of a graph, each a pure function that returns the next graph or refuses with `invalid_input`. They
 * refuse what cannot be a graph at all (an unknown node, a config of the wrong shape, an edge to nowhere);
 * what is a graph but not yet a sound pipeline (no destination, a misspelt column) is saved and reported by
 * validation, so a pipeline can be built one step at a time.
 */

function checkConfig(id: string, type: NodeType, config: unknown): void {
  try {
    parseNodeConfig(type, config);
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const problems = zodProblems(error, 'config');
    // The type's documented example shows the whole shape, which a list of problems alone does not.
    const example = JSON.stringify(nodeRegistry[type].docs.example);
    throw new DataOpsError(
      'invalid_input',
      `node \`${id}\` (${type}): its config is not right: ${problems}. A ${type} config looks like ${example}`,
      { cause: error },
    );
  }
}

function findNode(graph: PipelineGraph, id: string): PipelineNode {
  const node = graph.nodes.find((n) => n.id === id);
  if (!node) {
    const ids = graph.nodes.map((n) => `\`${n.id}\``).join(', ') || 'none yet';
    throw new DataOpsError('invalid_input', `the pipeline has no node \`${id}\`; its nodes are ${ids}`);
  }
  return node;
}

/** A fresh id for a node of `type`: its first letters and the next free number (`filter1`, `filter2`…). */
function freshId(graph: PipelineGraph, type: NodeType): string {
  const stem = type.replace(/_.*$/, '');
  for (let i = 1; ; i++) if (!graph.nodes.some((n) => n.id === `${stem}${i}`)) return `${stem}${i}`;
}

export interface NewNode {
  id?: string;
  type: NodeType;
  label?: string;
  config: Record<string, unknown>;
  position?: { x: number; y: number };
  /** Connects this node's output (or the named node's) to the new node's input, as a convenience. */
  after?: string;
}

export function addNode(graph: PipelineGraph, input: NewNode): { graph: PipelineGraph; id: string } {
  const id = input.id ?? freshId(graph, input.type);
  if (graph.nodes.some((n) => n.id === id)) {
    throw new DataOpsError(
      'invalid_input',
      `the pipeline already has a node \`${id}\`; choose another id or update it`,
    );
  }
  checkConfig(id, input.type, input.config);
  const position = input.position ?? { x: 240 * (graph.nodes.length % 6), y: 120 * Math.floor(graph.nodes.length / 6) };
  let next: PipelineGraph = {
    ...graph,
    nodes: [
      ...graph.nodes,
      { id, type: input.type, position, data: { label: input.label ?? id, config: input.config } },
    ],
  };
  if (input.after) next = connect(next, { source: input.after, target: id });
  return { graph: next, id };
}

export function updateNode(
  graph: PipelineGraph,
  input: { id: string; label?: string; config?: Record<string, unknown>; position?: { x: number; y: number } },
): PipelineGraph {
  const node = findNode(graph, input.id);
  // Keys given replace the node's; keys left out stay as they were, so one setting can change alone.
  const config = input.config ? { ...node.data.config, ...input.config } : node.data.config;
  checkConfig(node.id, node.type, config);
  const updated: PipelineNode = {
    ...node,
    position: input.position ?? node.position,
    data: { label: input.label ?? node.data.label, config },
  };
  return { ...graph, nodes: graph.nodes.map((n) => (n.id === node.id ? updated : n)) };
}

export function removeNode(graph: PipelineGraph, id: string): PipelineGraph {
  findNode(graph, id);
  return {
    nodes: graph.nodes.filter((n) => n.id !== id),
    edges: graph.edges.filter((e) => e.source !== id && e.target !== id),
  };
}

export function connect(
  graph: PipelineGraph,
  input: { source: string; target: string; targetHandle?: string | null },
): PipelineGraph {
  const source = findNode(graph, input.source);
  const target = findNode(graph, input.target);
  const handles = nodeInputs[target.type].handles;
  const handle = input.targetHandle ?? (handles.length === 1 ? handles[0]! : undefined);
  if (handles.length === 0)
    throw new DataOpsError('invalid_input', `node \`${target.id}\` (${target.type}) is a source: it takes no input`);
  if (destinationTypes.has(source.type)) {
    throw new DataOpsError(
      'invalid_input',
      `node \`${source.id}\` (${source.type}) is a destination: nothing flows out of it`,
    );
  }
  if (handle === undefined || !handles.includes(handle)) {
    const names = handles.map((h) => `\`${h}\``).join(' or ');
    throw new DataOpsError(
      'invalid_input',
      `node \`${target.id}\` (${target.type}) takes its inputs on handle ${names}: say which with targetHandle`,
    );
  }
  if (
    graph.edges.some((e) => e.source === source.id && e.target === target.id && (e.targetHandle ?? null) === handle)
  ) {
    return graph;
  }
  const occupied = graph.edges.find((e) => e.target === target.id && (e.targetHandle ?? null) === handle);
  if (occupied && !nodeInputs[target.type].many) {
    const where = handle ? `its ${handle} input` : 'its input';
    throw new DataOpsError(
      'invalid_input',
      `node \`${target.id}\` (${target.type}) already takes ${where} from \`${occupied.source}\`; disconnect that first, or combine both in a union node`,
    );
  }
  const id = `${source.id}->${target.id}${handle ? `:${handle}` : ''}`;
  return { ...graph, edges: [...graph.edges, { id, source: source.id, target: target.id, targetHandle: handle }] };
}

export function disconnect(graph: PipelineGraph, input: { source: string; target: string }): PipelineGraph {
  const edges = graph.edges.filter((e) => !(e.source === input.source && e.target === input.target));
  if (edges.length === graph.edges.length) {
    throw new DataOpsError('invalid_input', `no edge runs from \`${input.source}\` to \`${input.target}\``);
  }
  return { ...graph, edges };
}
