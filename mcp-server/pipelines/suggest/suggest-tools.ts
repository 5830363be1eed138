import { z } from 'zod';
import { additive, defineTool } from '../../tool.js';
import { pipelineEdgeSchema, pipelineNodeSchema } from '../graph.js';
import { suggestPipeline } from './suggest.js';

export const pipelinesSuggest = defineTool({
  name: 'pipelines_suggest',
  title: 'Suggest a pipeline for a goal',
  description:
    'Propose a whole pipeline from a goal in words ("monthly contract spend by vendor"): matching datasets (or the ones ' +
    'you name), their joins, the grouping and measures, and a destination, each choice explained. Saved as a new pipeline ' +
    'unless create=false.',
  input: z
    .object({
      goal: z.string().min(1).max(500).describe('What the pipeline should produce, in plain words'),
      datasets: z
        .array(z.string().min(1).max(2000))
        .max(10)
        .optional()
        .describe('URNs of tables or views to use (from catalog_search) instead of searching by the goal’s words'),
      name: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe('The pipeline’s name (and the output table’s); default: the goal'),
      create: z.boolean().default(true).describe('Save the proposal as a new pipeline (default) or only return it'),
    })
    .strict(),
  output: z.object({
    pipeline: z
      .object({ id: z.string(), name: z.string(), version: z.number(), semver: z.string() })
      .nullable()
      .describe('The pipeline created, or null with create=false'),
    nodes: z.array(pipelineNodeSchema),
    edges: z.array(pipelineEdgeSchema),
    issues: z
      .array(z.object({ nodeId: z.string().nullable(), message: z.string() }))
      .describe('What stops the proposal from running; empty when it validates'),
    explanation: z
      .array(z.string())
      .describe('One sentence per choice: datasets, joins, filters, period, grouping, output'),
    datasets: z.array(z.object({ urn: z.string(), role: z.enum(['main', 'joined', 'link']) })),
    destination: z.object({ schema: z.string(), table: z.string() }),
  }),
  annotations: additive,
  handler: async (input, ctx) => {
    const { graph, ...rest } = await suggestPipeline(ctx, input);
    return { ...rest, nodes: graph.nodes, edges: graph.edges };
  },
  render: (o) =>
    [
      o.pipeline
        ? `Created pipeline ${o.pipeline.name} (${o.pipeline.id}), version ${o.pipeline.version} (${o.pipeline.semver}).`
        : 'Proposed pipeline (not saved):',
      ...o.explanation.map((e) => `- ${e}`),
      `Nodes: ${o.nodes.map((n) => `${n.id} (${n.type})`).join(' → ')}`,
      o.issues.length ? `Still to fix:\n${o.issues.map((i) => `- ${i.message}`).join('\n')}` : 'It validates.',
    ].join('\n'),
});
