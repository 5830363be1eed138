import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { classificationSchema, kindSchema, urnInput } from '../catalog/schemas.js';
import { describeWarning, policyWarningsOutput } from '../governance/policy-rules.js';
import { defineTool, destructive, idempotent, readOnly } from '../tool.js';
import { lineageCoverage, lineageDiff, lineageImpact, lineagePath } from './analysis.js';
import { addManualEdge, removeManualEdge } from './edit.js';
import { type LineageGraph, lineageGraphSchema } from './graph.js';
import { getLineage, maxDepth } from './queries.js';
import { directSubtypes } from './store.js';

const depthInput = (fallback: number) =>
  z.number().int().min(1).max(maxDepth).default(fallback).describe('Hops to follow');
const columnInput = z.string().min(1).max(200).optional().describe('A column of the asset, for column-level lineage');
const timeInput = z.string().max(40).describe('A time in ISO 8601, e.g. 2026-11-01 or 2026-11-01T09:00:00Z');

function parseTime(value: string, what: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new DataOpsError(
      'invalid_input',
      `${what} "${value}" is not a time: use ISO 8601, e.g. 2026-11-01T09:00:00Z`,
    );
  }
  return time;
}

/** What to ask for to see the rest: more depth when lineage goes on beyond it, less when the walk ran out of room. */
function truncationNote(g: LineageGraph): string {
  if (!g.truncated) return '';
  if (g.truncatedBy === 'depth') {
    return g.depth < maxDepth
      ? ` — more lineage lies beyond ${g.depth} ${g.depth === 1 ? 'hop' : 'hops'}; ask for more depth (up to ${maxDepth}) to see it`
      : ` — more lineage lies beyond ${maxDepth} hops, the most one request follows; ask again from an asset at the edge`;
  }
  return ' — cut short by the size limit; ask for less depth or one column';
}

function renderGraph(g: LineageGraph): string {
  const name = new Map(g.nodes.map((n) => [n.id, n.data.qualifiedName ?? n.data.label]));
  const lines = g.edges.map((e) => {
    const columns = e.data.columns
      .filter((c) => c.to)
      .slice(0, 6)
      .map(
        (c) =>
          `${c.from}→${c.to}${c.transformationSubtype && c.transformationSubtype !== 'IDENTITY' ? ` (${c.transformationSubtype.toLowerCase()})` : ''}`,
      );
    const how = e.data.kind === 'references' ? 'is referenced by' : 'feeds';
    return `- ${name.get(e.source)} ${how} ${name.get(e.target)} [${e.data.origin}]${columns.length ? `: ${columns.join(', ')}` : ''}`;
  });
  return [
    `Lineage of ${name.get(g.focus) ?? g.focus}${g.focusColumn ? `.${g.focusColumn}` : ''} (${g.direction}, ${g.nodes.length} assets, as of ${g.asOf})${truncationNote(g)}`,
    ...(lines.length ? lines : ['No lineage recorded.']),
  ].join('\n');
}

export const lineageGet = defineTool({
  name: 'lineage_get',
  title: 'Get the lineage graph of an asset',
  description:
    'Where does this data come from, and where does it go? The upstream and/or downstream graph of an asset or one column ' +
    '(which source columns feed it and how), now or at a past time (`asOf`).',
  input: z
    .object({
      urn: urnInput,
      direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
      depth: depthInput(3),
      column: columnInput,
      asOf: timeInput.optional(),
      includeReferences: z
        .boolean()
        .default(false)
        .describe('Also follow foreign keys (dashed edges): a referencing table depends on the table it references'),
    })
    .strict(),
  output: lineageGraphSchema,
  annotations: readOnly,
  handler: ({ asOf, ...request }, ctx) =>
    getLineage(ctx, { ...request, asOf: asOf === undefined ? undefined : parseTime(asOf, 'asOf') }),
  render: renderGraph,
});

const impactedSchema = z.object({
  urn: z.string(),
  name: z.string(),
  qualifiedName: z.string(),
  kind: kindSchema,
  classification: classificationSchema,
  owner: z.string().nullable(),
  distance: z.number(),
  dependency: z.enum(['derived', 'transitive', 'references', 'indirect']),
  via: z.string(),
  columns: z.array(z.string()),
});

