import { z } from 'zod';
import { aggregate } from './aggregate.js';
import { classify } from './classify.js';
import { cleanse } from './cleanse.js';
import { deduplicate } from './deduplicate.js';
import { derive } from './derive.js';
import { destinationFile } from './destination-file.js';
import { destinationTable } from './destination-table.js';
import { enrich } from './enrich.js';
import { filter } from './filter.js';
import { join } from './join.js';
import { mask } from './mask.js';
import type { InputPort, NodeCategory, NodeModule } from './node-module.js';
import { pivot } from './pivot.js';
import { profile } from './profile.js';
import { restrict } from './restrict.js';
import { select } from './select.js';
import { sort } from './sort.js';
import { sourceDataset } from './source-dataset.js';
import { sourceSql } from './source-sql.js';
import { sourceUpload } from './source-upload.js';
import { union } from './union.js';
import { validate } from './validate.js';

/**
 * Every pipeline node type, by type name: the one place a type is defined. The graph schema, validation, the
 * compiler, column tracing, the docs and a canvas's palette all read it from here.
 */
export const nodeRegistry = {
  source_dataset: sourceDataset,
  filter,
  select,
  derive,
  join,
  union,
  aggregate,
  sort,
  deduplicate,
  validate,
  mask,
  classify,
  restrict,
  cleanse,
  enrich,
  pivot,
  profile,
  source_upload: sourceUpload,
  source_sql: sourceSql,
  destination_table: destinationTable,
  destination_file: destinationFile,
} as const;

export type NodeType = keyof typeof nodeRegistry;
export const nodeTypes = Object.keys(nodeRegistry) as NodeType[];
/** A node type's config as its schema outputs it (defaults filled in). */
export type NodeConfig<T extends NodeType> = z.output<(typeof nodeRegistry)[T]['config']>;
export type { CleanseOperation } from './cleanse.js';
export type { ValidateRule } from './validate-rules.js';

/** The module of a node type; for code that handles every type alike. */
export function nodeModule(type: NodeType): NodeModule {
  return nodeRegistry[type] as unknown as NodeModule;
}

/** The node's config parsed by its type's schema (defaults filled in); throws a ZodError when it does not fit. */
export function parseNodeConfig<T extends NodeType>(type: T, config: unknown): NodeConfig<T> {
  return nodeModule(type).config.parse(config) as NodeConfig<T>;
}

/** Target handles a node type accepts, and whether a handle takes more than one edge. */
export const nodeInputs = Object.fromEntries(
  nodeTypes.map((type) => {
    const ports = nodeRegistry[type].inputs as readonly InputPort[];
    return [type, { handles: ports.map((p) => p.handle), many: ports.some((p) => p.arity === 'many') }];
  }),
) as Record<NodeType, { handles: (string | null)[]; many: boolean }>;

const ofCategory = (category: NodeCategory) =>
  new Set(nodeTypes.filter((type) => nodeRegistry[type].category === category));

/** Node types that read data from outside the graph, and those that write it out (nothing flows on from them). */
export const sourceTypes: ReadonlySet<NodeType> = ofCategory('source');
export const destinationTypes: ReadonlySet<NodeType> = ofCategory('destination');

/** One palette entry: what a canvas needs to offer a node type and build its config form, as plain JSON. */
export interface PaletteEntry {
  type: NodeType;
  label: string;
  category: NodeCategory;
  help: string;
  summary: string;
  inputs: InputPort[];
  /** Whether other nodes may read its output (false for destinations). */
  output: boolean;
  fields: Record<string, string>;
  example: Record<string, unknown>;
  /** The config's JSON Schema (draft-07, as MCP tool schemas), as a form builder reads it: what may be typed in. */
  configSchema: Record<string, unknown>;
}

/** The node types as a serialisable palette, in registry order. */
export function nodePalette(): PaletteEntry[] {
  return nodeTypes.map((type) => {
    const m = nodeModule(type);
    return {
      type,
      label: m.label,
      category: m.category,
      help: m.help,
      summary: m.docs.summary,
      inputs: m.inputs.map((p) => ({ ...p })),
      output: m.category !== 'destination',
      fields: m.docs.fields,
      example: m.docs.example,
      configSchema: z.toJSONSchema(m.config, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<
        string,
        unknown
      >,
    };
  });
}
