import { z } from 'zod';
import { classificationLevels } from '../../db/schema/types.js';

/**
 * A pipeline graph in the shape @xyflow/react edits as is: nodes `{id, type, position, data: {label, config}}`
 * and edges `{id, source, target, sourceHandle?, targetHandle?}`. Each node type has a zod schema for its
 * config, so a canvas, the MCP tools and the compiler agree on one shape.
 */

/** Postgres keeps at most 63 bytes of a name (NAMEDATALEN - 1) and cuts a longer one silently, even mid-character. */
export const maxIdentifierBytes = 63;

const utf8 = new TextEncoder();
const byteLength = (text: string) => utf8.encode(text).length;

/**
 * A table, schema or column name: limited in bytes, not characters, so `月次売上集計表` (7 characters, 21 bytes)
 * counts as 21 and a name Postgres would cut is refused here instead.
 */
const identifier = () =>
  z
    .string()
    .min(1)
    .refine((text) => byteLength(text) <= maxIdentifierBytes, {
      message: `is longer than ${maxIdentifierBytes} bytes (UTF-8), the most Postgres keeps of a name; shorten it`,
    });

/**
 * `base` followed by `suffix`, with `base` cut (on a character boundary) so the whole stays within
 * Postgres's 63 bytes: a derived name (a dev table, a quarantine table) is never truncated by the database into
 * another table's name.
 */
export function suffixedIdentifier(base: string, suffix: string): string {
  const room = maxIdentifierBytes - byteLength(suffix);
  let cut = '';
  let used = 0;
  for (const character of base) {
    const size = byteLength(character);
    if (used + size > room) break;
    cut += character;
    used += size;
  }
  return cut + suffix;
}

/** `name` cut on a character boundary to the 63 bytes Postgres keeps. */
export function cutIdentifier(name: string): string {
  return suffixedIdentifier(name, '');
}

/** The name of a table in dev: beside the prod one, suffixed `_dev` (see suffixedIdentifier). */
export function devTableName(table: string): string {
  return suffixedIdentifier(table, '_dev');
}

const name = identifier().describe('A column name');
const expression = z.string().min(1).max(2000).describe('A Postgres expression over the columns that reach the node');

const sortKey = z.object({
  column: name,
  direction: z.enum(['asc', 'desc']).default('asc'),
});

const ruleSchema = z.discriminatedUnion('check', [
  z.object({ check: z.literal('not_null'), column: name }),
  z.object({ check: z.literal('unique'), column: name }),
  z.object({
    check: z.literal('accepted_values'),
    column: name,
    values: z.array(z.union([z.string(), z.number()])).min(1),
  }),
  z.object({ check: z.literal('range'), column: name, min: z.number().optional(), max: z.number().optional() }),
  z.object({ check: z.literal('expression'), expression, name: z.string().max(100).optional() }),
]);
export type ValidateRule = z.infer<typeof ruleSchema>;

/** The types a cleanse node may cast to: plain Postgres types, so a cast never names anything the user made up. */
export const castTargets = [
  'text',
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'boolean',
  'date',
  'timestamp without time zone',
  'timestamp with time zone',
  'time without time zone',
  'uuid',
] as const;

const literal = z.union([z.string().max(1000), z.number(), z.boolean()]);

const cleanseOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('trim') }).strict(),
  z.object({ op: z.literal('lower') }).strict(),
  z.object({ op: z.literal('upper') }).strict(),
  z.object({ op: z.literal('empty_to_null') }).strict(),
  z.object({ op: z.literal('collapse_whitespace') }).strict(),
  z.object({ op: z.literal('replace'), from: z.string().min(1).max(1000), to: z.string().max(1000) }).strict(),
  z.object({ op: z.literal('cast'), to: z.enum(castTargets) }).strict(),
  z.object({ op: z.literal('fill_null'), value: literal }).strict(),
]);
export type CleanseOperation = z.infer<typeof cleanseOperation>;

const measureFn = z.enum(['count', 'count_distinct', 'sum', 'avg', 'min', 'max']);

