import type { PipelineNode } from './graph.js';
import type { NodeInAnalysis, PipelineIssue } from './nodes/node-module.js';

/**
 * What validation makes of a whole graph. Kept apart from `nodes/node-module.ts`, which the node modules
 * import: a node typed by the registry (`PipelineNode`) cannot be named below the registry without a loop.
 */

/** A node of an analysed pipeline, its type one of the registry's. */
// biome-ignore lint/suspicious/noExplicitAny: as NodeInAnalysis
export interface AnalyzedNode<Config = any> extends NodeInAnalysis<Config> {
  node: PipelineNode;
  type: PipelineNode['type'];
}

export interface PipelineAnalysis {
  issues: PipelineIssue[];
  /** Nodes whose output could be worked out (their upstream is sound), in dependency order. */
  nodes: Map<string, AnalyzedNode>;
  /** The one source database every dataset of the pipeline is in, once known. */
  sourceId: string | null;
  /** Issues of a graph still being built (nothing downstream yet): they stop a run, not a preview. */
  unfinished: Set<PipelineIssue>;
}
