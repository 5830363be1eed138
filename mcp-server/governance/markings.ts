import { and, eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx, textArray } from '../../db/create-db.js';
import { assets, classificationEvents, columns } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { clearanceAllows, requireRole, visibleAssetsSql } from './access.js';
import { appendAudit } from './audit.js';
import { enforcePolicies } from './policies.js';
import type { PolicyWarning } from './policy-rules.js';
import { level, propagateFrom, recordMarkingChange } from './propagation.js';

/**
 * Markings and their propagation through lineage. A derived asset carries at least the highest marking
 * of the assets it derives from (current `derives` edges), raised automatically when an input's marking
 * rises or new lineage is recorded, unless a steward downgraded it: the downgrade remembers the inputs'
 * highest marking at that time and holds until an input rises above that.
 */

export interface SetClassificationRequest {
  urn: string;
  column?: string;
  classification: Classification;
  reason?: string;
}

export interface SetClassificationResult {
  urn: string;
  column: string | null;
  from: Classification | null;
  to: Classification;
  changed: boolean;
  downgrade: boolean;
  /** Downstream assets whose marking rose with this one. */
  propagated: { urn: string; from: Classification; to: Classification }[];
  warnings: PolicyWarning[];
}

/**
 * Sets an asset's or a column's marking (stewards and admins). A downgrade, below the current marking or
 * below what the asset's inputs carry, needs a reason; every change is audited, recorded in
 * classification_events, checked against blocking policies and propagated downstream.
 */
export async function setClassification(
  ctx: ServiceContext,
  request: SetClassificationRequest,
): Promise<SetClassificationResult> {
  requireRole(ctx.principal, 'change classification markings', 'steward');
  const asset = await findVisibleAsset(ctx, request.urn);
  if (!clearanceAllows(ctx.principal.clearance, request.classification)) {
    throw new DataOpsError(
      'forbidden',
      `you may not mark anything ${request.classification}: it is above your clearance (${ctx.principal.clearance})`,
    );
  }
  const reason = request.reason?.trim() || null;
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    if (request.column !== undefined)
      return setColumnMarking(tx, ctx, asset, request.column, request.classification, reason, now);
    // Read under a row lock: two stewards marking the same asset at once are serialised, not lost.
    const [locked] = await tx
      .select({ classification: assets.classification })
      .from(assets)
      .where(eq(assets.id, asset.id))
      .for('update');
    const inputLevel = await inputMarking(tx, asset.id);
    const from = locked!.classification;
    const to = request.classification;
    const downgrade = level(to) < level(from) || (inputLevel !== null && level(to) < level(inputLevel));
    const standing = downgrade ? await standingDowngrade(tx, asset.id) : null;
    const unchanged = to === from && (!downgrade || (standing !== null && level(inputLevel!) <= level(standing)));
    const result: SetClassificationResult = {
      urn: asset.urn,
      column: null,
      from,
      to,
      changed: false,
      downgrade,
      propagated: [],
      warnings: [],
    };
    if (unchanged) return result;
    if (downgrade && !reason) {
      throw new DataOpsError(
        'invalid_input',
        // The inputs' marking is not stated: an input may be one the caller may not see.
        `marking ${asset.qualifiedName} ${to} is a downgrade (below its marking ${from} or below the assets it derives from): give a reason, e.g. "the view drops every PII column"`,
      );
    }
    await tx.update(assets).set({ classification: to, updatedAt: now }).where(eq(assets.id, asset.id));
    const kind = downgrade ? 'downgraded' : 'set';
    await tx.insert(classificationEvents).values({
      assetId: asset.id,
      from,
      to,
      kind,
      reason: reason ?? `set by ${ctx.principal.displayName}`,
      details: downgrade ? { inputLevel } : {},
      actorId: ctx.principal.id,
      createdAt: now,
    });
    await recordMarkingChange(tx, ctx.principal.id, ctx.principal.displayName, asset, from, to, kind, reason, now);
    const warnings = await enforcePolicies(tx, ctx, 'classification.change', [asset.id]);
    const raised = await propagateFrom(tx, ctx.principal.id, [asset.id], now);
    // Everything downstream is raised, but only what the caller may see is named.
    const visible = new Set(
      (
        await queryRows<{ urn: string }>(
          tx,
          sql`select a.urn from assets a where a.urn = any(${textArray(raised.map((r) => r.urn))})
              and ${visibleAssetsSql(ctx.principal)}`,
        )
      ).map((r) => r.urn),
    );
    return { ...result, changed: true, warnings, propagated: raised.filter((r) => visible.has(r.urn)) };
  });
}

async function setColumnMarking(
  tx: Tx,
  ctx: ServiceContext,
  asset: typeof assets.$inferSelect,
  name: string,
  to: Classification,
  reason: string | null,
  now: Date,
): Promise<SetClassificationResult> {
  const [column] = await tx
    .select()
    .from(columns)
    .where(and(eq(columns.assetId, asset.id), eq(columns.name, name)))
    .for('update');
  // A column marked above the caller's clearance is as absent as in every other tool.
  if (!column || (column.classification && !clearanceAllows(ctx.principal.clearance, column.classification))) {
    throw new DataOpsError('not_found', `${asset.urn} has no column "${name}": list them with catalog_list_columns`);
  }
  const from = column.classification;
  const effectiveFrom = from ?? asset.classification;
  const downgrade = level(to) < level(effectiveFrom);
  const result: SetClassificationResult = {
    urn: asset.urn,
    column: name,
    from,
    to,
    changed: false,
    downgrade,
    propagated: [],
    warnings: [],
  };
  if (from === to) return result;
  if (downgrade && !reason) {
    throw new DataOpsError(
      'invalid_input',
      `marking ${asset.qualifiedName}.${name} ${to} is a downgrade from ${effectiveFrom}: give a reason`,
    );
  }
  await tx.update(columns).set({ classification: to, updatedAt: now }).where(eq(columns.id, column.id));
  await tx.insert(classificationEvents).values({
    assetId: asset.id,
    columnName: name,
    from,
    to,
    kind: downgrade ? 'downgraded' : 'set',
    reason: reason ?? `set by ${ctx.principal.displayName}`,
    actorId: ctx.principal.id,
    createdAt: now,
  });
  await appendAudit(tx, {
    actorId: ctx.principal.id,
    action: downgrade ? 'classification.downgrade' : 'classification.set',
    targetUrn: asset.urn,
    details: { column: name, from, to, reason },
    at: now,
  });
  const warnings = await enforcePolicies(tx, ctx, 'classification.change', [asset.id]);
  return { ...result, changed: true, warnings };
}

/** The highest marking among an asset's current inputs, or null when nothing feeds it. */
async function inputMarking(tx: Tx, assetId: string): Promise<Classification | null> {
  const [row] = await queryRows<{ level: Classification | null }>(
    tx,
    sql`select max(i.classification)::text as level from lineage_edges e join assets i on i.id = e.from_asset_id
        where e.to_asset_id = ${assetId} and e.kind = 'derives' and e.valid_to is null`,
  );
  return row?.level ?? null;
}

/** The inputs' marking a standing downgrade was made against, when the asset's last marking event is one. */
async function standingDowngrade(tx: Tx, assetId: string): Promise<Classification | null> {
  const [row] = await queryRows<{ kind: string; inputLevel: Classification | null }>(
    tx,
    sql`select kind, details->>'inputLevel' as "inputLevel" from classification_events
        where asset_id = ${assetId} and column_name is null order by created_at desc, id desc limit 1`,
  );
  return row?.kind === 'downgraded' ? (row.inputLevel ?? 'U') : null;
}
