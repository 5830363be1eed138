import { and, eq, inArray } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import type { Tx } from '../../db/create-db.js';
import { activityEvents, assets, columns, sources } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { embeddingText, searchDocumentSql } from '../catalog/search-document.js';
import { reindexAssets } from '../catalog/search-index.js';
import type { ServiceContext } from '../context.js';
import { columnRow, replaceColumns, uniqueColumns } from './openlineage-columns.js';
import type { AssetFacts, AssetWriter, OwnedAsset, SourceRow } from './producer-assets.js';

/**
 * Assets that lineage producers describe (OpenLineage jobs and datasets, dbt models and exposures), and
 * the metadata producers add to assets a database connector owns. Shared by OpenLineage and dbt ingestion.
 */

const curatableTags = 'tags';

export function createAssetWriter(
  tx: Tx,
  ctx: ServiceContext,
  now: Date,
  embeddings: Map<string, number[]>,
): AssetWriter {
  return {
    tx,
    ctx,
    now,
    embeddings,
    stats: { created: 0, updated: 0, restored: 0, schemaChanges: 0 },
    changed: new Set(),
    sourceIds: new Map(),
  };
}

function searchable(asset: OwnedAsset) {
  return {
    name: asset.name,
    namespace: asset.namespace,
    description: asset.facts.description ?? null,
    tags: asset.facts.tags ?? [],
    columns: (asset.facts.columns ?? []).map((c) => ({ name: c.name, description: c.description ?? null })),
  };
}

/**
 * Embeds the assets that are not in the catalog yet, before any transaction opens, so a slow embedding
 * service holds no locks (as a source sync does).
 */
export async function embedNewAssets(ctx: ServiceContext, owned: OwnedAsset[]): Promise<Map<string, number[]>> {
  const unique = [...new Map(owned.map((a) => [a.urn, a])).values()];
  const known = new Set<string>();
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await ctx.db
      .select({ urn: assets.urn })
      .from(assets)
      .where(
        inArray(
          assets.urn,
          unique.slice(i, i + 500).map((a) => a.urn),
        ),
      );
    for (const row of rows) known.add(row.urn);
  }
  const fresh = unique.filter((a) => !known.has(a.urn));
  const vectors = await ctx.embedder.embed(fresh.map((a) => embeddingText(searchable(a))));
  return new Map(fresh.map((a, i) => [a.urn, vectors[i]!]));
}

async function ensureSource(w: AssetWriter, source: OwnedAsset['source']): Promise<SourceRow> {
  const key = `${source.kind}\u0000${source.name}`;
  const cached = w.sourceIds.get(key);
  if (cached) return cached;
  const columnsOf = { id: sources.id, classification: sources.classification, domainId: sources.domainId };
  let [row] = await w.tx
    .select(columnsOf)
    .from(sources)
    .where(and(eq(sources.kind, source.kind), eq(sources.name, source.name)));
  if (!row) {
    [row] = await w.tx
      .insert(sources)
      .values({ kind: source.kind, name: source.name, location: source.location, lastSyncedAt: w.now })
      .onConflictDoNothing({ target: [sources.kind, sources.name] })
      .returning(columnsOf);
    row ??= (
      await w.tx
        .select(columnsOf)
        .from(sources)
        .where(and(eq(sources.kind, source.kind), eq(sources.name, source.name)))
    )[0];
  }
  w.sourceIds.set(key, row!);
  return row!;
}

/**
 * Records that a producer's source was heard from now (its location may have moved, e.g. a manifest path),
 * with the marking and domain for the assets it adds when they are given.
 */
export async function touchSource(
  w: AssetWriter,
  source: OwnedAsset['source'],
  defaults: { classification?: Classification; domainId?: string } = {},
): Promise<string> {
  const row = await ensureSource(w, source);
  // A marking or domain given now applies to the assets the source adds from now on, as for a sync.
  const next = { ...row, ...defaults };
  await w.tx
    .update(sources)
    .set({
      location: source.location,
      lastSyncedAt: w.now,
      classification: next.classification,
      domainId: next.domainId,
    })
    .where(eq(sources.id, row.id));
  w.sourceIds.set(`${source.kind}\u0000${source.name}`, next);
  return row.id;
}

