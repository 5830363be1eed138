import { sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { activityEvents } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { enforcePolicies } from '../governance/policies.js';
import type { PolicyWarning } from '../governance/policy-rules.js';
import { type ColumnMapping, replaceEdges } from './store.js';

/** Lineage a steward states by hand: what no parser or producer reported (a spreadsheet, an export job). */

export interface ManualEdgeRequest {
  from: string;
  to: string;
  /** Column mappings, e.g. `{from: 'amount', to: 'total', transformationSubtype: 'AGGREGATION'}`. */
  columns?: { from: string; to: string; transformationSubtype?: 'IDENTITY' | 'TRANSFORMATION' | 'AGGREGATION' }[];
  note?: string;
}

export interface ManualEdgeResult {
  from: string;
  to: string;
  changed: boolean;
  /** Warning policies the two assets leave unmet after the edit (blocking ones refuse it). */
  policyWarnings: PolicyWarning[];
}

/** Adds (or replaces the column mappings of) a manual `derives` edge; audited. Adding it twice changes nothing. */
export async function addManualEdge(ctx: ServiceContext, request: ManualEdgeRequest): Promise<ManualEdgeResult> {
  requireRole(ctx.principal, 'edit lineage', 'steward', 'owner');
  const [from, to] = [await findVisibleAsset(ctx, request.from), await findVisibleAsset(ctx, request.to)];
  if (from.id === to.id) throw new DataOpsError('invalid_input', 'an asset cannot derive from itself');
  await checkColumns(
    ctx,
    from.id,
    request.from,
    (request.columns ?? []).map((c) => c.from),
  );
  await checkColumns(
    ctx,
    to.id,
    request.to,
    (request.columns ?? []).map((c) => c.to),
  );
  const columns: ColumnMapping[] = (request.columns ?? []).map((c) => ({
    fromColumn: c.from,
    toColumn: c.to,
    transformationType: 'DIRECT',
    transformationSubtype: c.transformationSubtype ?? 'IDENTITY',
  }));
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    // The other manual edges into `to` stay: replaceEdges is given all of them, with this one changed.
    const others = await queryRows<{ fromAssetId: string }>(
      tx,
      sql`select from_asset_id as "fromAssetId" from lineage_edges
          where origin = 'manual' and to_asset_id = ${to.id} and valid_to is null and from_asset_id <> ${from.id}
          for update`,
    );
    const kept = await Promise.all(others.map((o) => currentManualEdge(tx, o.fromAssetId, to.id)));
    const changes = await replaceEdges(
      tx,
      { origin: 'manual', toAssetIds: [to.id] },
      [
        ...kept,
        {
          fromAssetId: from.id,
          toAssetId: to.id,
          kind: 'derives',
          properties: { by: ctx.principal.id, note: request.note ?? null },
          columns,
        },
      ],
      now,
    );
    const changed = changes.opened > 0;
    const policyWarnings = changed ? await enforcePolicies(tx, ctx, 'lineage.edit', [from.id, to.id]) : [];
    if (changed) await record(tx, ctx, 'lineage.edge_added', from, to, now, { columns: request.columns });
    return { from: from.urn, to: to.urn, changed, policyWarnings };
  });
}

/** Closes a manual edge (lineage as of earlier times keeps it). Edges learned from sources change with them. */
export async function removeManualEdge(
  ctx: ServiceContext,
  request: { from: string; to: string },
): Promise<ManualEdgeResult> {
  requireRole(ctx.principal, 'edit lineage', 'steward', 'owner');
  const [from, to] = [await findVisibleAsset(ctx, request.from), await findVisibleAsset(ctx, request.to)];
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const edges = await queryRows<{ id: string; origin: string }>(
      tx,
      sql`select id, origin from lineage_edges
          where from_asset_id = ${from.id} and to_asset_id = ${to.id} and kind = 'derives' and valid_to is null
          for update`,
    );
    const manual = edges.filter((e) => e.origin === 'manual');
    if (manual.length === 0) {
      const learned = edges.map((e) => e.origin);
      throw new DataOpsError(
        learned.length > 0 ? 'conflict' : 'not_found',
        learned.length > 0
          ? `the lineage from ${from.urn} to ${to.urn} was learned from ${learned.join(' and ')}, not added by hand: it changes when its source changes`
          : `there is no lineage from ${from.urn} to ${to.urn}`,
      );
    }
    await tx.execute(
      sql`update lineage_edges set valid_to = ${now.toISOString()}::timestamptz where id = ${manual[0]!.id}`,
    );
    const policyWarnings = await enforcePolicies(tx, ctx, 'lineage.edit', [from.id, to.id]);
    await record(tx, ctx, 'lineage.edge_removed', from, to, now, {});
    return { from: from.urn, to: to.urn, changed: true, policyWarnings };
  });
}

async function currentManualEdge(tx: Parameters<typeof queryRows>[0], fromId: string, toId: string) {
  const rows = await queryRows<{
    properties: Record<string, unknown>;
    fromColumn: string | null;
    toColumn: string | null;
    subtype: ColumnMapping['transformationSubtype'];
  }>(
    tx,
    sql`select e.properties, c.from_column as "fromColumn", c.to_column as "toColumn",
          c.transformation_subtype as subtype
        from lineage_edges e left join column_lineage c on c.edge_id = e.id
        where e.origin = 'manual' and e.from_asset_id = ${fromId} and e.to_asset_id = ${toId} and e.valid_to is null`,
  );
  return {
    fromAssetId: fromId,
    toAssetId: toId,
    kind: 'derives' as const,
    properties: rows[0]?.properties ?? {},
    columns: rows
      .filter((r) => r.fromColumn !== null)
      .map((r) => ({
        fromColumn: r.fromColumn!,
        toColumn: r.toColumn,
        transformationType: 'DIRECT' as const,
        transformationSubtype: r.subtype,
      })),
  };
}

async function checkColumns(ctx: ServiceContext, assetId: string, urn: string, names: string[]) {
  if (names.length === 0) return;
  const rows = await queryRows<{ name: string }>(
    ctx.db,
    sql`select name from columns where asset_id = ${assetId}
          and (classification is null or classification <= ${ctx.principal.clearance}::classification)`,
  );
  const known = new Set(rows.map((r) => r.name));
  const missing = [...new Set(names)].filter((n) => !known.has(n));
  if (missing.length > 0) {
    throw new DataOpsError('not_found', `${urn} has no column ${missing.map((m) => `"${m}"`).join(', ')}`);
  }
}

async function record(
  tx: Parameters<typeof appendAudit>[0],
  ctx: ServiceContext,
  action: string,
  from: { id: string; urn: string },
  to: { id: string; urn: string },
  now: Date,
  details: Record<string, unknown>,
) {
  const verb = action === 'lineage.edge_added' ? 'added' : 'removed';
  await tx.insert(activityEvents).values({
    assetId: to.id,
    type: 'lineage_changed',
    actorId: ctx.principal.id,
    summary: `${ctx.principal.displayName} ${verb} lineage from ${from.urn}`,
    // The summary names the upstream asset: readers of this feed who may not see it must not see the event.
    details: { relatedAssetId: from.id },
    at: now,
  });
  await appendAudit(tx, {
    actorId: ctx.principal.id,
    action,
    targetUrn: to.urn,
    details: { from: from.urn, ...details },
    at: now,
  });
}
