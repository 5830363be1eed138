import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { queryRows, type Tx } from '../../db/create-db.js';
import { jobRuns, lineageEvents } from '../../db/schema/index.js';
import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { DataOpsError } from '../errors.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import {
  type AssetWriter,
  canonicalJson,
  createAssetWriter,
  embedNewAssets,
  fillConnectorAsset,
  finishWriter,
  type OwnedAsset,
  ownedAssetId,
  upsertOwnedAsset,
} from './openlineage-assets.js';
import { createDatasetResolver, type DatasetRef, datasetFacts, datasetKey } from './openlineage-datasets.js';
import {
  type ColumnLineageFacet,
  type DatasetFacets,
  type InputField,
  type Job,
  type OpenLineageEvent,
  type OutputDataset,
  parseOpenLineageEvent,
  type RunState,
} from './openlineage-schema.js';
import { type ColumnMapping, directSubtypes, type EdgeSpec, indirectSubtypes, replaceEdges } from './store.js';

/**
 * OpenLineage ingestion. Jobs become `job` assets with their runs; datasets map onto the catalog's assets
 * (see openlineage-datasets.ts); inputs feed the job and the job feeds its outputs (`derives` edges, origin
 * `openlineage`), with the columnLineage facet as column lineage on the job-to-output edge.
 *
 * A job's lineage is what its runs report, accumulated: START and COMPLETE (and RUNNING) events of one run
 * may each carry part of the inputs and outputs, so the run's datasets are the union over its events.
 * A run that COMPLETEs with datasets defines the job's lineage from then on: datasets that only earlier
 * runs touched drop out (their edges are closed, so lineage as of an earlier time still shows them). Runs
 * in progress, failed or aborted only add, since they may have stopped before reporting everything.
 * A JobEvent's datasets count as a completed run. For each output, the newest columnLineage facet wins.
 *
 * Every event is stored in lineage_events under a hash of its content, so a replayed event is
 * recognised and changes nothing.
 */

export interface OpenLineageSummary {
  events: number;
  accepted: number;
  /** Events the catalog had already received (replays), which changed nothing. */
  replayed: number;
  assetsCreated: number;
  assetsUpdated: number;
  /** Job runs started or moved to another state. */
  runsChanged: number;
  edgesOpened: number;
  edgesClosed: number;
}

const terminalStates = new Set<string>(['COMPLETE', 'FAIL', 'ABORT']);

