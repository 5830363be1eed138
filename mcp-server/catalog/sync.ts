import { createHash } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import { activityEvents, assets, columns, domains, sources } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { saveSourceConnection } from '../connectors/source-credentials.js';
import type { DiscoveredAsset, SourceSnapshot } from '../connectors/types.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { bulkInsert } from './bulk-insert.js';
import { embeddingText, searchDocumentFrom, searchDocumentParts } from './search-document.js';
import { refreshSearchIndexes, withVectorIndexFor } from './search-index.js';
import { refreshStats, syncForeignKeys, updateAsset } from './sync-changes.js';
import { assetValues, columnValues, type ExistingAsset, type Planned, readExisting } from './sync-rows.js';
import { assetUrn } from './urn.js';

export interface SyncOptions {
  /** Marking for the assets this source adds (default: the source's, `U` for a new source). */
  classification?: Classification;
  /** Domain for the assets this source adds (default: the source's). */
  domain?: string;
  /** Namespaces the snapshot covers (e.g. the schemas asked for); assets elsewhere are left alone. */
  scope?: string[];
  /** The source moved: accept a new location under the same name. */
  relocate?: boolean;
  /**
   * How to reach the source's data again (a connection URL with its password, or an embedded database),
   * kept encrypted when the workspace has a secret key, for profiling and sampling.
   */
  connection?: string;
}

export interface SyncSummary {
  source: string;
  assets: number;
  added: number;
  /** Assets whose structure changed (columns, description, definition, ...). */
  updated: number;
  /** Assets whose statistics alone changed (row count, size, last modified). */
  refreshed: number;
  unchanged: number;
  deprecated: number;
  restored: number;
  schemaChanges: number;
  errors: { object: string; message: string }[];
}

/** A sync that adds, changes or deprecates this many assets refreshes statistics and search indexes. */
const analyzeAfterChanges = 100;

/**
 * Brings the catalog in line with a source snapshot in one transaction: new assets are added, changed
 * ones updated with their schema changes recorded as activity, vanished ones deprecated (never deleted).
 * Running it again on the same snapshot changes nothing.
 */
