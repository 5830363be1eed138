import { sql } from 'drizzle-orm';
import { queryRows } from '../../db/create-db.js';
import { ownedAssetId } from './openlineage-assets.js';
import { type createDatasetResolver, type DatasetRef, datasetKey } from './openlineage-datasets.js';
import type { ColumnLineageFacet, InputField, OutputDataset } from './openlineage-schema.js';
import type { AssetWriter } from './producer-assets.js';
import { type ColumnMapping, directSubtypes, type EdgeSpec, indirectSubtypes } from './store.js';

/**
 * A job's lineage from its stored events. A run's datasets are the union over its events (START and
 * COMPLETE may each carry part of them). A run that COMPLETEs with datasets defines the job's lineage from
 * then on: datasets only earlier runs touched drop out. Runs in progress, failed or aborted only add, since
 * they may have stopped before reporting everything. A JobEvent's datasets count as a completed run. For
 * each output, the newest columnLineage facet wins.
 */

type Resolver = ReturnType<typeof createDatasetResolver>;

export function inputFieldsOf(facet: ColumnLineageFacet | undefined): InputField[] {
  if (!facet) return [];
  return [...Object.values(facet.fields).flatMap((f) => f.inputFields), ...(facet.dataset ?? [])];
}

/** The columns an event's columnLineage facets name, by dataset key: each output's fields and the input fields read. */
export function lineageColumnsOf(outputs: OutputDataset[]): Map<string, string[]> {
  const named = new Map<string, Set<string>>();
  const add = (ref: DatasetRef, column: string) => {
    const key = datasetKey(ref);
    named.set(key, (named.get(key) ?? new Set()).add(column));
  };
  for (const output of outputs) {
    const facet = output.facets?.columnLineage as (ColumnLineageFacet & { _deleted?: boolean }) | undefined;
    if (!facet || facet._deleted) continue;
    for (const column of Object.keys(facet.fields)) add(output, column);
    for (const field of inputFieldsOf(facet)) add(field, field.field);
  }
  return new Map([...named].map(([key, set]) => [key, [...set]]));
}

interface StoredEvent {
  inputs?: DatasetRef[] | null;
  outputs?: OutputDataset[] | null;
}

/** The job's current lineage, from its stored events (see the comment at the top of this file). */
export async function jobEdges(w: AssetWriter, resolver: Resolver, jobId: string, jobUrn: string): Promise<EdgeSpec[]> {
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
