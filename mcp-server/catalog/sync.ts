import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { activityEvents, assets, columns, sources } from '../../db/schema/index.js';
import type { DiscoveredAsset, SourceSnapshot } from '../connectors/types.js';
import type { ServiceContext } from '../context.js';
import { DataOpsError } from '../errors.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { embeddingText, searchDocumentSql } from './search-document.js';
import { syncForeignKeys, updateAsset } from './sync-changes.js';
import { assetUrn } from './urn.js';

export type Tx = Parameters<Parameters<ServiceContext['db']['transaction']>[0]>[0];

export interface SyncSummary {
  source: string;
  assets: number;
  added: number;
  updated: number;
  unchanged: number;
  deprecated: number;
  restored: number;
  schemaChanges: number;
  errors: { object: string; message: string }[];
}

export interface Planned {
  discovered: DiscoveredAsset;
  urn: string;
  fingerprint: string;
  embedding?: number[];
  embeddingModel?: string;
}

export interface ExistingAsset {
  id: string;
  urn: string;
  sourceFingerprint: string | null;
  status: string;
  curatedFields: string[];
}

const insertBatchSize = 500;

/**
 * Brings the catalog in line with a source snapshot in one transaction: new assets are added, changed
 * ones updated with their schema changes recorded as activity, vanished ones deprecated (never deleted).
 * Running it again on the same snapshot changes nothing.
 */
export async function syncSource(ctx: ServiceContext, snapshot: SourceSnapshot): Promise<SyncSummary> {
  requireRole(ctx.principal, 'ingest sources', 'steward', 'owner');
  const now = ctx.clock();
  const [source] = await ctx.db
    .select()
    .from(sources)
    .where(and(eq(sources.kind, snapshot.kind), eq(sources.name, snapshot.name)));
  const existing = source
    ? await ctx.db
        .select({
          id: assets.id,
          urn: assets.urn,
          sourceFingerprint: assets.sourceFingerprint,
          status: assets.status,
          curatedFields: assets.curatedFields,
        })
        .from(assets)
        .where(eq(assets.sourceId, source.id))
    : [];
  const existingByUrn = new Map(existing.map((a) => [a.urn, a]));
  const planned: Planned[] = snapshot.assets.map((discovered) => ({
    discovered,
    urn: assetUrn(snapshot.kind, snapshot.name, discovered.namespace, discovered.name),
    fingerprint: fingerprint(discovered),
  }));
  const changed = planned.filter((p) => {
    const current = existingByUrn.get(p.urn);
    return !current || current.sourceFingerprint !== p.fingerprint || current.status !== 'active';
  });
  // Embed before the transaction so a slow embedding service never holds catalog locks.
  const vectors = await ctx.embedder.embed(changed.map((p) => embeddingText({ ...p.discovered, tags: [] })));
  changed.forEach((p, i) => {
    p.embedding = vectors[i];
    p.embeddingModel = ctx.embedder.modelId;
  });

  return runInTransaction(ctx, `${snapshot.kind} source ${snapshot.name}`, async (tx) => {
    const summary: SyncSummary = {
      source: snapshot.name,
      assets: planned.length,
      added: 0,
      updated: 0,
      unchanged: planned.length - changed.length,
      deprecated: 0,
      restored: 0,
      schemaChanges: 0,
      errors: snapshot.errors,
    };
    const [saved] = await tx
      .insert(sources)
      .values({
        kind: snapshot.kind,
        name: snapshot.name,
        location: snapshot.location,
        lastSyncedAt: now,
        lastSyncErrors: snapshot.errors,
      })
      .onConflictDoUpdate({
        target: [sources.kind, sources.name],
        set: { location: snapshot.location, lastSyncedAt: now, lastSyncErrors: snapshot.errors },
      })
      .returning({ id: sources.id });
    const sourceId = saved!.id;

    const fresh = changed.filter((p) => !existingByUrn.has(p.urn));
    const ids = new Map(existing.map((a) => [a.urn, a.id]));
    for (const [urn, id] of await insertAssets(tx, sourceId, snapshot.kind, fresh, now)) ids.set(urn, id);
    summary.added = fresh.length;

    for (const p of changed.filter((c) => existingByUrn.has(c.urn))) {
      const current = existingByUrn.get(p.urn)!;
      const outcome = await updateAsset(tx, current, p, ctx.principal.id, now);
      if (current.status !== 'active') summary.restored++;
      else summary.updated++;
      summary.schemaChanges += outcome.schemaChanges;
    }

    const seen = new Set(planned.map((p) => p.urn));
    const vanished = existing.filter((a) => !seen.has(a.urn) && a.status === 'active');
    if (vanished.length > 0) {
      await tx
        .update(assets)
        .set({ status: 'deprecated', updatedAt: now })
        .where(
          inArray(
            assets.id,
            vanished.map((a) => a.id),
          ),
        );
      await insertInBatches(
        tx,
        activityEvents,
        vanished.map((a) => ({
          assetId: a.id,
          type: 'deprecated',
          actorId: ctx.principal.id,
          summary: `No longer found in ${snapshot.kind} source ${snapshot.name}; marked deprecated`,
          at: now,
        })),
      );
      summary.deprecated = vanished.length;
    }

    await syncForeignKeys(tx, snapshot, changed, ids, now);
    if (changed.length > 0 || vanished.length > 0 || !source) {
      await appendAudit(tx, {
        actorId: ctx.principal.id,
        action: 'source.sync',
        targetUrn: null,
        at: now,
        details: { kind: snapshot.kind, ...summary, errors: snapshot.errors.length },
      });
    }
    return summary;
  });
}

