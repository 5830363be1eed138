import { and, eq, inArray } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import type { Tx } from '../../db/create-db.js';
import { activityEvents, assets, columns, domains } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { reindexAssets } from './search-index.js';

export interface DomainDefinition {
  id: string;
  name: string;
  description?: string;
  restricted: boolean;
}

export interface AssetAnnotation {
  urn: string;
  domain?: string;
  owner?: string;
  tags?: string[];
  classification?: Classification;
  columns?: Record<string, { sensitivity?: string; classification?: Classification }>;
}

/** Creates or updates business domains (admin only, audited). */
export async function defineDomains(ctx: ServiceContext, definitions: DomainDefinition[]): Promise<void> {
  requireRole(ctx.principal, 'define domains', 'admin');
  await ctx.db.transaction(async (tx) => {
    for (const d of definitions) {
      const values = { name: d.name, description: d.description ?? null, restricted: d.restricted };
      await tx
        .insert(domains)
        .values({ id: d.id, ...values })
        .onConflictDoUpdate({ target: domains.id, set: values });
    }
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'domain.define',
      at: ctx.clock(),
      details: { domains: definitions },
    });
  });
}

/**
 * Sets governance metadata in bulk (domain, owner, tags, markings, column sensitivity) in one
 * transaction: an unknown URN or column rejects the whole batch. Admin only; audited per asset.
 */
export async function annotateAssets(
  ctx: ServiceContext,
  annotations: AssetAnnotation[],
): Promise<{ changed: number }> {
  requireRole(ctx.principal, 'annotate assets in bulk', 'admin');
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(assets)
      .where(
        inArray(
          assets.urn,
          annotations.map((a) => a.urn),
        ),
      );
    const byUrn = new Map(rows.map((r) => [r.urn, r]));
    const changedIds: string[] = [];
    for (const annotation of annotations) {
      const asset = byUrn.get(annotation.urn);
      if (!asset)
        throw new DataOpsError('not_found', `no asset ${annotation.urn} to annotate; ingest its source first`);
      const next = {
        domainId: annotation.domain ?? asset.domainId,
        owner: annotation.owner ?? asset.owner,
        tags: annotation.tags ?? asset.tags,
        classification: annotation.classification ?? asset.classification,
      };
      const before = {
        domainId: asset.domainId,
        owner: asset.owner,
        tags: asset.tags,
        classification: asset.classification,
      };
      const assetChanged = JSON.stringify(before) !== JSON.stringify(next);
      if (assetChanged) {
        const curated = new Set(asset.curatedFields);
        if (annotation.owner) curated.add('owner');
        await tx
          .update(assets)
          .set({ ...next, curatedFields: [...curated], updatedAt: now })
          .where(eq(assets.id, asset.id));
      }
      const columnChanges = await annotateColumns(tx, asset.id, asset.qualifiedName, annotation.columns ?? {});
      if (!assetChanged && columnChanges === 0) continue;
      changedIds.push(asset.id);
      await tx.insert(activityEvents).values({
        assetId: asset.id,
        type: 'governance_updated',
        actorId: ctx.principal.id,
        summary: `Governance metadata set: ${next.classification}, domain ${next.domainId ?? 'none'}`,
        details: { before, after: next, columns: annotation.columns ?? {} },
        at: now,
      });
      await appendAudit(tx, {
        actorId: ctx.principal.id,
        action: 'asset.annotate',
        targetUrn: asset.urn,
        at: now,
        details: { before, after: next, columns: annotation.columns ?? {} },
      });
    }
    // Tags are searchable and column markings decide what search may match: rebuild both.
    await reindexAssets(tx, ctx.embedder, changedIds);
    return { changed: changedIds.length };
  });
}

async function annotateColumns(
  tx: Tx,
  assetId: string,
  qualifiedName: string,
  wanted: NonNullable<AssetAnnotation['columns']>,
): Promise<number> {
  const names = Object.keys(wanted);
  if (names.length === 0) return 0;
  const existing = await tx
    .select()
    .from(columns)
    .where(and(eq(columns.assetId, assetId), inArray(columns.name, names)));
  let changed = 0;
  for (const name of names) {
    const column = existing.find((c) => c.name === name);
    if (!column) throw new DataOpsError('not_found', `${qualifiedName} has no column ${name}`);
    const next = {
      sensitivity: wanted[name]!.sensitivity ?? column.sensitivity,
      classification: wanted[name]!.classification ?? column.classification,
    };
    if (next.sensitivity === column.sensitivity && next.classification === column.classification) continue;
    await tx.update(columns).set(next).where(eq(columns.id, column.id));
    changed++;
  }
  return changed;
}
