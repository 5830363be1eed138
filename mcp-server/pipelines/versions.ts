import type { PipelineEdge, PipelineGraph, PipelineNode } from './graph.js';

export type OutputSchema = Record<string, { name: string; type: string }[]>;

/**
 * The next semantic version: a column removed or retyped in an output (or an output removed) breaks readers,
 * so the major goes up; an added column or output is the minor; any other change is a patch.
 */
export function nextSemver(previous: string, before: OutputSchema, after: OutputSchema): string {
  const [major, minor, patch] = previous.split('.').map(Number) as [number, number, number];
  const change = schemaChange(before, after);
  if (change === 'breaking') return `${major + 1}.0.0`;
  if (change === 'additive') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

function schemaChange(before: OutputSchema, after: OutputSchema): 'breaking' | 'additive' | 'none' {
  const diff = diffSchemas(before, after);
  if (diff.some((d) => d.change === 'removed' || d.change === 'retyped')) return 'breaking';
  return diff.length ? 'additive' : 'none';
}

export interface SchemaChange {
  output: string;
  column: string | null;
  change: 'added' | 'removed' | 'retyped';
  from?: string;
  to?: string;
}

export function diffSchemas(before: OutputSchema, after: OutputSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (const [output, columns] of Object.entries(before)) {
    const now = after[output];
    if (!now) {
      changes.push({ output, column: null, change: 'removed' });
      continue;
    }
    for (const c of columns) {
      const match = now.find((n) => n.name === c.name);
      if (!match) changes.push({ output, column: c.name, change: 'removed' });
      else if (match.type !== c.type)
        changes.push({ output, column: c.name, change: 'retyped', from: c.type, to: match.type });
    }
    for (const c of now) {
      if (!columns.some((o) => o.name === c.name))
        changes.push({ output, column: c.name, change: 'added', to: c.type });
    }
  }
  for (const output of Object.keys(after)) {
    if (!before[output]) changes.push({ output, column: null, change: 'added' });
  }
  return changes;
}

export interface GraphDiff {
  nodesAdded: string[];
  nodesRemoved: string[];
  nodesChanged: { id: string; fields: string[] }[];
  edgesAdded: string[];
  edgesRemoved: string[];
}

/** Nodes and edges added, removed or changed (config keys, label, type; positions are layout, not change). */
export function diffGraphs(before: PipelineGraph, after: PipelineGraph): GraphDiff {
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  const edgeKey = (e: PipelineEdge) => `${e.source}→${e.target}${e.targetHandle ? `:${e.targetHandle}` : ''}`;
  const oldEdges = new Set(before.edges.map(edgeKey));
  const newEdges = new Set(after.edges.map(edgeKey));
  return {
    nodesAdded: [...now.keys()].filter((id) => !old.has(id)),
    nodesRemoved: [...old.keys()].filter((id) => !now.has(id)),
    nodesChanged: [...now.values()]
      .filter((n) => old.has(n.id))
      .map((n) => ({ id: n.id, fields: changedFields(old.get(n.id)!, n) }))
      .filter((c) => c.fields.length > 0),
    edgesAdded: [...newEdges].filter((e) => !oldEdges.has(e)),
    edgesRemoved: [...oldEdges].filter((e) => !newEdges.has(e)),
  };
}

function changedFields(a: PipelineNode, b: PipelineNode): string[] {
  const fields: string[] = [];
  if (a.type !== b.type) fields.push('type');
  if (a.data.label !== b.data.label) fields.push('label');
  const keys = new Set([...Object.keys(a.data.config), ...Object.keys(b.data.config)]);
  for (const key of keys) {
    if (JSON.stringify(a.data.config[key]) !== JSON.stringify(b.data.config[key])) fields.push(`config.${key}`);
  }
  return fields;
}
