import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../../db/create-db.js';
import { activityEvents, assets, columnLineage, columns, lineageEdges } from '../../db/schema/index.js';
import type { SourceSnapshot } from '../connectors/types.js';
import type { ServiceContext } from '../context.js';
import { bulkInsert } from './bulk-insert.js';
import { reindexAssets } from './search-index.js';
import { assetValues, columnValues, type ExistingAsset, type Planned, statsOf } from './sync-rows.js';
import { assetUrn } from './urn.js';

/** Fields a person may curate in the catalog; the source's value does not overwrite theirs. */
const curatable = ['description', 'owner'] as const;

/**
 * Updates a changed asset and its columns, recording added, removed and retyped columns as activity.
 * Returns how many schema changes it found.
 */
export async function updateAsset(
  tx: Tx,
  ctx: ServiceContext,
  current: ExistingAsset,
  p: Planned,
  now: Date,
): Promise<number> {
  const actorId = ctx.principal.id;
  const values: Record<string, unknown> = assetValues(p, now);
  for (const field of curatable) if (current.curatedFields.includes(field)) delete values[field];
  await tx.update(assets).set(values).where(eq(assets.id, current.id));
  if (current.status !== 'active') {
    await tx.insert(activityEvents).values({
      assetId: current.id,
      type: 'restored',
      actorId,
      summary: 'Found in the source again; active once more',
      at: now,
    });
  }

  const before = await tx.select().from(columns).where(eq(columns.assetId, current.id));
  const beforeByName = new Map(before.map((c) => [c.name, c]));
  const after = columnValues(current.id, p.discovered, now);
  const afterNames = new Set(after.map((c) => c.name));
  const added = after.filter((c) => !beforeByName.has(c.name));
  const removed = before.filter((c) => !afterNames.has(c.name));
  const retyped = after
    .filter((c) => beforeByName.has(c.name) && beforeByName.get(c.name)!.dataType !== c.dataType)
    .map((c) => ({ name: c.name, from: beforeByName.get(c.name)!.dataType, to: c.dataType }));

  if (removed.length > 0) {
    await tx.delete(columns).where(
      inArray(
        columns.id,
        removed.map((c) => c.id),
      ),
    );
  }
  const addedRows = added.length > 0 ? await withEarlierCuration(tx, current.id, added) : [];
  if (addedRows.length > 0) await tx.insert(columns).values(addedRows);
  for (const c of after.filter((col) => beforeByName.has(col.name))) {
    const old = beforeByName.get(c.name)!;
    const { assetId: _assetId, description, ...sourceFacts } = c;
    // A steward's column description survives re-ingestion when the source has none.
    await tx
      .update(columns)
      .set({ ...sourceFacts, description: description ?? old.description })
      .where(eq(columns.id, old.id));
  }

  const schemaChanges = added.length + removed.length + retyped.length;
  await recordSchemaChange(tx, { assetId: current.id, actorId, at: now, before, added: addedRows, removed, retyped });

  await reindexAssets(tx, ctx.embedder, [current.id]);
  return schemaChanges;
}

type NewColumn = ReturnType<typeof columnValues>[number];
type Curation = Pick<typeof columns.$inferSelect, 'classification' | 'sensitivity' | 'tags' | 'description'>;

/**
 * A column dropped and added again (a type change done as drop and add, a rollback) gets back the
 * marking, sensitivity, tags and description it had, from the activity that recorded its removal:
 * a re-added SSN column must not come back unmarked.
 */
async function withEarlierCuration(tx: Tx, assetId: string, added: NewColumn[]) {
  const history = await tx
    .select({ details: activityEvents.details })
    .from(activityEvents)
    .where(and(eq(activityEvents.assetId, assetId), eq(activityEvents.type, 'schema_changed')))
    .orderBy(desc(activityEvents.at));
  const earlier = new Map<string, Curation>();
  for (const event of history) {
    for (const c of (event.details as { removed?: (Curation & { name: string })[] })?.removed ?? []) {
      if (!earlier.has(c.name)) earlier.set(c.name, c);
    }
  }
  return added.map((c) => {
    const before = earlier.get(c.name);
    if (!before) return c;
    return {
      ...c,
      classification: before.classification ?? null,
      sensitivity: before.sensitivity ?? null,
      tags: before.tags ?? [],
      description: c.description ?? before.description ?? null,
    };
  });
}

