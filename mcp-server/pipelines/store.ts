import { and, desc, eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, textArray } from '../../db/create-db.js';
import { pipelineDeployments, pipelines, pipelineVersions } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { hasRole, visibleAssetsSql } from '../governance/access.js';
import type { PipelineAnalysis } from './analysis.js';
import type { PipelineGraph } from './graph.js';
import { destinationTypes } from './nodes/index.js';
import type { PipelineIssue } from './nodes/node-module.js';
import { sourceSqlUrns } from './source-sql.js';
import { hiddenUploads, loadUploads, uploadIds } from './uploads/upload-access.js';
import { analyzePipeline, outputSchema } from './validate.js';
import { diffGraphs, diffSchemas, nextSemver, type OutputSchema } from './versions.js';

export interface LoadedPipeline {
  id: string;
  name: string;
  description: string | null;
  owner: string;
  version: number;
  semver: string;
  graph: PipelineGraph;
  outputSchema: OutputSchema;
  updatedAt: Date;
}

const notFound = (id: string) =>
  new DataOpsError('not_found', `no pipeline ${id}: list the pipelines you can see with pipelines_list`);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The dataset URNs a graph reads. */
export function datasetUrns(graph: PipelineGraph): string[] {
  return graph.nodes
    .filter((n) => n.type === 'source_dataset')
    .map((n) => (n.data.config as { urn?: unknown }).urn)
    .filter((u): u is string => typeof u === 'string');
}

const uploadPrefix = 'upload:';

/**
 * Everything a graph reads that the caller must be allowed to see: the catalog URNs of its datasets and of
 * the tables its source queries name, and its uploaded files as `upload:<id>`.
 */
async function readUrns(graph: PipelineGraph): Promise<string[]> {
  return [
    ...datasetUrns(graph),
    ...(await sourceSqlUrns(graph)),
    ...uploadIds(graph).map((id) => `${uploadPrefix}${id}`),
  ];
}

/** Entries of `urns` (as readUrns gives them) that the caller may not see. */
async function hiddenUrns(ctx: ServiceContext, urns: string[]): Promise<Set<string>> {
  const uploads = urns.filter((u) => u.startsWith(uploadPrefix)).map((u) => u.slice(uploadPrefix.length));
  const assetUrns = urns.filter((u) => !u.startsWith(uploadPrefix));
  const hidden = new Set([...(await hiddenUploads(ctx, uploads))].map((id) => `${uploadPrefix}${id}`));
  if (assetUrns.length === 0) return hidden;
  const rows = await queryRows<{ urn: string }>(
    ctx.db,
    sql`select a.urn from assets a where a.urn = any(${textArray(assetUrns)}) and not ${visibleAssetsSql(ctx.principal)}`,
  );
  for (const r of rows) hidden.add(r.urn);
  return hidden;
}

/**
 * Whether a version names a column the caller may not see (one marked above its clearance in a table the
 * graph reads): in a node's config or in the output schema its author's view gave it. Such a pipeline is
 * hidden as a whole, like one reading a hidden table, so its graph never tells the column's name. Only a
 * version by an author cleared higher than the caller is looked at: one the caller's peers wrote saw no more
 * than the caller does, and so the caller cannot make a pipeline vanish by writing a name to test it.
 */