/** Every node type with its config schema; `inputs` names the target handles it takes. */
export const nodeConfigs = {
  source_dataset: z
    .object({ urn: z.string().min(1).max(2000).describe('The URN of a catalog table or view') })
    .strict(),
  filter: z.object({ condition: expression }).strict(),
  select: z
    .object({
      columns: z.array(z.object({ column: name, as: name.optional() }).strict()).min(1),
    })
    .strict(),
  derive: z.object({ columns: z.array(z.object({ name, expression }).strict()).min(1) }).strict(),
  join: z
    .object({
      kind: z.enum(['inner', 'left', 'full']).default('inner'),
      on: z.array(z.object({ left: name, right: name }).strict()).min(1),
    })
    .strict(),
  union: z.object({ distinct: z.boolean().default(false) }).strict(),
  aggregate: z
    .object({
      groupBy: z.array(name).default([]),
      measures: z
        .array(
          z
            .object({
              name,
              fn: measureFn,
              column: name.optional().describe('The column measured; omit for count(*)'),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
  sort: z
    .object({ by: z.array(sortKey).default([]), limit: z.number().int().min(1).max(10_000_000).optional() })
    .strict(),
  deduplicate: z
    .object({
      columns: z.array(name).default([]).describe('The key; empty means whole rows'),
      keep: z.array(sortKey).default([]).describe('Which row of each key to keep: the first in this order'),
    })
    .strict(),
  validate: z
    .object({
      rules: z.array(ruleSchema).min(1),
      onFail: z.enum(['stop', 'quarantine']).default('stop'),
      quarantineTable: z
        .object({ schema: identifier(), table: identifier() })
        .strict()
        .optional()
        .describe(
          'Where quarantined rows are kept, with the rules each broke and its run; by default beside the first destination table the node feeds, named <table>_quarantine',
        ),
    })
    .strict(),
  mask: z
    .object({
      columns: z.array(name).default([]).describe('Columns to mask; empty means every column the catalog marks as PII'),
      method: z.enum(['redact', 'hash', 'last4']).default('redact'),
    })
    .strict(),
  classify: z
    .object({
      columns: z
        .array(z.object({ column: name, classification: z.enum(classificationLevels) }).strict())
        .default([])
        .describe('Markings for output columns; a marking may rise here, never fall below what reaches the node'),
      asset: z.enum(classificationLevels).optional().describe('The least marking of the published output'),
    })
    .strict(),
  restrict: z
    .object({
      domain: z
        .string()
        .min(1)
        .max(100)
        .optional()
        .describe('A restricted domain: only its members may see the published output'),
      clearance: z.enum(classificationLevels).optional().describe('The clearance needed to see the published output'),
    })
    .strict(),
  cleanse: z
    .object({
      columns: z
        .array(
          z
            .object({
              column: name,
              operations: z.array(cleanseOperation).min(1).describe('Applied in order, each to the result of the last'),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
  enrich: z
    .object({
      on: z
        .array(z.object({ left: name, right: name }).strict())
        .min(1)
        .describe('input column = lookup column'),
      columns: z
        .array(z.object({ column: name, as: name.optional() }).strict())
        .min(1)
        .describe('Lookup columns added to each input row'),
    })
    .strict(),
  pivot: z
    .object({
      rowKeys: z.array(name).default([]).describe('The columns that identify an output row'),
      column: name.describe('The column whose values become output columns'),
      values: z.array(literal).min(1).max(200).describe('The values of `column` that become columns, in order'),
      measure: z
        .object({ fn: measureFn, column: name.optional().describe('The column measured; omit for count(*)') })
        .strict(),
    })
    .strict(),
  profile: z.object({ columns: z.array(name).default([]).describe('The columns profiled; empty means all') }).strict(),
  source_upload: z.object({ upload: z.string().uuid().describe('The upload id pipelines_upload returned') }).strict(),
  source_sql: z
    .object({
      source: z.string().min(1).max(200).describe('The name of the catalog source (database) the query runs on'),
      query: z.string().min(1).max(20_000).describe('One read-only SELECT over tables of that source'),
    })
    .strict(),
  destination_table: z
    .object({
      schema: identifier().default('public'),
      table: identifier(),
      mode: z.enum(['create', 'replace', 'append', 'upsert']).default('replace'),
      key: z.array(name).default([]).describe('Upsert key'),
    })
    .strict(),
  destination_file: z
    .object({
      format: z.enum(['csv', 'json', 'parquet']),
      path: z
        .string()
        .min(1)
        .max(500)
        .describe("Where the file goes, relative to the workspace's exports directory, e.g. `spend/monthly.csv`"),
    })
    .strict(),
} as const;

export type NodeType = keyof typeof nodeConfigs;
export const nodeTypes = Object.keys(nodeConfigs) as NodeType[];
export type NodeConfig<T extends NodeType> = z.infer<(typeof nodeConfigs)[T]>;

/** Target handles a node type accepts, and how many edges each takes. */
export const nodeInputs: Record<NodeType, { handles: (string | null)[]; many: boolean }> = {
  source_dataset: { handles: [], many: false },
  filter: { handles: [null], many: false },
  select: { handles: [null], many: false },
  derive: { handles: [null], many: false },
  join: { handles: ['left', 'right'], many: false },
  union: { handles: [null], many: true },
  aggregate: { handles: [null], many: false },
  sort: { handles: [null], many: false },
  deduplicate: { handles: [null], many: false },
  validate: { handles: [null], many: false },
  mask: { handles: [null], many: false },
  classify: { handles: [null], many: false },
  restrict: { handles: [null], many: false },
  cleanse: { handles: [null], many: false },
  enrich: { handles: ['input', 'lookup'], many: false },
  pivot: { handles: [null], many: false },
  profile: { handles: [null], many: false },
  source_sql: { handles: [], many: false },
  source_upload: { handles: [], many: false },
  destination_table: { handles: [null], many: false },
  destination_file: { handles: [null], many: false },
};

/** Node types that read data from outside the graph, and those that write it out (nothing flows on from them). */
export const sourceTypes: ReadonlySet<NodeType> = new Set(['source_dataset', 'source_sql', 'source_upload']);
export const destinationTypes: ReadonlySet<NodeType> = new Set(['destination_table', 'destination_file']);

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

/** The node's config parsed by its type's schema (defaults filled in); throws a ZodError when it does not fit. */
export function parseNodeConfig<T extends NodeType>(type: T, config: unknown): NodeConfig<T> {
  return nodeConfigs[type].parse(config) as NodeConfig<T>;
}

/** The edges into a node, by target handle. */
export function inputsOf(graph: PipelineGraph, nodeId: string): PipelineEdge[] {
  return graph.edges.filter((e) => e.target === nodeId);
}