/** Updates row counts, sizes and modification times that moved while the structure stayed the same. */
export async function refreshStats(
  tx: Tx,
  unchanged: Planned[],
  existingByUrn: Map<string, ExistingAsset>,
  now: Date,
): Promise<number> {
  let refreshed = 0;
  for (const p of unchanged) {
    const current = existingByUrn.get(p.urn)!;
    const stats = statsOf(p.discovered);
    const same =
      stats.rowCount === current.rowCount &&
      stats.sizeBytes === current.sizeBytes &&
      (stats.lastModified?.getTime() ?? null) === (current.lastModified?.getTime() ?? null);
    if (same) continue;
    await tx
      .update(assets)
      .set({ ...stats, updatedAt: now })
      .where(eq(assets.id, current.id));
    refreshed++;
  }
  return refreshed;
}

/**
 * Keeps `references` lineage edges in step with the source's foreign keys: a key that is gone, or now
 * points elsewhere, has its edge closed (valid_to set) and a new key opens one, so lineage can be
 * asked as of any time. Returns how many edges were opened or closed.
 */
export async function syncForeignKeys(
  tx: Tx,
  snapshot: SourceSnapshot,
  planned: Planned[],
  ids: Map<string, string>,
  now: Date,
): Promise<number> {
  const sourceAssetIds = [...ids.values()];
  if (sourceAssetIds.length === 0) return 0;
  const keyOf = (fromId: string, name: string, toId: string, cols: unknown, refCols: unknown) =>
    JSON.stringify([fromId, name, toId, cols, refCols]);
  const current = await tx
    .select()
    .from(lineageEdges)
    .where(
      and(
        inArray(lineageEdges.fromAssetId, sourceAssetIds),
        eq(lineageEdges.kind, 'references'),
        eq(lineageEdges.origin, snapshot.kind),
        isNull(lineageEdges.validTo),
      ),
    );
  const currentByKey = new Map(
    current.map((e) => [keyOf(e.fromAssetId, e.name, e.toAssetId, e.properties.columns, e.properties.refColumns), e]),
  );
  const wanted = new Map<
    string,
    { fromAssetId: string; toAssetId: string; fk: NonNullable<Planned['discovered']['foreignKeys']>[number] }
  >();
  for (const p of planned) {
    for (const fk of p.discovered.foreignKeys ?? []) {
      const fromAssetId = ids.get(p.urn)!;
      const toAssetId = ids.get(assetUrn(snapshot.kind, snapshot.name, fk.refNamespace, fk.refName));
      // A key to a table outside what was ingested has no asset to point at (yet).
      if (!toAssetId) continue;
      wanted.set(keyOf(fromAssetId, fk.name, toAssetId, fk.columns, fk.refColumns), { fromAssetId, toAssetId, fk });
    }
  }
  const closed = current.filter(
    (e) => !wanted.has(keyOf(e.fromAssetId, e.name, e.toAssetId, e.properties.columns, e.properties.refColumns)),
  );
  if (closed.length > 0) {
    await tx
      .update(lineageEdges)
      .set({ validTo: now })
      .where(
        inArray(
          lineageEdges.id,
          closed.map((e) => e.id),
        ),
      );
  }
  const opened = [...wanted.entries()].filter(([key]) => !currentByKey.has(key)).map(([, w]) => w);
  // All new edges in one statement, then all their column pairs: a large source has thousands of keys.
  const edges = await bulkInsert<{ id: string; from_asset_id: string; to_asset_id: string; name: string }>(
    tx,
    lineageEdges,
    opened.map((w) => ({
      fromAssetId: w.fromAssetId,
      toAssetId: w.toAssetId,
      kind: 'references',
      name: w.fk.name,
      origin: snapshot.kind,
      validFrom: now,
      properties: { columns: w.fk.columns, refColumns: w.fk.refColumns },
    })),
    { returning: sql`id::text, from_asset_id::text, to_asset_id::text, name` },
  );
  // One open edge per (from, name, to): the current-edge unique index says so.
  const edgeIds = new Map(edges.map((e) => [JSON.stringify([e.from_asset_id, e.name, e.to_asset_id]), e.id]));
  await bulkInsert(
    tx,
    columnLineage,
    opened.flatMap((w) =>
      w.fk.columns.map((column, i) => ({
        edgeId: edgeIds.get(JSON.stringify([w.fromAssetId, w.fk.name, w.toAssetId]))!,
        fromColumn: column,
        toColumn: w.fk.refColumns[i] ?? column,
      })),
    ),
  );
  return closed.length + opened.length;
}