/** The asset's id, creating it (with what the producer says) when the catalog does not have it yet. */
export async function ownedAssetId(w: AssetWriter, asset: OwnedAsset): Promise<string> {
  const [current] = await w.tx.select({ id: assets.id }).from(assets).where(eq(assets.urn, asset.urn));
  return current?.id ?? (await insertOwnedAsset(w, asset)) ?? ownedAssetId(w, asset);
}

/**
 * Creates the asset, or brings it in line with what the producer now says: description, owner and
 * tags unless a person curated them, columns (added, removed and retyped ones become activity), kind,
 * definition and properties. Saying the same thing twice changes nothing. With `asOf`, news older than
 * what the asset was last told is ignored, so events that arrive out of order cannot undo newer facts.
 * Returns the asset id.
 */
export async function upsertOwnedAsset(w: AssetWriter, asset: OwnedAsset, asOf?: Date): Promise<string> {
  const [current] = await w.tx.select().from(assets).where(eq(assets.urn, asset.urn));
  if (!current) {
    const created = await insertOwnedAsset(w, asset, asOf);
    if (created) return created;
    return upsertOwnedAsset(w, asset, asOf);
  }
  const { observedAt, ...currentProperties } = current.properties as Record<string, unknown>;
  if (asOf && typeof observedAt === 'string' && Date.parse(observedAt) > asOf.getTime()) return current.id;
  const curated = new Set(current.curatedFields);
  const patch: Partial<typeof assets.$inferInsert> = {};
  const { facts } = asset;
  if (facts.description !== undefined && !curated.has('description') && current.description !== facts.description)
    patch.description = facts.description;
  if (facts.owner !== undefined && !curated.has('owner') && current.owner !== facts.owner) patch.owner = facts.owner;
  const tags = mergeTags(current.tags, facts.tags, curated);
  if (tags) patch.tags = tags;
  if (current.kind !== asset.kind && !asset.guessedKind) patch.kind = asset.kind;
  if (current.namespace !== asset.namespace) patch.namespace = asset.namespace;
  if (current.name !== asset.name) patch.name = asset.name;
  if (current.qualifiedName !== asset.qualifiedName) patch.qualifiedName = asset.qualifiedName;
  if (asset.definition !== undefined && current.definition !== asset.definition) patch.definition = asset.definition;
  const properties =
    asset.properties && (asset.mergeProperties ? merged(currentProperties, asset.properties) : asset.properties);
  if (properties && canonicalJson(currentProperties) !== canonicalJson(properties)) patch.properties = properties;
  if (current.status !== 'active') {
    patch.status = 'active';
    w.stats.restored++;
    await w.tx.insert(activityEvents).values({
      assetId: current.id,
      type: 'restored',
      actorId: w.ctx.principal.id,
      summary: `Described by ${asset.source.kind} ${asset.source.name} again; active once more`,
      at: w.now,
    });
  }
  const schemaChanged = facts.columns
    ? await replaceColumns(w, current.id, facts.columns, facts.partialColumns ?? false)
    : false;
  if (Object.keys(patch).length > 0 || schemaChanged) {
    if (asOf) patch.properties = { ...(properties ?? currentProperties), observedAt: asOf.toISOString() };
    if (Object.keys(patch).length > 0) {
      await w.tx
        .update(assets)
        .set({ ...patch, updatedAt: w.now })
        .where(eq(assets.id, current.id));
    }
    if (current.status === 'active') w.stats.updated++;
    w.changed.add(current.id);
  }
  return current.id;
}

async function insertOwnedAsset(w: AssetWriter, asset: OwnedAsset, asOf?: Date): Promise<string | null> {
  const source = await ensureSource(w, asset.source);
  const embedding = w.embeddings.get(asset.urn) ?? (await w.ctx.embedder.embed([embeddingText(searchable(asset))]))[0];
  const [row] = await w.tx
    .insert(assets)
    .values({
      urn: asset.urn,
      sourceId: source.id,
      domainId: source.domainId,
      classification: source.classification,
      kind: asset.kind,
      namespace: asset.namespace,
      name: asset.name,
      qualifiedName: asset.qualifiedName,
      description: asset.facts.description ?? null,
      owner: asset.facts.owner ?? null,
      tags: [...new Set(asset.facts.tags ?? [])],
      definition: asset.definition ?? null,
      properties: asOf ? { ...asset.properties, observedAt: asOf.toISOString() } : (asset.properties ?? {}),
      embedding,
      embeddingModel: w.ctx.embedder.modelId,
      searchDocument: searchDocumentSql(searchable(asset)),
      createdAt: w.now,
      updatedAt: w.now,
    })
    .onConflictDoNothing({ target: assets.urn })
    .returning({ id: assets.id });
  // Another writer created it a moment ago: update it instead.
  if (!row) return null;
  const factColumns = uniqueColumns(asset.facts.columns ?? []);
  if (factColumns.length > 0) {
    await w.tx.insert(columns).values(factColumns.map((c, i) => columnRow(row.id, c, i, w.now)));
  }
  await w.tx.insert(activityEvents).values({
    assetId: row.id,
    type: 'created',
    actorId: w.ctx.principal.id,
    summary: `Described by ${asset.source.kind} ${asset.source.name}${factColumns.length ? ` with ${factColumns.length} columns` : ''}`,
    at: w.now,
  });
  w.stats.created++;
  return row.id;
}