async function namesHiddenColumn(
  ctx: ServiceContext,
  versions: { urns: string[]; graph: PipelineGraph; outputSchema?: unknown; createdBy: string }[],
): Promise<boolean[]> {
  const authors = [...new Set(versions.map((v) => v.createdBy))];
  const cleared = await queryRows<{ id: string }>(
    ctx.db,
    sql`select id from principals where id = any(${textArray(authors)})
        and clearance <= ${ctx.principal.clearance}::classification`,
  );
  const peers = new Set(cleared.map((c) => c.id));
  const assetUrns = [
    ...new Set(
      versions.filter((v) => !peers.has(v.createdBy)).flatMap((v) => v.urns.filter((u) => !u.startsWith(uploadPrefix))),
    ),
  ];
  if (assetUrns.length === 0) return versions.map(() => false);
  const hidden = await queryRows<{ urn: string; name: string }>(
    ctx.db,
    sql`select a.urn, c.name from columns c join assets a on a.id = c.asset_id
        where a.urn = any(${textArray(assetUrns)}) and c.classification > ${ctx.principal.clearance}::classification`,
  );
  if (hidden.length === 0) return versions.map(() => false);
  // A column's name as JSON writes it, standing alone (not part of a longer identifier).
  const pattern = (name: string) => {
    const escaped = JSON.stringify(name)
      .slice(1, -1)
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^A-Za-z0-9_$])${escaped}([^A-Za-z0-9_$]|$)`);
  };
  return versions.map((v) => {
    if (peers.has(v.createdBy)) return false;
    const names = hidden.filter((h) => v.urns.includes(h.urn)).map((h) => h.name);
    if (names.length === 0) return false;
    const text = JSON.stringify([v.graph.nodes.map((n) => n.data.config), v.outputSchema ?? null]);
    return names.some((name) => pattern(name).test(text));
  });
}

/**
 * Every dataset a graph reads must be an asset the editor may see: one it may not see is refused exactly
 * like one that does not exist, so a pipeline never holds a URN its own editor could not have found.
 */
async function requireVisibleDatasets(ctx: ServiceContext, graph: PipelineGraph): Promise<void> {
  const read = [...new Set(await readUrns(graph))];
  const uploads = read.filter((u) => u.startsWith(uploadPrefix)).map((u) => u.slice(uploadPrefix.length));
  const readable = await loadUploads(ctx, uploads);
  const unreadable = uploads.find((id) => !readable.has(id));
  if (unreadable) {
    throw new DataOpsError(
      'not_found',
      `no upload ${unreadable}: upload the file with pipelines_upload and use the id it returns`,
    );
  }
  const urns = read.filter((u) => !u.startsWith(uploadPrefix));
  if (urns.length === 0) return;
  const rows = await queryRows<{ urn: string }>(
    ctx.db,
    sql`select a.urn from assets a where a.urn = any(${textArray(urns)}) and ${visibleAssetsSql(ctx.principal)}`,
  );
  const seen = new Set(rows.map((r) => r.urn));
  const missing = urns.find((u) => !seen.has(u));
  if (missing) {
    throw new DataOpsError('not_found', `no asset ${missing}: search the catalog with catalog_search to find its URN`);
  }
}

/**
 * A pipeline at its current version (or `version`). A pipeline that reads an asset the caller may not see
 * is "not found", worded exactly as for an id that does not exist.
 */
export async function loadPipeline(ctx: ServiceContext, ref: string, version?: number): Promise<LoadedPipeline> {
  const id = uuidPattern.test(ref) ? ref : await pipelineIdByName(ctx, ref);
  const [row] = await ctx.db.select().from(pipelines).where(eq(pipelines.id, id));
  if (!row) throw notFound(ref);
  const [current] = await ctx.db
    .select()
    .from(pipelineVersions)
    .where(and(eq(pipelineVersions.pipelineId, id), eq(pipelineVersions.version, row.currentVersion)));
  const graph = current!.graph as PipelineGraph;
  const currentUrns = await readUrns(graph);
  if ((await hiddenUrns(ctx, currentUrns)).size > 0) throw notFound(ref);
  if (
    (
      await namesHiddenColumn(ctx, [
        { urns: currentUrns, graph, outputSchema: current!.outputSchema, createdBy: current!.createdBy },
      ])
    )[0]
  ) {
    throw notFound(ref);
  }
  const wanted = version ?? row.currentVersion;
  const [chosen] =
    wanted === row.currentVersion
      ? [current]
      : await ctx.db
          .select()
          .from(pipelineVersions)
          .where(and(eq(pipelineVersions.pipelineId, id), eq(pipelineVersions.version, wanted)));
  if (!chosen) {
    throw new DataOpsError(
      'not_found',
      `pipeline ${row.name} has no version ${wanted}; it has versions 1 to ${row.currentVersion}`,
    );
  }
  const chosenUrns = await readUrns(chosen.graph as PipelineGraph);
  if ((await hiddenUrns(ctx, chosenUrns)).size > 0) throw notFound(ref);
  const [namesHidden] = await namesHiddenColumn(ctx, [
    {
      urns: chosenUrns,
      graph: chosen.graph as PipelineGraph,
      outputSchema: chosen.outputSchema,
      createdBy: chosen.createdBy,
    },
  ]);
  if (namesHidden) throw notFound(ref);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    owner: row.owner,
    version: chosen.version,
    semver: chosen.semver,
    graph: chosen.graph as PipelineGraph,
    outputSchema: chosen.outputSchema,
    updatedAt: row.updatedAt,
  };
}

/**
 * A pipeline named `name` among those the caller may see (names need not be unique, and a hidden pipeline's
 * name must not be told apart from a free one); of several, the caller's own, else the caller picks by id.
 */
async function pipelineIdByName(ctx: ServiceContext, name: string): Promise<string> {
  const named = (await listPipelines(ctx, 1000)).filter((p) => p.name === name);
  const mine = named.filter((p) => p.owner === ctx.principal.id);
  if (named.length === 1) return named[0]!.id;
  if (mine.length === 1) return mine[0]!.id;
  if (named.length === 0) throw notFound(name);
  throw new DataOpsError(
    'invalid_input',
    `${named.length} pipelines are named ${name}: name one by its id (${named.map((p) => p.id).join(', ')})`,
  );
}

/** The pipelines the caller may see (every dataset they read is visible to it), most recently changed first. */
export async function listPipelines(ctx: ServiceContext, limit: number) {
  const rows = await ctx.db
    .select({
      id: pipelines.id,
      name: pipelines.name,
      owner: pipelines.owner,
      version: pipelines.currentVersion,
      semver: pipelineVersions.semver,
      graph: pipelineVersions.graph,
      outputSchema: pipelineVersions.outputSchema,
      createdBy: pipelineVersions.createdBy,
      updatedAt: pipelines.updatedAt,
    })
    .from(pipelines)
    .innerJoin(
      pipelineVersions,
      and(eq(pipelineVersions.pipelineId, pipelines.id), eq(pipelineVersions.version, pipelines.currentVersion)),
    )
    .orderBy(desc(pipelines.updatedAt));
  const read = await Promise.all(rows.map((r) => readUrns(r.graph as PipelineGraph)));
  const hidden = await hiddenUrns(ctx, [...new Set(read.flat())]);
  const naming = await namesHiddenColumn(
    ctx,
    rows.map((r, i) => ({
      urns: read[i]!,
      graph: r.graph as PipelineGraph,
      outputSchema: r.outputSchema,
      createdBy: r.createdBy,
    })),
  );
  return rows
    .filter((_, i) => !read[i]!.some((u) => hidden.has(u)) && !naming[i])
    .slice(0, limit)
    .map(({ graph, outputSchema: _schema, createdBy: _author, ...r }) => ({
      ...r,
      nodes: (graph as PipelineGraph).nodes.length,
      updatedAt: r.updatedAt.toISOString(),
    }));
}

export interface SavedVersion {
  id: string;
  name: string;
  version: number;
  semver: string;
  issues: PipelineIssue[];
}

/** Only a pipeline's owner or a steward may change it (its graph, its tests). */
export function requireCanChange(ctx: ServiceContext, pipeline: LoadedPipeline, action: string): void {
  if (pipeline.owner !== ctx.principal.id && !hasRole(ctx.principal, 'steward', 'owner')) {
    throw new DataOpsError(
      'forbidden',
      `${ctx.principal.id} may not ${action} pipeline ${pipeline.name}: only its owner (${pipeline.owner}) or a steward may`,
    );
  }
}

/**
 * Creates a pipeline owned by the caller, as version 1: an empty graph (0.1.0), or `graph` (a proposal), whose
 * output schema and semantic version come from validating it as any later version's do (an output makes it
 * 0.1.0, as if added to the empty graph; a graph with no output yet is 0.0.1).
 */
export async function createPipeline(
  ctx: ServiceContext,
  input: { name: string; description?: string; graph?: PipelineGraph; note?: string },
): Promise<SavedVersion> {
  const graph = input.graph ?? { nodes: [], edges: [] };
  if (input.graph) await requireVisibleDatasets(ctx, graph);
  const analysis = await analyzePipeline(ctx, graph);
  const schema = outputSchema(analysis);
  const semver = input.graph ? nextSemver('0.0.0', {}, schema) : '0.1.0';
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(pipelines)
      .values({ name: input.name, description: input.description ?? null, owner: ctx.principal.id, currentVersion: 1 })
      .returning({ id: pipelines.id });
    await tx.insert(pipelineVersions).values({
      pipelineId: row!.id,
      version: 1,
      graph,
      semver,
      outputSchema: schema,
      note: input.note ?? 'created',
      createdBy: ctx.principal.id,
    });
    return { id: row!.id, name: input.name, version: 1, semver, issues: analysis.issues };
  });
}

/**
 * Saves a change as a new version: `change` gets the current graph and returns the next (throwing
 * `invalid_input` for an edit that makes no sense). The new version's output schema decides its semantic
 * version. Only the pipeline's owner or a steward may change it; two concurrent edits do not both win.
 */
export async function savePipelineVersion(
  ctx: ServiceContext,
  id: string,
  note: string,
  change: (graph: PipelineGraph) => PipelineGraph,
): Promise<SavedVersion> {
  const current = await loadPipeline(ctx, id);
  requireCanChange(ctx, current, 'change');
  const graph = change(structuredClone(current.graph));
  await requireVisibleDatasets(ctx, graph);
  const analysis = await analyzePipeline(ctx, graph);
  const schema = keepUnanalysedOutputs(outputSchema(analysis), current.outputSchema, graph, analysis);
  const semver = nextSemver(current.semver, current.outputSchema, schema);
  const version = current.version + 1;
  await ctx.db.transaction(async (tx) => {
    const moved = await tx
      .update(pipelines)
      .set({ currentVersion: version, updatedAt: ctx.clock() })
      .where(and(eq(pipelines.id, current.id), eq(pipelines.currentVersion, current.version)))
      .returning({ id: pipelines.id });
    if (moved.length === 0) {
      throw new DataOpsError(
        'conflict',
        `pipeline ${current.name} changed while this edit was made; look at it again and retry`,
      );
    }
    await tx.insert(pipelineVersions).values({
      pipelineId: current.id,
      version,
      graph,
      semver,
      outputSchema: schema,
      note,
      createdBy: ctx.principal.id,
    });
  });
  return { id: current.id, name: current.name, version, semver, issues: analysis.issues };
}

/**
 * `schema` with the previous entry of each destination still in the graph that could not be analysed (a
 * broken node upstream): a typo mid-edit is not an output removed, so it does not bump the major version, and
 * fixing it is not an output added.
 */
function keepUnanalysedOutputs(
  schema: OutputSchema,
  previous: OutputSchema,
  graph: PipelineGraph,
  analysis: PipelineAnalysis,
): OutputSchema {
  const kept = { ...schema };
  for (const [output, columns] of Object.entries(previous)) {
    const stillThere = graph.nodes.some((n) => n.id === output && destinationTypes.has(n.type));
    if (stillThere && !analysis.nodes.has(output) && !kept[output]) kept[output] = columns;
  }
  return kept;
}

/** What changed between two versions: nodes, edges, config and the output schema. */
export async function diffPipelineVersions(ctx: ServiceContext, id: string, from: number, to: number) {
  const [a, b] = [await loadPipeline(ctx, id, from), await loadPipeline(ctx, id, to)];
  return {
    from: { version: a.version, semver: a.semver },
    to: { version: b.version, semver: b.semver },
    ...diffGraphs(a.graph, b.graph),
    schema: diffSchemas(a.outputSchema, b.outputSchema),
  };
}

/** The versions of a pipeline, newest first. */
export async function listVersions(ctx: ServiceContext, id: string) {
  const { id: pipelineId } = await loadPipeline(ctx, id);
  const rows = await ctx.db
    .select({
      version: pipelineVersions.version,
      semver: pipelineVersions.semver,
      note: pipelineVersions.note,
      createdBy: pipelineVersions.createdBy,
      createdAt: pipelineVersions.createdAt,
    })
    .from(pipelineVersions)
    .where(eq(pipelineVersions.pipelineId, pipelineId))
    .orderBy(desc(pipelineVersions.version));
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

/** The version deployed to an environment, or null when none is. */
export async function deployedVersion(
  ctx: ServiceContext,
  pipelineId: string,
  environment: 'dev' | 'prod',
): Promise<number | null> {
  const [row] = await ctx.db
    .select({ version: pipelineDeployments.version })
    .from(pipelineDeployments)
    .where(and(eq(pipelineDeployments.pipelineId, pipelineId), eq(pipelineDeployments.environment, environment)));
  return row?.version ?? null;
}

/** A new version whose graph is that of `version`: the next run writes what that version wrote. */
export async function rollbackPipeline(ctx: ServiceContext, id: string, version: number): Promise<SavedVersion> {
  const old = await loadPipeline(ctx, id, version);
  return savePipelineVersion(ctx, id, `rollback to version ${version} (${old.semver})`, () => old.graph);
}
