import { sql } from 'drizzle-orm';
import { queryRows, type Tx, uuidSet } from '../../db/create-db.js';
import { columnLineage, lineageEdges } from '../../db/schema/index.js';
import { propagateInto, propagationActor } from '../governance/propagation.js';

/** OpenLineage's column-lineage vocabulary. */
export const directSubtypes = ['IDENTITY', 'TRANSFORMATION', 'AGGREGATION'] as const;
export const indirectSubtypes = ['JOIN', 'GROUP_BY', 'FILTER', 'SORT', 'WINDOW', 'CONDITIONAL'] as const;
export type TransformationType = 'DIRECT' | 'INDIRECT';
export type TransformationSubtype = (typeof directSubtypes)[number] | (typeof indirectSubtypes)[number];

export interface ColumnMapping {
  /** The asset `fromColumn` belongs to when it is not the edge's source (column lineage carried by a job). */
  fromAssetId?: string | null;
  fromColumn: string;
  /** Null for INDIRECT lineage that affects the whole target (a join key, a filter). */
  toColumn: string | null;
  transformationType: TransformationType;
  transformationSubtype: TransformationSubtype | null;
  /** The SQL expression that produced the column, where known. */
  sql?: string | null;
}

export type EdgeKind = 'derives' | 'references';

export interface EdgeSpec {
  fromAssetId: string;
  toAssetId: string;
  kind: EdgeKind;
  /** Tells parallel edges apart: a foreign key's name, a job's URN. */
  name?: string;
  /** Where exactly the edge was learned (a view, an event's run, a manifest), shown with the edge. */
  properties?: Record<string, unknown>;
  columns?: ColumnMapping[];
}

/**
 * The current edges one writer owns: those of `origin` that end in `toAssetIds` or start at
 * `fromAssetIds`. A view's lineage is owned by the view (edges into it), a job's by the job.
 */
export interface EdgeScope {
  origin: string;
  toAssetIds?: string[];
  fromAssetIds?: string[];
}

export interface EdgeChanges {
  opened: number;
  closed: number;
}

/**
 * Makes `edges` the current lineage of `scope`. An edge whose endpoints, kind, name and column mappings
 * are unchanged stays as it is; one that vanished or changed is closed (valid_to = now) and its
 * replacement opened, so lineage can be asked as of any time. Running it twice changes nothing.
 */
export async function replaceEdges(tx: Tx, scope: EdgeScope, edges: EdgeSpec[], now: Date): Promise<EdgeChanges> {
  const current = await queryRows<{ id: string; key: string }>(
    tx,
    sql`select e.id, e.from_asset_id, e.to_asset_id, e.kind, e.name,
          coalesce((select json_agg(json_build_array(c.from_asset_id, c.from_column, c.to_column,
              c.transformation_type, c.transformation_subtype, c.sql))
            from column_lineage c where c.edge_id = e.id), '[]'::json)::text as columns
        from lineage_edges e
        where e.origin = ${scope.origin} and e.valid_to is null
          and (e.to_asset_id in ${uuidSet(scope.toAssetIds ?? [])}
            or e.from_asset_id in ${uuidSet(scope.fromAssetIds ?? [])})`,
  ).then((rows) =>
    rows.map((r) => {
      const row = r as unknown as Record<string, string>;
      const columns = (JSON.parse(row.columns!) as unknown[][]).map(
        ([fromAssetId, fromColumn, toColumn, transformationType, transformationSubtype, sqlText]) => ({
          fromAssetId,
          fromColumn,
          toColumn,
          transformationType,
          transformationSubtype,
          sql: sqlText,
        }),
      ) as ColumnMapping[];
      return {
        id: row.id!,
        key: edgeKey({
          fromAssetId: row.from_asset_id!,
          toAssetId: row.to_asset_id!,
          kind: row.kind as EdgeKind,
          name: row.name!,
          columns,
        }),
      };
    }),
  );

  const wanted = new Map<string, EdgeSpec>();
  for (const edge of edges) wanted.set(edgeKey(edge), edge);
  const kept = new Set<string>();
  const closing: string[] = [];
  for (const edge of current) {
    if (wanted.has(edge.key) && !kept.has(edge.key)) kept.add(edge.key);
    else closing.push(edge.id);
  }
  if (closing.length > 0) {
    await tx.execute(
      sql`update lineage_edges set valid_to = ${now.toISOString()}::timestamptz where id in ${uuidSet(closing)}`,
    );
  }
  const opening = [...wanted].filter(([key]) => !kept.has(key)).map(([, edge]) => edge);
  for (const edge of opening) {
    const [saved] = await tx
      .insert(lineageEdges)
      .values({
        fromAssetId: edge.fromAssetId,
        toAssetId: edge.toAssetId,
        kind: edge.kind,
        name: edge.name ?? '',
        origin: scope.origin,
        properties: edge.properties ?? {},
        validFrom: now,
      })
      .returning({ id: lineageEdges.id });
    const mappings = uniqueColumns(edge.columns ?? []);
    if (mappings.length > 0) {
      await tx.insert(columnLineage).values(
        mappings.map((c) => ({
          edgeId: saved!.id,
          fromAssetId: c.fromAssetId ?? null,
          fromColumn: c.fromColumn,
          toColumn: c.toColumn,
          transformationType: c.transformationType,
          transformationSubtype: c.transformationSubtype,
          sql: c.sql ?? null,
        })),
      );
    }
  }
  // New lineage may feed a higher marking into its targets: they carry at least their inputs' marking.
  const fed = [...new Set(opening.filter((e) => e.kind === 'derives').map((e) => e.toAssetId))];
  if (fed.length > 0) await propagateInto(tx, propagationActor, fed, now);
  return { opened: opening.length, closed: closing.length };
}

/** Identity of an edge for change detection; properties are provenance and do not make an edge new. */
function edgeKey(edge: EdgeSpec): string {
  const columns = uniqueColumns(edge.columns ?? [])
    .map(columnKey)
    .sort();
  return JSON.stringify([edge.fromAssetId, edge.toAssetId, edge.kind, edge.name ?? '', columns]);
}

function columnKey(c: ColumnMapping): string {
  return JSON.stringify([
    c.fromAssetId ?? null,
    c.fromColumn,
    c.toColumn,
    c.transformationType,
    c.transformationSubtype,
    c.sql ?? null,
  ]);
}

function uniqueColumns(mappings: ColumnMapping[]): ColumnMapping[] {
  return [...new Map(mappings.map((c) => [columnKey(c), c])).values()];
}