export async function syncSource(
  ctx: ServiceContext,
  snapshot: SourceSnapshot,
  options: SyncOptions = {},
): Promise<SyncSummary> {
  requireRole(ctx.principal, 'ingest sources', 'steward', 'owner');
  const planned: Planned[] = snapshot.assets.map((discovered) => ({
    discovered,
    urn: assetUrn(snapshot.kind, snapshot.name, discovered.namespace, discovered.name),
    fingerprint: fingerprint(discovered),
  }));
  // New assets are embedded before the transaction, so a slow embedding service holds no catalog locks.
  const known = new Set((await readExisting(ctx.db, snapshot)).existing.map((a) => a.urn));
  await embedNew(
    ctx,
    planned.filter((p) => !known.has(p.urn)),
  );

  const summary = await runInTransaction(ctx, `${snapshot.kind} source ${snapshot.name}`, async (tx) => {
    // One sync per source at a time: two would both see an asset missing and both deprecate it.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${snapshot.kind}:${snapshot.name}`}))`);
    const { source, existing } = await readExisting(tx, snapshot);
    await checkMaySync(ctx, tx, snapshot, source, options);
    const now = ctx.clock();
    const existingByUrn = new Map(existing.map((a) => [a.urn, a]));
    const fresh = planned.filter((p) => !existingByUrn.has(p.urn));
    const changed = planned.filter((p) => {
      const current = existingByUrn.get(p.urn);
      return (
        current &&
        (current.sourceFingerprint !== p.fingerprint ||
          current.status !== 'active' ||
          current.embeddingModel !== ctx.embedder.modelId)
      );
    });
    await embedNew(
      ctx,
      fresh.filter((p) => !p.embedding),
    );

    const defaults = {
      classification: options.classification ?? source?.classification ?? 'U',
      domainId: options.domain ?? source?.domainId ?? null,
    };
    const sourceValues = {
      location: snapshot.location,
      ...defaults,
      scope: options.scope ?? [],
      lastSyncedAt: now,
      lastSyncErrors: snapshot.errors,
    };
    const [saved] = await tx
      .insert(sources)
      .values({ kind: snapshot.kind, name: snapshot.name, ...sourceValues })
      .onConflictDoUpdate({ target: [sources.kind, sources.name], set: sourceValues })
      .returning({ id: sources.id });

    if (options.connection && ctx.secrets) {
      await saveSourceConnection(tx, ctx.secrets, saved!.id, options.connection, now);
    }

    const ids = new Map(existing.map((a) => [a.urn, a.id]));
    const inserted = await withVectorIndexFor(ctx.db, tx, fresh.length, () =>
      insertAssets(tx, saved!.id, snapshot.kind, fresh, defaults, ctx.embedder.modelId, now),
    );
    for (const [urn, id] of inserted) ids.set(urn, id);

    const summary: SyncSummary = {
      source: snapshot.name,
      assets: planned.length,
      added: fresh.length,
      updated: 0,
      refreshed: 0,
      unchanged: planned.length - fresh.length - changed.length,
      deprecated: 0,
      restored: 0,
      schemaChanges: 0,
      errors: snapshot.errors,
    };
    for (const p of changed) {
      const current = existingByUrn.get(p.urn)!;
      summary.schemaChanges += await updateAsset(tx, ctx, current, p, now);
      if (current.status !== 'active') summary.restored++;
      else summary.updated++;
    }
    const changedUrns = new Set(changed.map((p) => p.urn));
    summary.refreshed = await refreshStats(
      tx,
      planned.filter((p) => existingByUrn.has(p.urn) && !changedUrns.has(p.urn)),
      existingByUrn,
      now,
    );
    summary.unchanged -= summary.refreshed;
    summary.deprecated = await deprecateVanished(tx, ctx, snapshot, planned, existing, options.scope ?? [], now);

    const edgesChanged = await syncForeignKeys(tx, snapshot, planned, ids, now);
    // View lineage is the lineage domain's, refreshed through its hook.
    const views = await ctx.hooks.sourceSynced(tx, {
      snapshot,
      sourceId: saved!.id,
      assets: planned,
      ids,
      scope: options.scope ?? [],
      now,
    });
    summary.errors = [...summary.errors, ...views.errors];
    const anything =
      summary.added +
      summary.updated +
      summary.restored +
      summary.deprecated +
      edgesChanged +
      views.opened +
      views.closed;
    if (anything > 0 || !source) {
      await appendAudit(tx, {
        actorId: ctx.principal.id,
        action: 'source.sync',
        at: now,
        details: { kind: snapshot.kind, ...summary, errors: snapshot.errors.length },
      });
    }
    return summary;
  });
  // PGlite has no autovacuum (servers may lag too): refresh statistics and merge pending index entries
  // after a sync that changed many assets.
  if (summary.added + summary.updated + summary.deprecated >= analyzeAfterChanges) {
    await refreshSearchIndexes(ctx.db);
  }
  return summary;
}

/**
 * Who may sync a source: a steward or owner who may see everything it already holds (otherwise the
 * sync would change, and its summary describe, assets they may not know exist), from where it was read.
 */
async function checkMaySync(
  ctx: ServiceContext,
  tx: Tx,
  snapshot: SourceSnapshot,
  source: typeof sources.$inferSelect | undefined,
  options: SyncOptions,
): Promise<void> {
  if (options.domain) {
    const [domain] = await tx.select({ id: domains.id }).from(domains).where(eq(domains.id, options.domain));
    if (!domain)
      throw new DataOpsError('not_found', `no domain "${options.domain}": create it first or leave the domain out`);
  }
  if (!source) return;
  const [hidden] = await queryRows<{ n: number }>(
    tx,
    sql`select count(*)::int as n from assets a where a.source_id = ${source.id} and not ${visibleAssetsSql(ctx.principal)}`,
  );
  if (hidden!.n > 0) {
    throw new DataOpsError(
      'forbidden',
      `${ctx.principal.id} may not sync source ${snapshot.name}: ask its owner or an admin`,
    );
  }
  if (source.location !== snapshot.location && !options.relocate) {
    throw new DataOpsError(
      'conflict',
      `source "${snapshot.name}" was read from ${source.location}, not ${snapshot.location}: give this one another --name, or pass --relocate if the source moved`,
    );
  }
}

