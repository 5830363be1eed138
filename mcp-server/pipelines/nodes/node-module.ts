import type { z } from 'zod';
import type { Classification } from '../../../db/schema/types.js';
import type { ServiceContext } from '../../context.js';
import type { CheckedExpression } from '../../quality/rules-expression.js';
import type { SourceQuery } from '../../sql/read-query.js';
import type { CompileOptions, SqlDialect } from '../dialect.js';
import type { PipelineColumn } from '../expressions.js';
import type { LoadedUpload } from '../uploads/upload-access.js';

/**
 * What one pipeline node type is: its config schema, how it is checked against the columns reaching it, the
 * SQL step it compiles to, where each of its output columns comes from, its documentation and its place on a
 * canvas palette. `nodes/index.ts` gathers one of these per type; everything else dispatches through it.
 */

export interface PipelineIssue {
  /** The node the problem is at (a canvas points at it); null for the graph as a whole. */
  nodeId: string | null;
  message: string;
}

/**
 * A node of the graph as a node module sees it: the type a plain string, so the registry's types (`NodeType`)
 * can be inferred from the modules without going round in a circle.
 */
export interface GraphNode {
  id: string;
  type: string;
  position: { x: number; y: number };
  data: { label: string; config: Record<string, unknown> };
}

/** A node as validation understood it: parsed config, inputs in handle order, output columns, checked expressions. */
// biome-ignore lint/suspicious/noExplicitAny: one of the node types' configs, narrowed by `type` where it is used
export interface NodeInAnalysis<Config = any> {
  node: GraphNode;
  type: string;
  config: Config;
  inputs: string[];
  columns: PipelineColumn[];
  expressions: Map<string, CheckedExpression>;
  /** For a catalog dataset: where it lives in the source database. */
  table?: { schema: string; name: string };
  /** For a join: how many of its output columns come from the left input (they come first). */
  leftWidth?: number;
  /** For a source query: the checked SELECT and the relations it reads. */
  query?: SourceQuery;
  /** For an uploaded file: its rows, sent along in the SQL. */
  upload?: LoadedUpload;
  /** The least marking its output carries: the datasets' it reads, raised by classify and restrict nodes. */
  marking?: Classification;
  /** For a validate node that quarantines: the table its failing rows are appended to (in prod). */
  quarantine?: { schema: string; table: string };
}

/** How the rows between an earlier node and the destination may differ from that node's rows. */
export interface CarryState {
  /** A join on the way may repeat rows, so a value unique there need not be unique here. */
  repeated: boolean;
  /** An outer join on the way may put nulls where that node had none. */
  nullable: boolean;
}

export interface ColumnMaker {
  /** `source` (read from a dataset and carried), `derived`, `aggregate`, `masked`, or `computed` (another node type). */
  origin: 'source' | 'derived' | 'aggregate' | 'masked' | 'computed';
  node: string | null;
  expression: string | null;
}

export type NodeCategory = 'source' | 'transform' | 'quality' | 'governance' | 'destination';

/** A target handle of a node: `handle` null is the unnamed input most nodes have. */
export interface InputPort {
  handle: string | null;
  label: string;
  /** `one`: exactly one edge; `many`: at least `min` edges (a union's inputs). */
  arity: 'one' | 'many';
  min?: number;
}

/** What node-local checks are handed: the columns reaching the node and ways to report against them. */
export interface AnalyzeTools {
  /** Columns of the first (or only) input; empty for a source. */
  input: PipelineColumn[];
  fail(message: string): void;
  find(column: string, from?: PipelineColumn[]): PipelineColumn | undefined;
  /** `find`, reporting an unknown column (with the ones there are) when it is missing. */
  need(column: string, from?: PipelineColumn[]): PipelineColumn | undefined;
  /** Parses and checks an expression over `columns` (the input's by default), kept under `key` for compiling. */
  expression(key: string, text: string, columns?: PipelineColumn[]): Promise<CheckedExpression | undefined>;
  /** What the type's `preload` found for this node, if it has one. */
  loaded: unknown;
}

/** What a node's SQL step is written with. */
export interface CompileTools {
  d: SqlDialect;
  /** How the SQL names the output of an input node. */
  ref(nodeId: string): string;
  /** `ref` of the first input ('' for a source). */
  input: string;
  /** The node's output columns, quoted. */
  all: string;
  /** A checked expression of the node, rendered. */
  expr(key: string): string;
  options: CompileOptions;
}

/** How a column's trace continues into an input. */
export interface TraceTools {
  next(input: string, column: string, change?: Partial<CarryState>): ColumnMaker;
  /** The column is made here in a way no expression names. */
  computed: ColumnMaker;
}

export interface NodeDocs {
  /** What the node does, in a sentence or two. */
  summary: string;
  /** Each config field, explained. */
  fields: Record<string, string>;
  /** A config that works, as a person would write it. */
  example: Record<string, unknown>;
}

/** Values a source type looks up for its nodes before the graph is checked: where they read from, and what. */
export interface Preloaded {
  sourceId?: string;
}

export interface NodeModule<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  type: Type;
  config: Schema;
  label: string;
  category: NodeCategory;
  inputs: InputPort[];
  help: string;
  docs: NodeDocs;
  /**
   * Looks up, for all nodes of this type at once, what they read (a dataset, a query's columns, an upload);
   * a problem is reported on the node and leaves it out of the result.
   */
  preload?(
    ctx: ServiceContext,
    nodes: GraphNode[],
    fail: (node: GraphNode, message: string) => void,
  ): Promise<Map<string, unknown>>;
  /**
   * Works out the node's output columns (`a.columns`) and checks its config against its inputs, reporting
   * problems through `tools.fail`. Returns false when the output cannot be known and no issue here says why.
   */
  analyze(
    a: NodeInAnalysis<z.output<Schema>>,
    upstream: NodeInAnalysis[],
    tools: AnalyzeTools,
  ): undefined | boolean | Promise<undefined | boolean>;
  /** The least marking the node gives what flows out of it (a governance node raising it), if any. */
  raisesMarking?(config: z.output<Schema>): Classification | undefined;
  /** The select giving the node's output over its inputs. */
  compile(node: NodeInAnalysis<z.output<Schema>>, tools: CompileTools): string;
  /** Where output `column` comes from: made here, or carried from an input (continue with `tools.next`). */
  trace(node: NodeInAnalysis<z.output<Schema>>, column: string, tools: TraceTools): ColumnMaker;
}

/** A node module, its type and schema kept literal so the registry's types are inferred from it. */
export function defineNode<const Type extends string, Schema extends z.ZodType>(
  module: NodeModule<Type, Schema>,
): NodeModule<Type, Schema> {
  return module;
}
