import { asc, eq, inArray } from 'drizzle-orm';
import { columns } from '../../db/schema/index.js';
import { recordSchemaChange } from '../catalog/sync-changes.js';
import type { AssetWriter, FactColumn } from './producer-assets.js';

/** Columns of producer-owned assets: the producer's schema, with added, removed and retyped columns as activity. */

export function columnRow(assetId: string, c: FactColumn, index: number, now: Date) {
  return {
    assetId,
    name: c.name,
    position: index + 1,
    dataType: c.dataType || 'unknown',
    description: c.description || null,
    tags: c.tags ?? [],
    updatedAt: now,
  };
}

export function uniqueColumns(list: FactColumn[]): FactColumn[] {
  return [...new Map(list.map((c) => [c.name, c])).values()];
}

/** Makes the asset's columns the producer's schema; returns whether anything changed. */
export async function replaceColumns(
  w: AssetWriter,
  assetId: string,
  facts: FactColumn[],
  partial: boolean,
): Promise<boolean> {
  const before = await w.tx.select().from(columns).where(eq(columns.assetId, assetId)).orderBy(asc(columns.position));
  const byName = new Map(before.map((c) => [c.name, c]));
  const given = uniqueColumns(facts);
  // Partial knowledge removes nothing: columns it does not mention follow those it does.
  const mentioned = new Set(given.map((g) => g.name));
  const wanted = partial
    ? [...given, ...before.filter((c) => !mentioned.has(c.name)).map((c) => ({ name: c.name }))]
    : given;
  const after = wanted.map((c, i) => columnRow(assetId, c, i, w.now));
  const afterNames = new Set(after.map((c) => c.name));
  const added = after.filter((c) => !byName.has(c.name));
  const removed = before.filter((c) => !afterNames.has(c.name));
  const retyped: { name: string; from: string; to: string }[] = [];
  let changed = false;
  for (const c of after) {
    const old = byName.get(c.name);
    if (!old) continue;
    // A producer that says nothing about a type or a description does not erase what is known.
    const dataType = c.dataType === 'unknown' ? old.dataType : c.dataType;
    const description = c.description ?? old.description;
    const tags = [...new Set([...old.tags, ...c.tags])];
    if (dataType !== old.dataType) retyped.push({ name: c.name, from: old.dataType, to: dataType });
    if (
      dataType !== old.dataType ||
      description !== old.description ||
      c.position !== old.position ||
      tags.length !== old.tags.length
    ) {
      await w.tx
        .update(columns)
        .set({ dataType, description, position: c.position, tags, updatedAt: w.now })
        .where(eq(columns.id, old.id));
      changed = true;
    }
  }
  if (removed.length > 0) {
    await w.tx.delete(columns).where(
      inArray(
        columns.id,
        removed.map((c) => c.id),
      ),
    );
  }
  if (added.length > 0) {
    // Positions of kept columns may move onto those of removed ones: insert after the updates and deletes.
    await w.tx.insert(columns).values(added);
  }
  const schemaChanges = added.length + removed.length + retyped.length;
  await recordSchemaChange(w.tx, { assetId, actorId: w.ctx.principal.id, at: w.now, before, added, removed, retyped });
  w.stats.schemaChanges += schemaChanges;
  return changed || schemaChanges > 0;
}