function merged(current: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [key, value] of Object.entries(next)) {
    const before = current[key];
    const bothObjects = [before, value].every((v) => v && typeof v === 'object' && !Array.isArray(v));
    out[key] = bothObjects ? { ...(before as object), ...(value as object) } : value;
  }
  return out;
}

function mergeTags(current: string[], tags: string[] | undefined, curated: Set<string>): string[] | null {
  if (!tags || curated.has(curatableTags)) return null;
  const missing = tags.filter((t) => !current.includes(t));
  if (missing.length === 0) return null;
  return [...current, ...new Set(missing)];
}

/**
 * Adds a producer's documentation to an asset a database connector owns, without fighting the connector:
 * the description and column descriptions only where there are none, tags added, and the owner where
 * no person set one (a database role is not much of an owner). Columns are the connector's.
 */
export async function fillConnectorAsset(w: AssetWriter, assetId: string, facts: AssetFacts): Promise<void> {
  const [current] = await w.tx.select().from(assets).where(eq(assets.id, assetId));
  if (!current) return;
  const curated = new Set(current.curatedFields);
  const patch: Partial<typeof assets.$inferInsert> = {};
  if (facts.description && !current.description && !curated.has('description')) patch.description = facts.description;
  if (facts.owner && !curated.has('owner') && current.owner !== facts.owner) patch.owner = facts.owner;
  const tags = mergeTags(current.tags, facts.tags, curated);
  if (tags) patch.tags = tags;
  let columnsChanged = false;
  const described = (facts.columns ?? []).filter((c) => c.description || c.tags?.length);
  if (described.length > 0) {
    const existing = await w.tx.select().from(columns).where(eq(columns.assetId, assetId));
    const byName = new Map(existing.map((c) => [c.name, c]));
    for (const c of described) {
      const old = byName.get(c.name) ?? existing.find((e) => e.name.toLowerCase() === c.name.toLowerCase());
      if (!old) continue;
      const description = old.description ?? (c.description || null);
      const columnTags = [...new Set([...old.tags, ...(c.tags ?? [])])];
      if (description === old.description && columnTags.length === old.tags.length) continue;
      await w.tx.update(columns).set({ description, tags: columnTags, updatedAt: w.now }).where(eq(columns.id, old.id));
      columnsChanged = true;
    }
  }
  if (Object.keys(patch).length === 0 && !columnsChanged) return;
  if (Object.keys(patch).length > 0) {
    await w.tx
      .update(assets)
      .set({ ...patch, updatedAt: w.now })
      .where(eq(assets.id, assetId));
  }
  w.stats.updated++;
  w.changed.add(assetId);
}

/** Marks a producer's assets that it no longer describes as deprecated (never deleted), with activity. */
export async function deprecateAssets(
  w: AssetWriter,
  vanished: { id: string; qualifiedName: string }[],
  why: string,
): Promise<number> {
  if (vanished.length === 0) return 0;
  await w.tx
    .update(assets)
    .set({ status: 'deprecated', updatedAt: w.now })
    .where(
      inArray(
        assets.id,
        vanished.map((a) => a.id),
      ),
    );
  await w.tx.insert(activityEvents).values(
    vanished.map((a) => ({
      assetId: a.id,
      type: 'deprecated',
      actorId: w.ctx.principal.id,
      summary: why,
      at: w.now,
    })),
  );
  return vanished.length;
}

/** Rebuilds the search documents and embeddings of the assets this writer changed. */
export async function finishWriter(w: AssetWriter): Promise<void> {
  await reindexAssets(w.tx, w.ctx.embedder, [...w.changed]);
}