/** Validates every event first (one bad event refuses the batch), then records them in one transaction. */
export async function ingestOpenLineage(ctx: ServiceContext, raw: unknown[]): Promise<OpenLineageSummary> {
  requireRole(ctx.principal, 'record lineage', 'steward', 'owner');
  const events = raw.map((event, i) => {
    try {
      return parseOpenLineageEvent(event);
    } catch (error) {
      if (raw.length > 1 && error instanceof DataOpsError) {
        throw new DataOpsError(error.code, `event ${i + 1}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  });
  const embeddings = await embedNewAssets(ctx, await plannedAssets(ctx, events));
  const summary: OpenLineageSummary = {
    events: events.length,
    accepted: 0,
    replayed: 0,
    assetsCreated: 0,
    assetsUpdated: 0,
    runsChanged: 0,
    edgesOpened: 0,
    edgesClosed: 0,
  };
  try {
    await ctx.db.transaction(async (tx) => {
      const w = createAssetWriter(tx, ctx, ctx.clock(), embeddings);
      const resolver = createDatasetResolver(tx, ctx.principal);
      for (const event of events) await recordEvent(w, resolver, event, summary);
      await finishWriter(w);
      summary.assetsCreated = w.stats.created;
      summary.assetsUpdated = w.stats.updated + w.stats.restored;
      if (summary.accepted > 0) {
        await appendAudit(tx, {
          actorId: ctx.principal.id,
          action: 'lineage.ingest',
          at: w.now,
          details: { origin: 'openlineage', ...summary },
        });
      }
    });
  } catch (error) {
    if (error instanceof DataOpsError) throw error;
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    throw new DataOpsError(
      'internal',
      `recording OpenLineage events failed and nothing was changed: ${cause.message}`,
      {
        cause: error,
      },
    );
  }
  return summary;
}

type Resolver = ReturnType<typeof createDatasetResolver>;

/** The producer-owned assets the events describe, so the new ones can be embedded before the transaction. */
async function plannedAssets(ctx: ServiceContext, events: OpenLineageEvent[]): Promise<OwnedAsset[]> {
  const resolver = createDatasetResolver(ctx.db, ctx.principal);
  const owned: OwnedAsset[] = [];
  for (const e of events) {
    if (e.category !== 'dataset') owned.push(jobAsset(e.event.job));
    for (const { ref, facets } of datasetsOf(e)) {
      const target = await resolver.resolve(ref, facets);
      if (target.kind === 'owned') owned.push(target.asset);
    }
  }
  return owned;
}

function datasetsOf(e: OpenLineageEvent): { ref: DatasetRef; facets?: DatasetFacets }[] {
  if (e.category === 'dataset') return [{ ref: e.event.dataset, facets: e.event.dataset.facets }];
  const listed = [...(e.event.inputs ?? []), ...(e.event.outputs ?? [])].map((d) => ({ ref: d, facets: d.facets }));
  const named = (e.event.outputs ?? []).flatMap((o) => inputFieldsOf(o.facets?.columnLineage)).map((ref) => ({ ref }));
  return [...listed, ...named];
}

function inputFieldsOf(facet: ColumnLineageFacet | undefined): InputField[] {
  if (!facet) return [];
  return [...Object.values(facet.fields).flatMap((f) => f.inputFields), ...(facet.dataset ?? [])];
}

function jobAsset(job: Job): OwnedAsset {
  const facets = job.facets;
  const facts: OwnedAsset['facts'] = {};
  if (facets?.documentation) facts.description = facets.documentation.description || null;
  const owner = facets?.ownership?.owners?.[0]?.name;
  if (owner) facts.owner = owner;
  const details: Record<string, unknown> = { namespace: job.namespace, name: job.name };
  if (facets?.jobType) {
    details.integration = facets.jobType.integration;
    details.processingType = facets.jobType.processingType;
    if (facets.jobType.jobType) details.jobType = facets.jobType.jobType;
  }
  if (facets?.sourceCodeLocation) details.sourceCodeLocation = facets.sourceCodeLocation.url;
  return {
    source: { kind: 'openlineage', name: job.namespace, location: job.namespace },
    urn: assetUrn('openlineage', job.namespace, 'job', job.name),
    kind: 'job',
    namespace: '',
    name: job.name,
    qualifiedName: job.name,
    definition: facets?.sql?.query,
    properties: { openlineage: details },
    mergeProperties: true,
    facts,
  };
}

function eventKey(raw: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(raw)).digest('hex');
}

async function recordEvent(
  w: AssetWriter,
  resolver: Resolver,
  e: OpenLineageEvent,
  summary: OpenLineageSummary,
): Promise<void> {
  const key = eventKey(e.raw);
  const subject =
    e.category === 'dataset'
      ? `dataset:${e.event.dataset.namespace}:${e.event.dataset.name}`
      : `job:${e.event.job.namespace}:${e.event.job.name}`;
  // Events of one job are recorded one at a time, so two runs cannot both compute the job's lineage.
  await w.tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`openlineage:${subject}`}))`);
  const [seen] = await w.tx.select({ id: lineageEvents.id }).from(lineageEvents).where(eq(lineageEvents.eventKey, key));
  if (seen) {
    summary.replayed++;
    return;
  }
  summary.accepted++;

  for (const { ref, facets } of datasetsOf(e)) await describeDataset(w, resolver, ref, facets, e.eventTime);
  const job = e.category === 'dataset' ? null : jobAsset(e.event.job);
  const jobId = job ? await upsertOwnedAsset(w, job, e.eventTime) : null;
  const runId = e.category === 'run' ? e.event.run.runId : null;
  await w.tx.insert(lineageEvents).values({
    eventKey: key,
    category: e.category,
    eventType: e.category === 'run' ? (e.event.eventType ?? 'OTHER') : null,
    eventTime: e.eventTime,
    runId,
    jobAssetId: jobId,
    producer: e.producer,
    payload: e.raw,
    receivedAt: w.now,
  });
  if (e.category === 'run' && jobId) {
    if (await recordRun(w.tx, jobId, e.event.run.runId, e.event.eventType ?? 'OTHER', e.eventTime, e.event.run.facets))
      summary.runsChanged++;
  }
  if (job && jobId) {
    const edges = await jobEdges(w, resolver, jobId, job.urn);
    const changes = await replaceEdges(
      w.tx,
      { origin: 'openlineage', toAssetIds: [jobId], fromAssetIds: [jobId] },
      edges,
      w.now,
    );
    summary.edgesOpened += changes.opened;
    summary.edgesClosed += changes.closed;
  }
}

/**
 * Applies a dataset's documentation, ownership and schema facets: in full to an OpenLineage asset, and
 * only where nothing is known to an asset a database connector owns (its columns are the connector's).
 */
async function describeDataset(
  w: AssetWriter,
  resolver: Resolver,
  ref: DatasetRef,
  facets: DatasetFacets | undefined,
  eventTime: Date,
): Promise<string> {
  const target = await resolver.resolve(ref, facets);
  if (target.kind === 'owned') return upsertOwnedAsset(w, target.asset, eventTime);
  const facts = datasetFacts(facets);
  if (Object.keys(facts).length > 0) await fillConnectorAsset(w, target.assetId, facts);
  return target.assetId;
}

/**
 * Moves the run to the event's state. A finished run (COMPLETE, FAIL, ABORT) is not reopened by a late
 * START, RUNNING or OTHER event (the spec allows OTHER after completion to add metadata); run facets merge.
 */
async function recordRun(
  tx: Tx,
  jobAssetId: string,
  runId: string,
  state: RunState,
  at: Date,
  facets: Record<string, unknown> | undefined,
): Promise<boolean> {
  const [current] = await tx
    .select()
    .from(jobRuns)
    .where(and(eq(jobRuns.jobAssetId, jobAssetId), eq(jobRuns.runId, runId)));
  const terminal = terminalStates.has(state);
  if (!current) {
    await tx.insert(jobRuns).values({
      jobAssetId,
      runId,
      state,
      startedAt: state === 'START' ? at : null,
      endedAt: terminal ? at : null,
      facets: facets ?? {},
      updatedAt: at,
    });
    return true;
  }
  const finished = terminalStates.has(current.state);
  const later = !current.endedAt || at >= current.endedAt;
  const next = {
    state: finished && (!terminal || !later) ? current.state : state,
    startedAt: state === 'START' && (!current.startedAt || at < current.startedAt) ? at : current.startedAt,
    endedAt: terminal && later ? at : current.endedAt,
    facets: { ...current.facets, ...facets },
  };
  const same =
    next.state === current.state &&
    next.startedAt?.getTime() === current.startedAt?.getTime() &&
    next.endedAt?.getTime() === current.endedAt?.getTime() &&
    canonicalJson(next.facets) === canonicalJson(current.facets);
  if (same) return false;
  await tx
    .update(jobRuns)
    .set({ ...next, updatedAt: at > current.updatedAt ? at : current.updatedAt })
    .where(eq(jobRuns.id, current.id));
  return true;
}

interface StoredEvent {
  inputs?: DatasetRef[] | null;
  outputs?: OutputDataset[] | null;
}

/** The job's current lineage, from its stored events (see the comment at the top of this file). */
async function jobEdges(w: AssetWriter, resolver: Resolver, jobId: string, jobUrn: string): Promise<EdgeSpec[]> {
  const rows = await queryRows<{ payload: StoredEvent | string }>(
    w.tx,
    sql`with events as (
          select coalesce(run_id, event_key) as grp, event_time, event_type, category, event_key, payload,
            (case jsonb_typeof(payload->'inputs') when 'array' then jsonb_array_length(payload->'inputs') else 0 end
             + case jsonb_typeof(payload->'outputs') when 'array' then jsonb_array_length(payload->'outputs') else 0 end)
              > 0 as has_datasets
          from lineage_events where job_asset_id = ${jobId}),
        groups as (
          select grp, min(event_time) as first,
            bool_or(event_type = 'COMPLETE' or category = 'job') and bool_or(has_datasets) as complete
          from events group by grp),
        since as (select max(first) as t from groups where complete)
        select e.payload from events e join groups g on g.grp = e.grp
        where e.has_datasets and g.first >= coalesce((select t from since), '-infinity'::timestamptz)
        order by e.event_time, e.event_key`,
  );
  const inputs = new Map<string, DatasetRef>();
  const outputs = new Map<string, DatasetRef>();
  const columnFacets = new Map<string, ColumnLineageFacet>();
  for (const row of rows) {
    const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as StoredEvent;
    for (const input of payload.inputs ?? []) inputs.set(datasetKey(input), input);
    for (const output of payload.outputs ?? []) {
      outputs.set(datasetKey(output), output);
      const facet = output.facets?.columnLineage as (ColumnLineageFacet & { _deleted?: boolean }) | undefined;
      if (facet?._deleted) columnFacets.delete(datasetKey(output));
      else if (facet) columnFacets.set(datasetKey(output), facet);
    }
  }
  for (const facet of columnFacets.values())
    for (const field of inputFieldsOf(facet)) inputs.set(datasetKey(field), field);

  const ids = new Map<string, string>();
  for (const ref of [...inputs.values(), ...outputs.values()]) {
    const target = await resolver.resolve(ref);
    ids.set(datasetKey(ref), target.kind === 'connector' ? target.assetId : await ownedAssetId(w, target.asset));
  }
  const idOf = (ref: DatasetRef) => ids.get(datasetKey(ref))!;
  const properties = { job: jobUrn };
  const edges: EdgeSpec[] = [];
  for (const ref of inputs.values()) {
    edges.push({ fromAssetId: idOf(ref), toAssetId: jobId, kind: 'derives', properties });
  }
  for (const [key, ref] of outputs) {
    const facet = columnFacets.get(key);
    edges.push({
      fromAssetId: jobId,
      toAssetId: idOf(ref),
      kind: 'derives',
      properties,
      columns: facet ? columnMappings(facet, idOf) : [],
    });
  }
  return edges;
}

const subtypes = new Set<string>([...directSubtypes, ...indirectSubtypes]);

/**
 * Column lineage from a columnLineage facet. Each entry of an input field's `transformations` is one
 * mapping; without them, the older per-field `transformationType` (IDENTITY or MASKED) says how the
 * value was derived. The facet's `dataset` list affects the whole output (no target column).
 */
export function columnMappings(facet: ColumnLineageFacet, idOf: (ref: DatasetRef) => string): ColumnMapping[] {
  const mappings: ColumnMapping[] = [];
  const add = (
    field: InputField,
    toColumn: string | null,
    legacy: { type?: string | null; description?: string | null },
  ) => {
    const base = { fromAssetId: idOf(field), fromColumn: field.field, toColumn };
    if (field.transformations?.length) {
      for (const t of field.transformations) {
        const subtype = t.subtype?.toUpperCase();
        mappings.push({
          ...base,
          transformationType: t.type,
          transformationSubtype:
            subtype && subtypes.has(subtype) ? (subtype as ColumnMapping['transformationSubtype']) : null,
          sql: t.description || null,
        });
      }
      return;
    }
    const legacyType = legacy.type?.toUpperCase();
    mappings.push({
      ...base,
      transformationType: toColumn === null ? 'INDIRECT' : 'DIRECT',
      // MASKED: the value is derived (e.g. a hash), not copied.
      transformationSubtype:
        toColumn === null
          ? null
          : legacyType === 'IDENTITY'
            ? 'IDENTITY'
            : legacyType === 'MASKED'
              ? 'TRANSFORMATION'
              : null,
      sql: legacy.description || null,
    });
  };
  for (const [toColumn, spec] of Object.entries(facet.fields)) {
    for (const field of spec.inputFields) {
      add(field, toColumn, { type: spec.transformationType, description: spec.transformationDescription });
    }
  }
  for (const field of facet.dataset ?? []) add(field, null, {});
  return mappings;
}