export const lineageImpactTool = defineTool({
  name: 'lineage_impact',
  title: 'What breaks if this asset or column changes?',
  description:
    'What breaks if this asset or column changes: every downstream asset grouped by how it depends on it (directly, ' +
    'transitively, by foreign key, or through a join or filter), with the owners and consumers to notify.',
  input: z
    .object({
      urn: urnInput,
      column: columnInput,
      depth: depthInput(10),
      budgetMs: z.number().int().min(10).max(60_000).default(2_000).describe('Time budget in milliseconds'),
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    column: z.string().nullable(),
    partial: z.boolean(),
    total: z.number(),
    byDependency: z.object({
      derived: z.number(),
      transitive: z.number(),
      references: z.number(),
      indirect: z.number(),
    }),
    byKind: z.record(z.string(), z.number()),
    assets: z.array(impactedSchema),
    owners: z.array(z.object({ owner: z.string(), assets: z.number() })),
    consumers: z.array(z.object({ principal: z.string(), assets: z.number() })),
  }),
  annotations: readOnly,
  handler: (request, ctx) => lineageImpact(ctx, request),
  render: (r) =>
    [
      `${r.total} assets depend on ${r.urn}${r.column ? ` column ${r.column}` : ''}${r.partial ? ' (partial: the time budget ran out)' : ''}`,
      ...r.assets
        .slice(0, 50)
        .map(
          (a) =>
            `- ${a.qualifiedName} (${a.kind}, ${a.dependency}, ${a.distance} hop${a.distance === 1 ? '' : 's'}, owner ${a.owner ?? 'unknown'})${a.columns.length ? `: ${a.columns.join(', ')}` : ''}`,
        ),
      r.owners.length
        ? `Owners to notify: ${r.owners.map((o) => `${o.owner} (${o.assets})`).join(', ')}`
        : 'No owners recorded.',
    ].join('\n'),
});

export const lineagePathTool = defineTool({
  name: 'lineage_path',
  title: 'How are two assets connected?',
  description:
    'The lineage paths between two assets, in whichever direction connects them, with the graph of every asset on a path. ' +
    'Empty when they are not connected within `depth` hops.',
  input: z
    .object({
      from: urnInput,
      to: urnInput,
      depth: depthInput(10),
      maxPaths: z.number().int().min(1).max(100).default(20),
    })
    .strict(),
  output: z.object({
    from: z.string(),
    to: z.string(),
    paths: z.array(z.array(z.string())),
    morePaths: z.boolean(),
    graph: lineageGraphSchema,
  }),
  annotations: readOnly,
  handler: (request, ctx) => lineagePath(ctx, request),
  render: (r) =>
    r.paths.length === 0
      ? `${r.from} and ${r.to} are not connected by lineage.`
      : [
          `${r.paths.length}${r.morePaths ? '+' : ''} paths from ${r.from} to ${r.to}:`,
          ...r.paths.map((p) => `- ${p.join(' → ')}`),
        ].join('\n'),
});

const diffEdgeSchema = z.object({
  source: z.string(),
  target: z.string(),
  kind: z.string(),
  origin: z.string(),
  columns: z.array(
    z.object({ from: z.string(), to: z.string().nullable(), transformationSubtype: z.string().nullable() }),
  ),
});

export const lineageDiffTool = defineTool({
  name: 'lineage_diff',
  title: "What changed in an asset's lineage?",
  description:
    "Compares an asset's lineage at two times: assets and edges added or removed, and edges whose column mappings changed. " +
    'Use it to answer "what changed upstream since last week?".',
  input: z
    .object({
      urn: urnInput,
      from: timeInput.describe('The earlier time (ISO 8601)'),
      to: timeInput.optional().describe('The later time (ISO 8601); now if left out'),
      direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
      depth: depthInput(3),
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    from: z.string(),
    to: z.string(),
    addedAssets: z.array(z.string()),
    removedAssets: z.array(z.string()),
    addedEdges: z.array(diffEdgeSchema),
    removedEdges: z.array(diffEdgeSchema),
    changedEdges: z.array(z.object({ before: diffEdgeSchema, after: diffEdgeSchema })),
  }),
  annotations: readOnly,
  handler: ({ from, to, ...request }, ctx) =>
    lineageDiff(ctx, {
      ...request,
      from: parseTime(from, 'from'),
      to: to === undefined ? undefined : parseTime(to, 'to'),
    }),
  render: (r) => {
    const edge = (e: z.infer<typeof diffEdgeSchema>) => `${e.source} → ${e.target} [${e.origin}]`;
    const lines = [
      ...r.addedEdges.map((e) => `+ ${edge(e)}`),
      ...r.removedEdges.map((e) => `- ${edge(e)}`),
      ...r.changedEdges.map((c) => `~ ${edge(c.after)} (columns changed)`),
    ];
    return `Lineage of ${r.urn} from ${r.from} to ${r.to}: ${lines.length ? `\n${lines.join('\n')}` : 'no change'}`;
  },
});