async function embedNew(ctx: ServiceContext, fresh: Planned[]): Promise<void> {
  const vectors = await ctx.embedder.embed(fresh.map((p) => embeddingText({ ...p.discovered, tags: [] })));
  fresh.forEach((p, i) => {
    p.embedding = vectors[i];
  });
}

/** Deprecates assets of the synced scope that the source no longer has; one that failed to read is not gone. */
async function deprecateVanished(
  tx: Tx,
  ctx: ServiceContext,
  snapshot: SourceSnapshot,
  planned: Planned[],
  existing: ExistingAsset[],
  scope: string[],
  now: Date,
): Promise<number> {
  const seen = new Set(planned.map((p) => p.urn));
  const unreadable = new Set(snapshot.errors.map((e) => e.object));
  const vanished = existing.filter(
    (a) =>
      a.status === 'active' &&
      !seen.has(a.urn) &&
      !unreadable.has(a.qualifiedName) &&
      (scope.length === 0 || scope.includes(a.namespace)),
  );
  if (vanished.length === 0) return 0;
  await tx
    .update(assets)
    .set({ status: 'deprecated', updatedAt: now })
    .where(
      inArray(
        assets.id,
        vanished.map((a) => a.id),
      ),
    );
  await bulkInsert(
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
  return vanished.length;
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
  const { rowCount: _rows, sizeBytes: _size, lastModified: _modified, ...structure } = asset;
  return createHash('sha256').update(JSON.stringify(structure)).digest('hex');
}

async function insertAssets(
  tx: Tx,
  sourceId: string,
  platform: string,
  fresh: Planned[],
  defaults: { classification: Classification; domainId: string | null },
  embeddingModel: string,
  now: Date,
) {
  const ids = new Map<string, string>();
  // The full-text document is computed in the database from its four texts, sent with each row.
  const documentInputs = { docName: 'text', docAbout: 'text', docColumnNames: 'text', docColumnNotes: 'text' };
  const rows = await bulkInsert<{ id: string; urn: string }>(
    tx,
    assets,
    fresh.map((p) => {
      const parts = searchDocumentParts({ ...p.discovered, tags: [] });
      return {
        ...assetValues(p, now),
        ...defaults,
        urn: p.urn,
        sourceId,
        embedding: p.embedding ? `[${p.embedding.join(',')}]` : null,
        embeddingModel,
        docName: parts.name,
        docAbout: parts.about,
        docColumnNames: parts.columnNames,
        docColumnNotes: parts.columnNotes,
      };
    }),
    {
      inputs: documentInputs,
      computed: {
        searchDocument: searchDocumentFrom({
          name: sql`x."docName"`,
          about: sql`x."docAbout"`,
          columnNames: sql`x."docColumnNames"`,
          columnNotes: sql`x."docColumnNotes"`,
        }),
      },
      returning: sql`id::text, urn`,
    },
  );
  for (const row of rows) ids.set(row.urn, row.id);
  const created = fresh.map((p) => ({ id: ids.get(p.urn)!, p }));
  await bulkInsert(
    tx,
    columns,
    created.flatMap(({ id, p }) => columnValues(id, p.discovered, now)),
  );
  await bulkInsert(
    tx,
    activityEvents,
    created.map(({ id, p }) => ({
      assetId: id,
      type: 'created',
      actorId: null,
      summary: `Discovered in ${platform} with ${p.discovered.columns.length} columns`,
      at: now,
    })),
  );
  return ids;
}