/** Runs the sync transaction; a database failure becomes one clear line saying nothing was changed. */
async function runInTransaction<T>(ctx: ServiceContext, what: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await ctx.db.transaction(work);
  } catch (error) {
    if (error instanceof DataOpsError) throw error;
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    throw new DataOpsError('internal', `syncing ${what} failed and nothing was changed: ${cause.message}`, {
      cause: error,
    });
  }
}

function fingerprint(asset: DiscoveredAsset): string {
  return createHash('sha256').update(JSON.stringify(asset)).digest('hex');
}

/** `schema.table` for databases, `dir/file.csv` for files. */
function qualifiedName(d: DiscoveredAsset): string {
  if (!d.namespace) return d.name;
  return `${d.namespace}${d.kind === 'file' ? '/' : '.'}${d.name}`;
}

export function assetValues(p: Planned, now: Date) {
  const d = p.discovered;
  return {
    kind: d.kind,
    namespace: d.namespace,
    name: d.name,
    qualifiedName: qualifiedName(d),
    description: d.description ?? null,
    owner: d.owner ?? null,
    definition: d.definition ?? null,
    rowCount: d.rowCount ?? null,
    sizeBytes: d.sizeBytes ?? null,
    lastModified: d.lastModified ?? null,
    properties: d.properties ?? {},
    sourceFingerprint: p.fingerprint,
    embedding: p.embedding ?? null,
    embeddingModel: p.embeddingModel ?? null,
    status: 'active' as const,
    updatedAt: now,
  };
}

export function columnValues(assetId: string, d: DiscoveredAsset, now: Date) {
  return d.columns.map((c) => ({
    assetId,
    name: c.name,
    position: c.position,
    dataType: c.dataType,
    nullable: c.nullable,
    isPrimaryKey: c.isPrimaryKey,
    isForeignKey: (d.foreignKeys ?? []).some((fk) => fk.columns.includes(c.name)),
    defaultValue: c.defaultValue ?? null,
    description: c.description ?? null,
    updatedAt: now,
  }));
}

async function insertAssets(tx: Tx, sourceId: string, platform: string, fresh: Planned[], now: Date) {
  const ids = new Map<string, string>();
  for (let i = 0; i < fresh.length; i += insertBatchSize) {
    const batch = fresh.slice(i, i + insertBatchSize);
    const rows = await tx
      .insert(assets)
      .values(
        batch.map((p) => ({
          ...assetValues(p, now),
          urn: p.urn,
          sourceId,
          searchDocument: searchDocumentSql({ ...p.discovered, tags: [] }),
        })),
      )
      .returning({ id: assets.id, urn: assets.urn });
    for (const row of rows) ids.set(row.urn, row.id);
  }
  const created = fresh.map((p) => ({ id: ids.get(p.urn)!, p }));
  await insertInBatches(
    tx,
    columns,
    created.flatMap(({ id, p }) => columnValues(id, p.discovered, now)),
  );
  await insertInBatches(
    tx,
    activityEvents,
    created.map(({ id, p }) => ({
      assetId: id,
      type: 'created',
      summary: `Discovered in ${platform} with ${p.discovered.columns.length} columns`,
      at: now,
    })),
  );
  return ids;
}

export async function insertInBatches(tx: Tx, table: typeof columns | typeof activityEvents, rows: object[]) {
  for (let i = 0; i < rows.length; i += insertBatchSize) {
    // biome-ignore lint/suspicious/noExplicitAny: rows are built for exactly this table by the caller
    await tx.insert(table).values(rows.slice(i, i + insertBatchSize) as any);
  }
}
