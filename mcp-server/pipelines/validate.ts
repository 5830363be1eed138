import { ZodError } from 'zod';
import { isDataOpsError, zodProblems } from '../../core/errors.js';
import type { ServiceContext } from '../context.js';
import type { AnalyzedNode, PipelineAnalysis } from './analysis.js';
import { checkPipelineExpression, type PipelineColumn, unknownColumn } from './expressions.js';
import { checkDestinationDomains, checkRestrictDomains, nodeMarking } from './governance-nodes.js';
import type { PipelineGraph, PipelineNode } from './graph.js';
import { destinationTypes, nodeInputs, nodeModule, nodeTypes, sourceTypes } from './nodes/index.js';
import type { AnalyzeTools, PipelineIssue, Preloaded } from './nodes/node-module.js';
import { describeNode as describe } from './nodes/shared.js';
import { checkDestinations, placeQuarantines } from './validate-outputs.js';

/**
 * Checks a graph as a whole: a DAG whose edges join existing nodes on the right handles, at least one source
 * and one destination, every dataset visible to the caller and in one Postgres source database, each node's
 * config and expressions sound against the columns that reach it. Problems come back as issues naming the
 * node, never as a thrown error, so a canvas can mark every broken node at once.
 */
export async function analyzePipeline(ctx: ServiceContext, graph: PipelineGraph): Promise<PipelineAnalysis> {
  const issues: PipelineIssue[] = [];
  const byId = new Map<string, PipelineNode>();
  for (const node of graph.nodes) {
    if (byId.has(node.id)) issues.push({ nodeId: node.id, message: `two nodes have the id \`${node.id}\`` });
    byId.set(node.id, node);
  }
  const unfinished = new Set<PipelineIssue>();
  const order = structuralChecks(graph, byId, issues, unfinished);
  const analysis: PipelineAnalysis = { issues, nodes: new Map(), sourceId: null, unfinished };
  const loaded = await preload(ctx, graph, issues);
  const sourceIds = new Set(
    [...loaded.values()].map((l) => (l as Preloaded).sourceId).filter((id): id is string => id !== undefined),
  );
  if (sourceIds.size > 1) {
    issues.push({
      nodeId: null,
      message:
        'the datasets of this pipeline are in different source databases; a pipeline runs inside one database, so read them all from one source',
    });
  }
  analysis.sourceId = sourceIds.size === 1 ? [...sourceIds][0]! : null;
  if (!graph.nodes.some((n) => n.type === 'source_dataset' || n.type === 'source_sql')) {
    // Uploaded rows are computed inside a source database like everything else; one must be read to know which.
    for (const node of graph.nodes.filter((n) => n.type === 'source_upload')) {
      issues.push({
        nodeId: node.id,
        message: `${describe(node)}: a pipeline runs inside a source database and this one reads none yet; add a source_dataset or source_sql node (the upload is joined or combined with it there)`,
      });
    }
  }
  for (const id of order) {
    const node = byId.get(id)!;
    const module = nodeModule(node.type);
    const fail = (message: string) => issues.push({ nodeId: node.id, message: `${describe(node)}: ${message}` });
    let config: unknown;
    try {
      config = module.config.parse(node.data.config);
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      fail(`its config is not right: ${zodProblems(error, 'config')}`);
      continue;
    }
    const edges = graph.edges.filter((e) => e.target === id && byId.has(e.source));
    const handles = nodeInputs[node.type].handles;
    const inputs =
      handles[0] === null
        ? edges.map((e) => e.source)
        : handles.map((h) => edges.find((e) => e.targetHandle === h)?.source);
    if (inputs.some((i) => i === undefined) || inputs.length < handles.length) {
      fail(
        `it needs an input on ${handles.map((h) => (h === null ? 'its input' : `the ${h} handle`)).join(' and ')}; connect one`,
      );
      continue;
    }
    const fewest = Math.max(0, ...module.inputs.map((p) => p.min ?? 0));
    if (inputs.length < fewest) {
      fail(`a ${node.type} needs at least ${fewest === 2 ? 'two' : fewest} inputs; connect another`);
      continue;
    }
    // A node after a broken one is not judged: its problem is upstream, and the issue there says so.
    const upstream = (inputs as string[]).map((i) => analysis.nodes.get(i));
    if (upstream.some((u) => !u)) continue;
    const before = issues.length;
    const analyzed: AnalyzedNode = {
      node,
      type: node.type,
      config,
      inputs: inputs as string[],
      columns: [],
      expressions: new Map(),
    };
    const known = await module.analyze(analyzed, upstream as AnalyzedNode[], {
      ...columnTools(analyzed, upstream as AnalyzedNode[], fail),
      loaded: loaded.get(node.id),
    });
    if (known === false) continue;
    analyzed.marking = nodeMarking(analyzed, upstream as AnalyzedNode[], analyzed.marking);
    if (issues.length === before) analysis.nodes.set(id, analyzed);
  }
  checkDestinations(analysis, graph, issues);
  placeQuarantines(analysis, graph, issues);
  await checkRestrictDomains(ctx, analysis, issues);
  await checkDestinationDomains(ctx, analysis, issues);
  return analysis;
}

