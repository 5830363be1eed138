import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import { DataOpsError } from '../../core/errors.js';
import { lineageEvents } from '../../db/schema/index.js';
import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import {
  createAssetWriter,
  embedNewAssets,
  fillConnectorAsset,
  finishWriter,
  upsertOwnedAsset,
} from './openlineage-assets.js';
import { createDatasetResolver, type DatasetRef, datasetFacts, datasetKey } from './openlineage-datasets.js';
import { inputFieldsOf, jobEdges, lineageColumnsOf } from './openlineage-lineage.js';
import { recordRun } from './openlineage-runs.js';
import { type DatasetFacets, type Job, type OpenLineageEvent, parseOpenLineageEvent } from './openlineage-schema.js';
import type { AssetWriter, OwnedAsset } from './producer-assets.js';
import { replaceEdges } from './store.js';

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
      // Producers' data-quality assertions become rules of the datasets and results of those rules (the
      // quality domain's work, reached through its hook).
      await ctx.hooks.openLineageRecorded(tx, ctx, (dataset) => resolver.visibleAssetId(dataset));
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
    for (const { ref, facets, lineageColumns } of datasetsOf(e)) {
      const target = await resolver.resolve(ref, facets, lineageColumns);
      if (target.kind === 'owned') owned.push(target.asset);
    }
  }
  return owned;
}

interface EventDataset {
  ref: DatasetRef;
  facets?: DatasetFacets;
  lineageColumns: string[];
}

function datasetsOf(e: OpenLineageEvent): EventDataset[] {
  if (e.category === 'dataset') return [{ ref: e.event.dataset, facets: e.event.dataset.facets, lineageColumns: [] }];
  const outputs = e.event.outputs ?? [];
  const columnsOf = lineageColumnsOf(outputs);
  const listed = [...(e.event.inputs ?? []), ...outputs].map((d) => ({ ref: d, facets: d.facets }));
  const named = outputs.flatMap((o) => inputFieldsOf(o.facets?.columnLineage)).map((ref) => ({ ref }));
  return [...listed, ...named].map(
    (d): EventDataset => ({ ...d, lineageColumns: columnsOf.get(datasetKey(d.ref)) ?? [] }),
  );
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

  for (const { ref, facets, lineageColumns } of datasetsOf(e))
    await describeDataset(w, resolver, ref, facets, lineageColumns, e.eventTime);
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
  lineageColumns: string[],
  eventTime: Date,
): Promise<string> {
  const target = await resolver.resolve(ref, facets, lineageColumns);
  if (target.kind === 'owned') return upsertOwnedAsset(w, target.asset, eventTime);
  const facts = datasetFacts(facets);
  if (Object.keys(facts).length > 0) await fillConnectorAsset(w, target.assetId, facts);
  return target.assetId;
}