type ColumnRow = typeof columns.$inferSelect;

/**
 * Records columns added, removed and retyped as one `schema_changed` event (none when nothing changed),
 * worded alike whoever changed the table: a source sync or a pipeline publishing its output.
 */
export async function recordSchemaChange(
  tx: Tx,
  change: {
    assetId: string;
    actorId: string;
    at: Date;
    /** The columns before the change. */
    before: ColumnRow[];
    added: { name: string; dataType: string; classification?: string | null }[];
    removed: ColumnRow[];
    retyped: { name: string; from: string; to: string }[];
  },
): Promise<void> {
  const { before, added, removed, retyped } = change;
  if (added.length + removed.length + retyped.length === 0) return;
  const marked = markedColumnNames([
    ...added,
    ...removed,
    ...before.filter((c) => retyped.some((r) => r.name === c.name)),
  ]);
  await tx.insert(activityEvents).values({
    assetId: change.assetId,
    type: 'schema_changed',
    actorId: change.actorId,
    summary: schemaChangeSummary(
      { added: added.map((c) => c.name), removed: removed.map((c) => c.name), retyped },
      marked,
    ),
    details: {
      added: added.map((c) => ({ name: c.name, dataType: c.dataType })),
      // What people said about a removed column is kept here, so a column re-added later gets it back.
      removed: removed.map((c) => ({
        name: c.name,
        dataType: c.dataType,
        classification: c.classification,
        sensitivity: c.sensitivity,
        tags: c.tags,
        description: c.description,
      })),
      retyped,
    },
    at: change.at,
  });
}

/** Names of the columns marked above U, among columns as stored (a column without a marking has none). */
export function markedColumnNames(list: ({ name: string } | { name: string; classification: string | null })[]) {
  return new Set(
    list.filter((c) => 'classification' in c && c.classification && c.classification !== 'U').map((c) => c.name),
  );
}

/**
 * The line recorded for a schema change. Everybody who may see the asset reads it, so a column marked
 * above U is counted, not named (the event's details keep the names).
 */
export function schemaChangeSummary(
  change: { added: string[]; removed: string[]; retyped: { name: string; from: string; to: string }[] },
  marked: Set<string>,
): string {
  const describe = (items: { name: string; label: string }[]) => {
    const shown = items.filter((i) => !marked.has(i.name)).map((i) => i.label);
    const hidden = items.length - shown.length;
    if (hidden > 0) shown.push(`${hidden} marked column${hidden === 1 ? '' : 's'}`);
    return shown.join(', ');
  };
  const byName = (name: string) => ({ name, label: name });
  const parts = [
    change.added.length ? `added ${describe(change.added.map(byName))}` : '',
    change.removed.length ? `removed ${describe(change.removed.map(byName))}` : '',
    change.retyped.length
      ? `retyped ${describe(change.retyped.map((c) => ({ name: c.name, label: `${c.name} (${c.from} → ${c.to})` })))}`
      : '',
  ];
  return `Schema changed: ${parts.filter(Boolean).join('; ')}`;
}
