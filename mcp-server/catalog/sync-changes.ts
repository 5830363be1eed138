import { and, eq, inArray, isNull } from 'drizzle-orm';
import { activityEvents, assets, columnLineage, columns, lineageEdges } from '../../db/schema/index.js';
import type { SourceSnapshot } from '../connectors/types.js';
import { searchDocumentSql } from './search-document.js';
import { assetValues, columnValues, type ExistingAsset, type Planned, type Tx } from './sync.js';
import { assetUrn } from './urn.js';

/** Fields a person may curate in the catalog; the source's value does not overwrite theirs. */
const curatable = ['description', 'owner'] as const;

/** Updates a changed asset and its columns, recording added, removed and retyped columns as activity. */
export async function updateAsset(
  tx: Tx,
  current: ExistingAsset,
  p: Planned,
  actorId: string,
  now: Date,
): Promise<{ schemaChanges: number }> {
  const values: Record<string, unknown> = assetValues(p, now);
  for (const field of curatable) if (current.curatedFields.includes(field)) delete values[field];
  const [asset] = await tx.update(assets).set(values).where(eq(assets.id, current.id)).returning();
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
  if (added.length > 0) await tx.insert(columns).values(added);
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
  if (schemaChanges > 0) {
    const parts = [
      added.length ? `added ${added.map((c) => c.name).join(', ')}` : '',
      removed.length ? `removed ${removed.map((c) => c.name).join(', ')}` : '',
      retyped.length ? `retyped ${retyped.map((c) => `${c.name} (${c.from} → ${c.to})`).join(', ')}` : '',
    ].filter(Boolean);
    await tx.insert(activityEvents).values({
      assetId: current.id,
      type: 'schema_changed',
      actorId,
      summary: `Schema changed: ${parts.join('; ')}`,
      details: {
        added: added.map((c) => ({ name: c.name, dataType: c.dataType })),
        removed: removed.map((c) => ({ name: c.name, dataType: c.dataType })),
        retyped,
      },
      at: now,
    });
  }

  const columnRows = await tx
    .select({ name: columns.name, description: columns.description })
    .from(columns)
    .where(eq(columns.assetId, current.id));
  await tx
    .update(assets)
    .set({ searchDocument: searchDocumentSql({ ...asset!, columns: columnRows }) })
    .where(eq(assets.id, current.id));
  return { schemaChanges };
}

/**
 * Keeps `references` lineage edges in step with the foreign keys of changed assets: a dropped key's
 * edge is closed (valid_to set), a new key opens an edge, so lineage can be asked as of any time.
 */
export async function syncForeignKeys(
  tx: Tx,
  snapshot: SourceSnapshot,
  changed: Planned[],
  ids: Map<string, string>,
  now: Date,
): Promise<void> {
  const changedIds = changed.map((p) => ids.get(p.urn)!).filter(Boolean);
  if (changedIds.length === 0) return;
  const current = await tx
    .select({ id: lineageEdges.id, fromAssetId: lineageEdges.fromAssetId, name: lineageEdges.name })
    .from(lineageEdges)
    .where(
      and(
        inArray(lineageEdges.fromAssetId, changedIds),
        eq(lineageEdges.kind, 'references'),
        eq(lineageEdges.origin, snapshot.kind),
        isNull(lineageEdges.validTo),
      ),
    );
  const currentKeys = new Map(current.map((e) => [`${e.fromAssetId}\u0000${e.name}`, e.id]));
  const wanted = changed.flatMap((p) =>
    (p.discovered.foreignKeys ?? []).map((fk) => ({
      fromAssetId: ids.get(p.urn)!,
      toAssetId: ids.get(assetUrn(snapshot.kind, snapshot.name, fk.refNamespace, fk.refName)),
      fk,
    })),
  );
  const wantedKeys = new Set(wanted.map((w) => `${w.fromAssetId}\u0000${w.fk.name}`));
  const closed = current.filter((e) => !wantedKeys.has(`${e.fromAssetId}\u0000${e.name}`)).map((e) => e.id);
  if (closed.length > 0) {
    await tx.update(lineageEdges).set({ validTo: now }).where(inArray(lineageEdges.id, closed));
  }
  for (const w of wanted) {
    // A key to a table outside the ingested schemas has no asset to point at.
    if (!w.toAssetId || currentKeys.has(`${w.fromAssetId}\u0000${w.fk.name}`)) continue;
    const [edge] = await tx
      .insert(lineageEdges)
      .values({
        fromAssetId: w.fromAssetId,
        toAssetId: w.toAssetId,
        kind: 'references',
        name: w.fk.name,
        origin: snapshot.kind,
        validFrom: now,
        properties: { columns: w.fk.columns, refColumns: w.fk.refColumns },
      })
      .returning({ id: lineageEdges.id });
    await tx.insert(columnLineage).values(
      w.fk.columns.map((column, i) => ({
        edgeId: edge!.id,
        fromColumn: column,
        toColumn: w.fk.refColumns[i] ?? column,
      })),
    );
  }
}
