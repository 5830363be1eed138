import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { additive, defineTool, destructive, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import { type DeployResult, deployPipeline, listDeployments, rollbackAndRedeploy, schedulePipeline } from './deploy.js';
import { addNode, connect, disconnect, removeNode, updateNode } from './edit.js';
import { explainRun } from './explain.js';
import { nodeIdSchema, pipelineEdgeSchema, pipelineNodeSchema } from './graph.js';
import { nodeTypes } from './nodes/index.js';
import { addPipelineTest, describeResult, pipelineTestInput, runPipelineTests } from './pipeline-tests.js';
import { pipelinesDocs } from './publish/product-tools.js';
import { environments, getRun, previewPipeline, runPipeline } from './run.js';
import {
  createPipeline,
  diffPipelineVersions,
  listPipelines,
  listVersions,
  loadPipeline,
  type SavedVersion,
  savePipelineVersion,
} from './store.js';
import { pipelinesSuggest } from './suggest/suggest-tools.js';
import { pipelinesUpload } from './uploads/upload-tools.js';
import { analyzePipeline, outputSchema } from './validate.js';

/** A version number; bounded to what the integer column holds, so a huge one is refused as input, not by SQL. */
const versionInput = z.number().int().min(1).max(2_147_483_647);

const pipelineInput = z.string().min(1).max(200).describe('Pipeline id or name');
const runInput = z.string().min(1).max(100).describe('The run id from pipelines_run');
const issueSchema = z.object({ nodeId: z.string().nullable(), message: z.string() });
const positionSchema = z.object({ x: z.number(), y: z.number() });
const configInput = z
  .record(z.string(), z.unknown())
  .describe(
    'The node settings. source_dataset {urn}; filter {condition}; select {columns:[{column, as?}]}; derive {columns:[{name, expression}]}; ' +
      'join {kind: inner|left|full, on:[{left, right}]} (inputs on handles left and right); union {distinct?}; ' +
      'aggregate {groupBy:[…], measures:[{name, fn: count|count_distinct|sum|avg|min|max, column?}]}; sort {by:[{column, direction}], limit?}; ' +
      'deduplicate {columns:[…], keep?:[{column, direction}]}; validate {rules:[{check: not_null|unique|accepted_values|range|expression, column?, values?, min?, max?, expression?}], onFail: stop|quarantine, quarantineTable?: {schema, table}}; ' +
      'mask {columns?:[…] (default: the PII columns), method: redact|hash|last4}; ' +
      'classify {columns?:[{column, classification: U|C|S|TS}], asset?: U|C|S|TS} (raises markings of what is published); ' +
      'restrict {domain?: a restricted domain, clearance?: U|C|S|TS} (who may see what is published); destination_table {schema?, table, mode: create|replace|append|upsert, key?:[…]} (a table that does not exist yet, which the pipeline then owns; never an existing one or a system schema). ' +
      'cleanse {columns:[{column, operations:[{op: trim|lower|upper|empty_to_null|collapse_whitespace} | {op: replace, from, to} | {op: cast, to: text|smallint|integer|bigint|numeric|real|double precision|boolean|date|timestamp without time zone|timestamp with time zone|time without time zone|uuid} | {op: fill_null, value}]}]} (operations in order); ' +
      'enrich {on:[{left, right}], columns:[{column, as?}]} (inputs on handles input and lookup; a left join that adds lookup columns and never multiplies input rows: of several lookup rows for a key it takes the one whose looked-up values sort first); ' +
      'pivot {rowKeys:[…], column, values:[…], measure:{fn: count|count_distinct|sum|avg|min|max, column?}} (one output column per listed value, named after it); ' +
      'profile {columns?:[…]} (passes rows through; a run records row count, nulls, distinct values, min and max in its stats.profiles); ' +
      'source_sql {source: a source name, query: one read-only SELECT over catalog tables of that source}; ' +
      'source_upload {upload: the id pipelines_upload returned}; ' +
      "destination_file {format: csv|json|parquet, path: relative to the exports directory, ending in the format's extension} (replaced atomically; a dev run writes name_dev.ext). " +
      'Expressions are Postgres expressions over the columns that reach the node.',
  );

const savedOutput = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number(),
  semver: z.string(),
  nodeId: z.string().optional(),
  issues: z
    .array(issueSchema)
    .describe('What stops the pipeline from running yet, node by node; empty when it is sound'),
});