const edgeResult = z.object({
  from: z.string(),
  to: z.string(),
  changed: z.boolean(),
  policyWarnings: policyWarningsOutput,
});

export const lineageAddEdge = defineTool({
  name: 'lineage_add_edge',
  title: 'Add lineage by hand',
  description:
    'State that one asset is derived from another when no parser or producer reports it (an export job, a spreadsheet), ' +
    'optionally with column mappings. Needs the steward or owner role; audited. Adding the same edge again changes nothing. ' +
    'A blocking policy on lineage edits refuses it; warning policies left unmet are listed in policyWarnings.',
  input: z
    .object({
      from: urnInput.describe('URN of the upstream asset'),
      to: urnInput.describe('URN of the asset derived from it'),
      columns: z
        .array(
          z
            .object({
              from: z.string().min(1).max(200),
              to: z.string().min(1).max(200),
              transformationSubtype: z.enum(directSubtypes).optional(),
            })
            .strict(),
        )
        .max(500)
        .optional(),
      note: z.string().max(2_000).optional().describe('Why the edge exists, for the next reader'),
    })
    .strict(),
  output: edgeResult,
  annotations: idempotent,
  handler: (request, ctx) => addManualEdge(ctx, request),
  render: (r) =>
    [
      r.changed ? `Added lineage ${r.from} → ${r.to}.` : `Lineage ${r.from} → ${r.to} was already recorded.`,
      ...r.policyWarnings.map(describeWarning),
    ].join('\n'),
});

export const lineageRemoveEdge = defineTool({
  name: 'lineage_remove_edge',
  title: 'Remove lineage added by hand',
  description:
    'Remove a lineage edge a steward added by hand (lineage as of earlier times keeps it). Edges learned from view definitions, ' +
    'OpenLineage or dbt change when their source changes. Needs the steward or owner role; audited.',
  input: z.object({ from: urnInput, to: urnInput }).strict(),
  output: edgeResult,
  annotations: destructive,
  handler: (request, ctx) => removeManualEdge(ctx, request),
  render: (r) => [`Removed lineage ${r.from} → ${r.to}.`, ...r.policyWarnings.map(describeWarning)].join('\n'),
});

export const lineageCoverageTool = defineTool({
  name: 'lineage_coverage',
  title: 'How complete is the lineage?',
  description:
    'Lineage coverage of the catalog: of the assets something feeds (views, job outputs, models), how many have a known ' +
    'source for every column, and which are least covered. Use it to see where lineage is missing.',
  input: z.object({ limit: z.number().int().min(0).max(200).default(20) }).strict(),
  output: z.object({
    derivedAssets: z.number(),
    complete: z.number(),
    share: z.number().nullable(),
    incomplete: z.array(
      z.object({ urn: z.string(), qualifiedName: z.string(), columns: z.number(), mapped: z.number() }),
    ),
  }),
  annotations: readOnly,
  handler: ({ limit }, ctx) => lineageCoverage(ctx, limit),
  render: (r) =>
    [
      r.share === null
        ? 'No derived assets yet.'
        : `${r.complete} of ${r.derivedAssets} derived assets have complete column lineage (${Math.round(r.share * 100)}%).`,
      ...r.incomplete.map((a) => `- ${a.qualifiedName}: ${a.mapped}/${a.columns} columns traced`),
    ].join('\n'),
});

export const lineageTools = [
  lineageGet,
  lineageImpactTool,
  lineagePathTool,
  lineageDiffTool,
  lineageAddEdge,
  lineageRemoveEdge,
  lineageCoverageTool,
];
