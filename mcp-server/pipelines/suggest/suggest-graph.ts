import type { PipelineEdge, PipelineGraph, PipelineNode } from '../graph.js';
import type { NodeConfig, NodeType } from '../nodes/index.js';

const reserved = new Set(
  `all and any as asc case cast check column constraint create default desc distinct do else end false for foreign from
  grant group having in into is join limit not null offset on or order primary references select table then to true
  union unique user using when where window with`.split(/\s+/),
);

/** A column name as an expression names it: bare when Postgres reads it back the same, else double-quoted. */
export function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !reserved.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** A string constant for an expression, its quotes doubled. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Builds a graph node by node with ids that read well on a canvas, then lays it out left to right: a node's
 * column is its distance from the furthest source feeding it, its row the order it was added in that column.
 */
export class GraphBuilder {
  private readonly nodes: PipelineNode[] = [];
  private readonly edges: PipelineEdge[] = [];

  add<T extends NodeType>(
    type: T,
    id: string,
    label: string,
    config: NodeConfig<T>,
    inputs: { from: string; handle?: 'left' | 'right' }[] = [],
  ): string {
    const unique = this.uniqueId(id);
    this.nodes.push({ id: unique, type, position: { x: 0, y: 0 }, data: { label, config: config as never } });
    for (const input of inputs) {
      this.edges.push({
        id: `${input.from}-${unique}${input.handle ? `-${input.handle}` : ''}`,
        source: input.from,
        target: unique,
        ...(input.handle ? { targetHandle: input.handle } : {}),
      });
    }
    return unique;
  }

  private uniqueId(wanted: string): string {
    const base = (/^[A-Za-z]/.test(wanted) ? wanted : `n_${wanted}`).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56);
    let id = base;
    for (let i = 2; this.nodes.some((n) => n.id === id); i++) id = `${base}_${i}`;
    return id;
  }

  graph(): PipelineGraph {
    const depth = new Map<string, number>();
    const depthOf = (id: string): number => {
      const known = depth.get(id);
      if (known !== undefined) return known;
      const inputs = this.edges.filter((e) => e.target === id).map((e) => depthOf(e.source));
      const d = inputs.length ? Math.max(...inputs) + 1 : 0;
      depth.set(id, d);
      return d;
    };
    const rows = new Map<number, number>();
    const nodes = this.nodes.map((node) => {
      const column = depthOf(node.id);
      const row = rows.get(column) ?? 0;
      rows.set(column, row + 1);
      return { ...node, position: { x: column * 260, y: row * 140 } };
    });
    return { nodes, edges: [...this.edges] };
  }
}