/** A deployment: the version an environment runs, and when the scheduler runs it. */
const deploymentOutput = z.object({
  pipelineId: z.string(),
  name: z.string(),
  environment: z.enum(environments),
  version: z.number(),
  semver: z.string(),
  schedule: z.string().nullable(),
  timeZone: z.string().nullable(),
  nextRunAt: z.string().nullable().describe('When the scheduler runs it next (UTC)'),
  deployedBy: z.string(),
  deployedAt: z.string(),
});

function renderSaved(s: z.infer<typeof savedOutput>): string {
  const head = `Pipeline ${s.name} is at version ${s.version} (${s.semver})${s.nodeId ? `; node \`${s.nodeId}\`` : ''}.`;
  return s.issues.length
    ? `${head}\nStill to fix:\n${s.issues.map((i) => `- ${i.message}`).join('\n')}`
    : `${head} It validates.`;
}

const edit = (saved: SavedVersion, nodeId?: string) => ({ ...saved, ...(nodeId ? { nodeId } : {}) });
export const pipelinesCreate = defineTool({
  name: 'pipelines_create',
  title: 'Create a pipeline',
  description:
    'Start a new data pipeline (an empty graph you then fill with pipelines_add_node and pipelines_connect). ' +
    'Returns its id; every later change is saved as a new version with a semantic version number.',
  input: z.object({ name: z.string().min(1).max(200), description: z.string().max(2000).optional() }).strict(),
  output: savedOutput,
  annotations: additive,
  handler: (input, ctx) => createPipeline(ctx, input),
  render: (s) => `Created pipeline ${s.name} (${s.id}), version ${s.version} (${s.semver}).`,
});

export const pipelinesList = defineTool({
  name: 'pipelines_list',
  title: 'List pipelines',
  description: 'The pipelines you can see, most recently changed first, with their current version.',
  input: z.object({ limit: z.number().int().min(1).max(200).default(50) }).strict(),
  output: z.object({
    pipelines: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        owner: z.string(),
        version: z.number(),
        semver: z.string(),
        nodes: z.number(),
        updatedAt: z.string(),
      }),
    ),
  }),
  annotations: readOnly,
  handler: async ({ limit }, ctx) => ({ pipelines: await listPipelines(ctx, limit) }),
  render: (o) =>
    o.pipelines.length
      ? o.pipelines
          .map(
            (p) =>
              `- ${fenceUntrusted(p.name)} ${p.id} v${p.version} (${p.semver}), ${p.nodes} nodes, owner ${p.owner}`,
          )
          .join('\n')
      : 'No pipelines.',
});

export const pipelinesGet = defineTool({
  name: 'pipelines_get',
  title: 'Get a pipeline',
  description:
    'A pipeline graph in the shape the canvas edits (nodes with type, position and config; edges with handles), at its current ' +
    'version or an older one, with its validation issues, output schema and version history.',
  input: z.object({ pipeline: pipelineInput, version: versionInput.optional() }).strict(),
  output: z.object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    owner: z.string(),
    version: z.number(),
    semver: z.string(),
    nodes: z.array(pipelineNodeSchema),
    edges: z.array(pipelineEdgeSchema),
    issues: z.array(issueSchema),
    outputSchema: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
    versions: z.array(
      z.object({
        version: z.number(),
        semver: z.string(),
        note: z.string().nullable(),
        createdBy: z.string(),
        createdAt: z.string(),
      }),
    ),
    deployments: z
      .array(deploymentOutput)
      .describe('Where the pipeline is deployed: the version each environment runs, and its schedule'),
  }),
  annotations: readOnly,
  handler: async ({ pipeline, version }, ctx) => {
    const p = await loadPipeline(ctx, pipeline, version);
    const analysis = await analyzePipeline(ctx, p.graph);
    return {
      id: p.id,
      name: p.name,
      description: p.description,
      owner: p.owner,
      version: p.version,
      semver: p.semver,
      nodes: p.graph.nodes,
      edges: p.graph.edges,
      issues: analysis.issues,
      outputSchema: p.outputSchema,
      versions: await listVersions(ctx, pipeline),
      deployments: await listDeployments(ctx, p),
    };
  },
  render: (p) =>
    [
      `Pipeline ${fenceUntrusted(p.name)} v${p.version} (${p.semver}), owner ${p.owner}`,
      ...p.nodes.map((n) => `- ${n.id} (${n.type}) ${JSON.stringify(n.data.config)}`),
      ...p.edges.map((e) => `- ${e.source} → ${e.target}${e.targetHandle ? ` [${e.targetHandle}]` : ''}`),
      p.issues.length ? `Issues:\n${p.issues.map((i) => `- ${i.message}`).join('\n')}` : 'It validates.',
      ...p.deployments.map(renderDeployment),
    ].join('\n'),
});

export const pipelinesAddNode = defineTool({
  name: 'pipelines_add_node',
  title: 'Add a node to a pipeline',
  description:
    'Add a source, transform, quality, governance or destination node. Give `after` to connect an existing node to it in the ' +
    'same call. The change is saved as a new version; the answer lists what still stops the pipeline from running.',
  input: z
    .object({
      pipeline: pipelineInput,
      type: z.enum(nodeTypes as [string, ...string[]]),
      config: configInput,
      id: nodeIdSchema.optional().describe('The node id; made up from the type when left out'),
      label: z.string().max(200).optional(),
      position: positionSchema.optional(),
      after: nodeIdSchema.optional().describe('An existing node whose output feeds this one'),
    })
    .strict(),
  output: savedOutput,
  annotations: additive,
  handler: async ({ pipeline, ...node }, ctx) => {
    let id = '';
    const saved = await savePipelineVersion(ctx, pipeline, `add node ${node.id ?? node.type}`, (graph) => {
      const added = addNode(graph, node as Parameters<typeof addNode>[1]);
      id = added.id;
      return added.graph;
    });
    return edit(saved, id);
  },
  render: renderSaved,
});

export const pipelinesUpdateNode = defineTool({
  name: 'pipelines_update_node',
  title: 'Change a node of a pipeline',
  description:
    'Change a node’s config (the keys given replace those keys; others stay), label or position. Saved as a new version; ' +
    'a change that removes or retypes an output column bumps the major version.',
  input: z
    .object({
      pipeline: pipelineInput,
      id: nodeIdSchema,
      // The settings guide is the add tool's; repeating it here would double what a model reads.
      config: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("The settings to change, spelled as pipelines_add_node's config for the node's type"),
      label: z.string().max(200).optional(),
      position: positionSchema.optional(),
    })
    .strict(),
  output: savedOutput,
  annotations: additive,
  handler: async ({ pipeline, ...change }, ctx) =>
    edit(await savePipelineVersion(ctx, pipeline, `update node ${change.id}`, (g) => updateNode(g, change)), change.id),
  render: renderSaved,
});

export const pipelinesRemoveNode = defineTool({
  name: 'pipelines_remove_node',
  title: 'Remove a node from a pipeline',
  description:
    'Remove a node and its edges. Saved as a new version (older versions keep it; pipelines_rollback brings it back).',
  input: z.object({ pipeline: pipelineInput, id: nodeIdSchema }).strict(),
  output: savedOutput,
  annotations: destructive,
  handler: async ({ pipeline, id }, ctx) =>
    edit(await savePipelineVersion(ctx, pipeline, `remove node ${id}`, (g) => removeNode(g, id))),
  render: renderSaved,
});

export const pipelinesConnect = defineTool({
  name: 'pipelines_connect',
  title: 'Connect two nodes',
  description:
    'Make the output of `source` an input of `target`. A join takes targetHandle "left" or "right", an enrich "input" or "lookup"; other nodes take no handle. ' +
    'Saved as a new version.',
  input: z
    .object({
      pipeline: pipelineInput,
      source: nodeIdSchema,
      target: nodeIdSchema,
      targetHandle: z.enum(['left', 'right', 'input', 'lookup']).optional(),
    })
    .strict(),
  output: savedOutput,
  annotations: idempotent,
  handler: async ({ pipeline, ...edge }, ctx) =>
    edit(await savePipelineVersion(ctx, pipeline, `connect ${edge.source} to ${edge.target}`, (g) => connect(g, edge))),
  render: renderSaved,
});

export const pipelinesDisconnect = defineTool({
  name: 'pipelines_disconnect',
  title: 'Disconnect two nodes',
  description: 'Remove the edge from `source` to `target`. Saved as a new version.',
  input: z.object({ pipeline: pipelineInput, source: nodeIdSchema, target: nodeIdSchema }).strict(),
  output: savedOutput,
  annotations: destructive,
  handler: async ({ pipeline, ...edge }, ctx) =>
    edit(
      await savePipelineVersion(ctx, pipeline, `disconnect ${edge.source} from ${edge.target}`, (g) =>
        disconnect(g, edge),
      ),
    ),
  render: renderSaved,
});

const columnOut = z.object({ name: z.string(), type: z.string() });

export const pipelinesValidate = defineTool({
  name: 'pipelines_validate',
  title: 'Validate a pipeline',
  description:
    'Check the whole pipeline (graph, sources, destination, every config and expression); each issue names its node and ' +
    'what to do. Also returns the output columns of every sound node.',
  input: z.object({ pipeline: pipelineInput }).strict(),
  output: z.object({
    valid: z.boolean(),
    issues: z.array(issueSchema),
    schemas: z.record(z.string(), z.array(columnOut)),
    outputs: z.record(z.string(), z.array(columnOut)),
  }),
  annotations: readOnly,
  handler: async ({ pipeline }, ctx) => {
    const p = await loadPipeline(ctx, pipeline);
    const analysis = await analyzePipeline(ctx, p.graph);
    const schemas = Object.fromEntries(
      [...analysis.nodes].map(([id, n]) => [id, n.columns.map((c) => ({ name: c.name, type: c.type }))]),
    );
    return { valid: analysis.issues.length === 0, issues: analysis.issues, schemas, outputs: outputSchema(analysis) };
  },
  render: (o) =>
    o.valid ? 'The pipeline validates.' : `Not valid yet:\n${o.issues.map((i) => `- ${i.message}`).join('\n')}`,
});

export const pipelinesPreview = defineTool({
  name: 'pipelines_preview',
  title: 'Preview rows at a node',
  description:
    'Sample rows and the schema at any node, computed where the data lives, masked for you by the catalog’s PII policy. ' +
    'Only the node and what feeds it need to be sound, so you can check each step as you build.',
  input: z
    .object({ pipeline: pipelineInput, node: nodeIdSchema, limit: z.number().int().min(1).max(500).default(20) })
    .strict(),
  output: z.object({
    nodeId: z.string(),
    columns: z.array(z.object({ name: z.string(), type: z.string(), treatment: z.string() })),
    rows: z.array(z.record(z.string(), z.unknown())),
  }),
  annotations: readOnly,
  handler: ({ pipeline, node, limit }, ctx) => previewPipeline(ctx, pipeline, node, limit),
  render: (o) =>
    [
      `${o.rows.length} rows at ${o.nodeId}: ${o.columns.map((c) => `${c.name} ${c.type}${c.treatment === 'shown' ? '' : ` (${c.treatment})`}`).join(', ')}`,
      ...o.rows.slice(0, 20).map((r) => fenceUntrusted(JSON.stringify(r))),
    ].join('\n'),
});

const statsSchema = z.record(z.string(), z.unknown());
const runOutput = z.object({
  runId: z.string(),
  pipelineId: z.string(),
  version: z.number(),
  environment: z.enum(environments).describe('prod wrote the configured tables, dev the same names suffixed _dev'),
  status: z.string(),
  error: z.string().nullable(),
  stats: statsSchema.describe(
    'Per-node rows and milliseconds, destinations written, and on failure the node that failed',
  ),
});

function renderRun(r: z.infer<typeof runOutput>): string {
  const stats = r.stats as { nodes?: Record<string, { rows: number; ms: number }>; failedNode?: string };
  const nodes = Object.entries(stats.nodes ?? {}).map(([id, s]) => `${id}: ${s.rows} rows, ${s.ms} ms`);
  const destinations = Object.entries(
    (r.stats as { destinations?: Record<string, { table: string; rows: number }> }).destinations ?? {},
  ).map(([id, d]) => `${id} wrote ${d.rows} rows to ${d.table}`);
  const head = `Run ${r.runId} of version ${r.version} in ${r.environment}: ${r.status}${r.error ? ` at node ${stats.failedNode ?? '?'}: ${r.error}` : ''}`;
  return [head, ...nodes.map((n) => `- ${n}`), ...destinations.map((d) => `- ${d}`)].join('\n');
}

export const pipelinesRun = defineTool({
  name: 'pipelines_run',
  title: 'Run a pipeline',
  description:
    'Run the pipeline now in the source database: dev (default) runs the current version into tables suffixed `_dev`; ' +
    'prod runs the deployed version into the configured tables and publishes them. Writes are atomic. Returns rows and ' +
    'time per node, or the failing node (see pipelines_explain_run). Stewards and owners.',
  input: z
    .object({
      pipeline: pipelineInput,
      environment: z
        .enum(environments)
        .default('dev')
        .describe('dev: the current version into <table>_dev; prod: the deployed version into the configured tables'),
      timeoutSeconds: z.number().int().min(1).max(86_400).default(600),
      nodeStats: z
        .boolean()
        .default(true)
        .describe('Count and time every node (a pass over each node’s input); false writes the outputs only, fastest'),
    })
    .strict(),
  output: runOutput,
  annotations: destructive,
  handler: async ({ pipeline, environment, timeoutSeconds, nodeStats }, ctx) => {
    const run = await runPipeline(ctx, pipeline, { trigger: 'manual', environment, timeoutSeconds, nodeStats });
    return { ...run, stats: { ...run.stats } };
  },
  render: renderRun,
});

export const pipelinesGetRun = defineTool({
  name: 'pipelines_get_run',
  title: 'Get a pipeline run',
  description:
    'Status, per-node rows and timings, and the error of one run. The figures and the database’s message are shown to ' +
    'stewards, owners and the pipeline’s owner; profile values only as masking shows each column to you.',
  input: z.object({ run: runInput }).strict(),
  output: runOutput.extend({ trigger: z.string(), startedAt: z.string(), finishedAt: z.string().nullable() }),
  annotations: readOnly,
  handler: async ({ run }, ctx) => {
    const found = await getRun(ctx, run);
    return { ...found, stats: { ...found.stats } };
  },
  render: renderRun,
});

export const pipelinesExplainRun = defineTool({
  name: 'pipelines_explain_run',
  title: 'Explain why a run failed',
  description:
    'Why did this pipeline fail? The node that failed, the cause in plain words, the database’s message and the fix.',
  input: z.object({ run: runInput }).strict(),
  output: z.object({
    runId: z.string(),
    status: z.string(),
    failedNode: z.string().nullable(),
    summary: z.string(),
    cause: z.string().nullable(),
    fix: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: ({ run }, ctx) => explainRun(ctx, run),
  render: (o) => [o.summary, o.fix ? `Fix: ${o.fix}` : ''].filter(Boolean).join('\n'),
});

export const pipelinesDiff = defineTool({
  name: 'pipelines_diff',
  title: 'Compare two versions of a pipeline',
  description:
    'What changed between two versions: nodes added, removed or changed (which config keys), edges, and the output schema ' +
    '(columns added, removed or retyped). `to` defaults to the current version.',
  input: z.object({ pipeline: pipelineInput, from: versionInput, to: versionInput.optional() }).strict(),
  output: z.object({
    from: z.object({ version: z.number(), semver: z.string() }),
    to: z.object({ version: z.number(), semver: z.string() }),
    nodesAdded: z.array(z.string()),
    nodesRemoved: z.array(z.string()),
    nodesChanged: z.array(z.object({ id: z.string(), fields: z.array(z.string()) })),
    edgesAdded: z.array(z.string()),
    edgesRemoved: z.array(z.string()),
    schema: z.array(
      z.object({
        output: z.string(),
        column: z.string().nullable(),
        change: z.enum(['added', 'removed', 'retyped']),
        from: z.string().optional(),
        to: z.string().optional(),
      }),
    ),
  }),
  annotations: readOnly,
  handler: async ({ pipeline, from, to }, ctx) =>
    diffPipelineVersions(ctx, pipeline, from, to ?? (await loadPipeline(ctx, pipeline)).version),
  render: (d) =>
    [
      `From v${d.from.version} (${d.from.semver}) to v${d.to.version} (${d.to.semver}):`,
      d.nodesAdded.length ? `nodes added: ${d.nodesAdded.join(', ')}` : '',
      d.nodesRemoved.length ? `nodes removed: ${d.nodesRemoved.join(', ')}` : '',
      ...d.nodesChanged.map((c) => `${c.id} changed: ${c.fields.join(', ')}`),
      d.edgesAdded.length ? `edges added: ${d.edgesAdded.join(', ')}` : '',
      d.edgesRemoved.length ? `edges removed: ${d.edgesRemoved.join(', ')}` : '',
      ...d.schema.map(
        (s) =>
          `${s.output}${s.column ? `.${s.column}` : ''} ${s.change}${s.to ? ` (${s.from ? `${s.from} → ` : ''}${s.to})` : ''}`,
      ),
    ]
      .filter(Boolean)
      .join('\n'),
});

const rowsOut = z.array(z.record(z.string(), z.unknown()));
const testRunOutput = z.object({
  pipelineId: z.string(),
  name: z.string(),
  version: z.number(),
  semver: z.string(),
  passed: z.number(),
  failed: z.number(),
  results: z.array(
    z.object({
      name: z.string(),
      passed: z.boolean(),
      problems: z.array(z.string()).describe('Why the test could not be judged, or a validate node that would stop'),
      diffs: z.array(
        z.object({
          nodeId: z.string(),
          missing: rowsOut.describe('Expected rows the node did not produce'),
          unexpected: rowsOut.describe('Rows the node produced that were not expected'),
          outOfOrder: z
            .object({
              position: z.number(),
              expected: z.record(z.string(), z.unknown()),
              actual: z.record(z.string(), z.unknown()),
            })
            .optional(),
        }),
      ),
    }),
  ),
});

function renderTests(t: z.infer<typeof testRunOutput>): string {
  const head = `Pipeline ${fenceUntrusted(t.name)} v${t.version} (${t.semver}): ${t.passed} of ${t.results.length} tests pass.`;
  return [head, ...t.results.map((r) => fenceUntrusted(describeResult(r)))].join('\n');
}

export const pipelinesAddTest = defineTool({
  name: 'pipelines_add_test',
  title: 'Add a pipeline test',
  description:
    'Add (or replace by name) a pipeline test: rows standing in for each source node (inputs) and the rows chosen nodes ' +
    'must produce (expect), in any order except at a sort node. Runs at once; prod deploys need at least one. Owner or steward.',
  input: pipelineTestInput.extend({ pipeline: pipelineInput }).strict(),
  output: testRunOutput,
  annotations: idempotent,
  handler: ({ pipeline, ...test }, ctx) => addPipelineTest(ctx, pipeline, test),
  render: renderTests,
});

export const pipelinesTest = defineTool({
  name: 'pipelines_test',
  title: 'Run the pipeline tests',
  description:
    'Run every test of a pipeline against a version (default: the current one) on its source database, reading only the ' +
    'test’s rows (nothing touches the real tables). Each test passes or shows its diff: missing rows, unexpected rows, or ' +
    'the first row out of order at a sort node.',
  input: z.object({ pipeline: pipelineInput, version: versionInput.optional() }).strict(),
  output: testRunOutput,
  annotations: readOnly,
  handler: ({ pipeline, version }, ctx) => runPipelineTests(ctx, pipeline, version),
  render: (t) =>
    t.results.length ? renderTests(t) : 'The pipeline has no tests yet: add one with pipelines_add_test.',
});

const scheduleInput = z
  .object({
    cron: z.string().min(1).max(100).describe('Cron, e.g. "0 6 * * *" for 06:00 every day'),
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .default('UTC')
      .describe('IANA time zone the cron is read in, e.g. Europe/Berlin'),
  })
  .strict();

const deployOutput = deploymentOutput.extend({
  tests: z.array(z.object({ name: z.string(), passed: z.boolean() })),
  run: runOutput.nullable().describe('The run made right after deploying (runNow)'),
});

function renderDeployment(d: z.infer<typeof deploymentOutput>): string {
  const schedule = d.schedule
    ? `runs on "${d.schedule}" (${d.timeZone}), next at ${d.nextRunAt}`
    : 'no schedule (it runs when asked: pipelines_run with this environment)';
  return `Pipeline ${fenceUntrusted(d.name)} version ${d.version} (${d.semver}) is deployed to ${d.environment}; ${schedule}.`;
}

function renderDeploy(d: z.infer<typeof deployOutput>): string {
  return [
    renderDeployment(d),
    d.tests.length ? `Tests passed: ${d.tests.map((t) => fenceUntrusted(t.name)).join(', ')}.` : 'No tests.',
    d.run ? renderRun(d.run) : '',
  ]
    .filter(Boolean)
    .join('\n');
}

const deployAnswer = (d: DeployResult) => ({ ...d, run: d.run ? { ...d.run, stats: { ...d.run.stats } } : null });

export const pipelinesDeploy = defineTool({
  name: 'pipelines_deploy',
  title: 'Deploy a pipeline',
  description:
    'Deploy a version (default current) to an environment (default prod): it must validate and pass every test (prod needs ' +
    'one: pipelines_add_test); optionally on a cron schedule, and run at once unless runNow is false. Stewards and owners.',
  input: z
    .object({
      pipeline: pipelineInput,
      environment: z.enum(environments).default('prod'),
      version: versionInput.optional(),
      schedule: scheduleInput.optional(),
      runNow: z.boolean().default(true).describe('Run the deployed version in that environment right away'),
    })
    .strict(),
  output: deployOutput,
  annotations: destructive,
  handler: async ({ pipeline, ...options }, ctx) => deployAnswer(await deployPipeline(ctx, pipeline, options)),
  render: renderDeploy,
});

export const pipelinesSchedule = defineTool({
  name: 'pipelines_schedule',
  title: 'Schedule a deployed pipeline',
  description:
    'Set when the scheduler runs a deployed pipeline in an environment: a cron and an IANA time zone (e.g. "0 6 * * 1-5" in ' +
    'America/New_York), or clear: true to stop scheduled runs. The scheduler runs the version deployed there. Deploy first ' +
    'with pipelines_deploy. Stewards and owners only.',
  input: z
    .object({
      pipeline: pipelineInput,
      environment: z.enum(environments).default('prod'),
      cron: z.string().min(1).max(100).optional().describe('Cron, e.g. "0 6 * * *"; leave out with clear'),
      timeZone: z.string().min(1).max(64).default('UTC').describe('IANA time zone, e.g. Europe/Berlin'),
      clear: z.boolean().default(false).describe('Stop the scheduled runs'),
    })
    .strict(),
  output: deploymentOutput,
  annotations: idempotent,
  handler: async ({ pipeline, environment, cron, timeZone, clear }, ctx) => {
    if (clear === Boolean(cron)) {
      throw new DataOpsError('invalid_input', 'give either a cron (with its timeZone) or clear: true, not both');
    }
    return schedulePipeline(ctx, pipeline, { environment, schedule: cron ? { cron, timeZone } : null });
  },
  render: renderDeployment,
});

export const pipelinesRollback = defineTool({
  name: 'pipelines_rollback',
  title: 'Roll a pipeline back to an earlier version',
  description:
    'Save a new version equal to an earlier one. If the pipeline is deployed to prod, that version is also tested, ' +
    'deployed and run there in the same call.',
  input: z.object({ pipeline: pipelineInput, version: versionInput }).strict(),
  output: savedOutput.extend({
    deployment: deployOutput.nullable().describe('The deploy to prod and its run, when the pipeline was in prod'),
    notDeployed: z.string().nullable().describe('Why the new version was not deployed to prod, when it was refused'),
  }),
  annotations: destructive,
  handler: async ({ pipeline, version }, ctx) => {
    const result = await rollbackAndRedeploy(ctx, pipeline, version);
    return { ...result, deployment: result.deployment ? deployAnswer(result.deployment) : null };
  },
  render: (r) =>
    [
      renderSaved(r),
      r.deployment
        ? `Prod restored too, in the same call: ${renderDeploy(r.deployment)}`
        : r.notDeployed
          ? `Not deployed to prod: ${r.notDeployed}`
          : 'It is not deployed to prod; run it with pipelines_run to write its output.',
    ].join('\n'),
});

export const pipelineTools = [
  pipelinesCreate,
  pipelinesList,
  pipelinesGet,
  pipelinesAddNode,
  pipelinesUpdateNode,
  pipelinesRemoveNode,
  pipelinesConnect,
  pipelinesDisconnect,
  pipelinesValidate,
  pipelinesPreview,
  pipelinesRun,
  pipelinesGetRun,
  pipelinesExplainRun,
  pipelinesDiff,
  pipelinesRollback,
  pipelinesSuggest,
  pipelinesDocs,
  pipelinesAddTest,
  pipelinesTest,
  pipelinesDeploy,
  pipelinesSchedule,
  pipelinesUpload,
];