/** What each source type looks up for its nodes (in registry order), by node id; problems become issues. */
async function preload(ctx: ServiceContext, graph: PipelineGraph, issues: PipelineIssue[]) {
  const loaded = new Map<string, unknown>();
  for (const type of nodeTypes) {
    const module = nodeModule(type);
    const nodes = graph.nodes.filter((n) => n.type === type);
    if (!module.preload || nodes.length === 0) continue;
    const found = await module.preload(ctx, nodes, (node, message) =>
      issues.push({ nodeId: node.id, message: `${describe(node)}: ${message}` }),
    );
    for (const [id, value] of found) loaded.set(id, value);
  }
  return loaded;
}

/** The column look-ups and expression checks a node's analysis reports through. */
function columnTools(
  a: AnalyzedNode,
  upstream: AnalyzedNode[],
  fail: (message: string) => void,
): Omit<AnalyzeTools, 'loaded'> {
  const input = upstream[0]?.columns ?? [];
  const find = (column: string, from = input) => from.find((c) => c.name === column);
  return {
    input,
    fail,
    find,
    need(column, from = input): PipelineColumn | undefined {
      const found = find(column, from);
      if (!found)
        fail(
          unknownColumn(
            column,
            from.map((c) => c.name),
          ),
        );
      return found;
    },
    async expression(key, text, columns = input) {
      try {
        const checked = await checkPipelineExpression(text, columns);
        a.expressions.set(key, checked);
        return checked;
      } catch (error) {
        if (!isDataOpsError(error)) throw error;
        fail(error.message);
        return undefined;
      }
    },
  };
}

/** Edges, handles, cycles, sources and destinations; returns the nodes in dependency order (cycles left out). */
function structuralChecks(
  graph: PipelineGraph,
  byId: Map<string, PipelineNode>,
  issues: PipelineIssue[],
  unfinished: Set<PipelineIssue>,
): string[] {
  const taken = new Set<string>();
  const sound = graph.edges.filter((edge) => {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    const missing = !source ? edge.source : !target ? edge.target : null;
    if (missing) {
      issues.push({
        nodeId: source ? source.id : (target?.id ?? null),
        message: `edge \`${edge.id}\` joins node \`${missing}\`, which does not exist; remove the edge or add the node`,
      });
      return false;
    }
    const { handles, many } = nodeInputs[target!.type];
    if (handles.length === 0) {
      issues.push({
        nodeId: target!.id,
        message: `${describe(target!)}: a source takes no input; remove edge \`${edge.id}\``,
      });
      return false;
    }
    if (destinationTypes.has(source!.type)) {
      issues.push({
        nodeId: source!.id,
        message: `${describe(source!)}: a destination has no output; remove edge \`${edge.id}\``,
      });
      return false;
    }
    const handle = edge.targetHandle ?? null;
    if (!handles.includes(handle)) {
      const want = handles.map((h) => (h === null ? 'no handle' : `\`${h}\``)).join(' or ');
      issues.push({
        nodeId: target!.id,
        message: `${describe(target!)}: edge \`${edge.id}\` arrives on handle \`${handle}\`; this node takes ${want}`,
      });
      return false;
    }
    const slot = `${target!.id}\u0000${handle}`;
    if (taken.has(slot) && !many) {
      issues.push({
        nodeId: target!.id,
        message: `${describe(target!)}: more than one edge arrives on ${handle === null ? 'its input' : `the ${handle} handle`}; keep one (use a union node to combine inputs)`,
      });
      return false;
    }
    taken.add(slot);
    return true;
  });
  // Kahn's algorithm: what is left over sits on a cycle.
  const indegree = new Map([...byId.keys()].map((id) => [id, 0]));
  for (const e of sound) indegree.set(e.target, indegree.get(e.target)! + 1);
  const ready = [...byId.keys()].filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const e of sound.filter((s) => s.source === id)) {
      indegree.set(e.target, indegree.get(e.target)! - 1);
      if (indegree.get(e.target) === 0) ready.push(e.target);
    }
  }
  for (const id of byId.keys()) {
    if (!order.includes(id)) {
      issues.push({
        nodeId: id,
        message: `${describe(byId.get(id)!)} is on a cycle; a pipeline flows one way, so remove one of the cycle's edges`,
      });
    }
  }
  const nodes = [...byId.values()];
  if (!nodes.some((n) => sourceTypes.has(n.type))) {
    issues.push({ nodeId: null, message: 'the pipeline has no source; add a source_dataset node' });
  }
  if (!nodes.some((n) => destinationTypes.has(n.type))) {
    issues.push({ nodeId: null, message: 'the pipeline has no destination; add a destination_table node' });
  }
  for (const node of nodes) {
    if (!destinationTypes.has(node.type) && !sound.some((e) => e.source === node.id)) {
      const issue = { nodeId: node.id, message: `${describe(node)} leads nowhere; connect its output or remove it` };
      issues.push(issue);
      unfinished.add(issue);
    }
  }
  return order;
}

/** The columns each destination writes, for a version's output schema. */
export function outputSchema(analysis: PipelineAnalysis): Record<string, { name: string; type: string }[]> {
  const out: Record<string, { name: string; type: string }[]> = {};
  for (const [id, a] of analysis.nodes) {
    if (destinationTypes.has(a.type)) out[id] = a.columns.map((c) => ({ name: c.name, type: c.type }));
  }
  return out;
}
