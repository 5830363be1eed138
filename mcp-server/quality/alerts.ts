import { type SQL, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import type { AlertSeverity, AlertState } from '../../db/schema/index.js';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { hasRole, visibleAssetsSql } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { loadPrincipal } from '../governance/principals.js';
import { fanOutAlert } from './alerts-subscriptions.js';

export const alertSeverities = ['info', 'warning', 'critical'] as const satisfies readonly AlertSeverity[];
export const alertStates = ['open', 'acknowledged', 'resolved'] as const satisfies readonly AlertState[];

export const severityRank = (s: AlertSeverity) => alertSeverities.indexOf(s);

/** A problem seen on an asset, as an evaluation reports it. */
export interface AlertSignal {
  assetId: string;
  /** Names the problem: the same key is the same alert. */
  dedupKey: string;
  kind: 'sla_freshness' | 'sla_score' | 'rule' | 'anomaly' | 'schema_drift';
  severity: AlertSeverity;
  title: string;
  evidence: Record<string, unknown>;
}

export interface RaiseResult {
  alertId: string;
  /** `opened` (new), `escalated` (severity went up), `updated` (seen again). */
  outcome: 'opened' | 'escalated' | 'updated';
}

/**
 * Opens an alert, or updates the unresolved one with the same key (evidence, last seen, occurrences,
 * severity raised, never lowered). New and escalated alerts go to their subscribers. Runs inside the
 * caller's transaction, so the evaluation and its alerts commit together.
 */
export async function raiseAlert(
  tx: Tx,
  signal: AlertSignal,
  now: Date,
  options: { quietIfResolvedSince?: Date } = {},
): Promise<RaiseResult | null> {
  const at = now.toISOString();
  if (options.quietIfResolvedSince) {
    // A person resolved this very occurrence (an anomaly of that day, a schema change): seeing it again is not news.
    const [resolved] = await queryRows(
      tx,
      sql`select 1 from alerts where dedup_key = ${signal.dedupKey} and state = 'resolved'
          and resolved_at >= ${options.quietIfResolvedSince.toISOString()}::timestamptz limit 1`,
    );
    if (resolved) return null;
  }
  // Locked first, so the severity it had is known and a concurrent evaluation waits for this one.
  const [before] = await queryRows<{ severity: AlertSeverity }>(
    tx,
    sql`select severity from alerts where dedup_key = ${signal.dedupKey} and state <> 'resolved' for update`,
  );
  const [row] = await queryRows<{ id: string; inserted: boolean }>(
    tx,
    sql`insert into alerts (asset_id, dedup_key, kind, severity, title, evidence, first_seen_at, last_seen_at)
        values (${signal.assetId}, ${signal.dedupKey}, ${signal.kind}, ${signal.severity}, ${signal.title},
                ${JSON.stringify(signal.evidence)}::jsonb, ${at}::timestamptz, ${at}::timestamptz)
        on conflict (dedup_key) where state <> 'resolved' do update set
          evidence = excluded.evidence,
          title = excluded.title,
          last_seen_at = excluded.last_seen_at,
          occurrences = alerts.occurrences + 1,
          severity = case when ${severityCase(sql`excluded.severity`)} > ${severityCase(sql`alerts.severity`)}
                          then excluded.severity else alerts.severity end
        returning id::text, (xmax = 0) as inserted`,
  );
  const outcome: RaiseResult['outcome'] = row!.inserted
    ? 'opened'
    : before && severityRank(signal.severity) > severityRank(before.severity)
      ? 'escalated'
      : 'updated';
  if (outcome !== 'updated') await fanOutAlert(tx, row!.id, outcome, now);
  return { alertId: row!.id, outcome };
}

function severityCase(column: SQL): SQL {
  return sql`(case ${column} when 'critical' then 2 when 'warning' then 1 else 0 end)`;
}

/**
 * Resolves the unresolved alerts of an asset whose key starts with `keyPrefix` and is not among
 * `stillFailing`: the evaluation that raised them now finds the problem gone.
 */
export async function resolveCleared(
  tx: Tx,
  assetId: string,
  keyPrefix: string,
  stillFailing: string[],
  now: Date,
): Promise<number> {
  const resolved = await queryRows<{ id: string }>(
    tx,
    sql`update alerts set state = 'resolved', resolved_by = 'dataops', resolved_at = ${now.toISOString()}::timestamptz,
          note = 'the problem was no longer seen'
        where asset_id = ${assetId} and state <> 'resolved' and starts_with(dedup_key, ${keyPrefix})
          and not (dedup_key = any(array(select jsonb_array_elements_text(${JSON.stringify(stillFailing)}::jsonb))))
        returning id::text`,
  );
  for (const r of resolved) await fanOutAlert(tx, r.id, 'resolved', now);
  return resolved.length;
}

export interface AlertView {
  id: string;
  asset: string;
  qualifiedName: string;
  kind: string;
  severity: AlertSeverity;
  state: AlertState;
  title: string;
  evidence: Record<string, unknown>;
  assignee: string | null;
  occurrences: number;
  firstSeenAt: string;
  lastSeenAt: string;
  note: string | null;
}

/** The columns of an AlertView, over `alerts al join assets a`. */
const alertViewColumns = sql`al.id::text, a.urn as asset, a.qualified_name as "qualifiedName", al.kind, al.severity,
  al.state, al.title, al.evidence, al.assignee, al.occurrences, al.note,
  to_char(al.first_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "firstSeenAt",
  to_char(al.last_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "lastSeenAt"`;

export interface ListAlertsRequest {
  /** Default: the open and acknowledged ones. */
  states?: AlertState[];
  minSeverity?: AlertSeverity;
  asset?: string;
  assignee?: string;
  limit?: number;
  cursor?: string;
}

/** Alerts on assets the caller may see, most severe and most recent first. */
export async function listAlerts(ctx: ServiceContext, request: ListAlertsRequest = {}) {
  const limit = request.limit ?? 20;
  const offset = request.cursor ? decodeCursor(request.cursor) : 0;
  const states = request.states ?? ['open', 'acknowledged'];
  const asset = request.asset ? await findVisibleAsset(ctx, request.asset) : undefined;
  const filters = [
    sql`al.state = any(array(select jsonb_array_elements_text(${JSON.stringify(states)}::jsonb)))`,
    sql`${severityCase(sql`al.severity`)} >= ${severityRank(request.minSeverity ?? 'info')}`,
    asset ? sql`al.asset_id = ${asset.id}` : undefined,
    request.assignee ? sql`al.assignee = ${request.assignee}` : undefined,
  ].filter((f): f is SQL => f !== undefined);
  const rows = await queryRows<AlertView & { total: number }>(
    ctx.db,
    sql`select ${alertViewColumns}, (count(*) over ())::int as total
        from alerts al join assets a on a.id = al.asset_id
        where ${visibleAssetsSql(ctx.principal)} and ${sql.join(filters, sql` and `)}
        order by ${severityCase(sql`al.severity`)} desc, al.last_seen_at desc, al.kind, al.id
        limit ${limit} offset ${offset}`,
  );
  const total = rows[0]?.total ?? 0;
  return {
    total,
    alerts: rows.map(({ total: _total, ...alert }) => alert),
    nextCursor: offset + rows.length < total ? encodeCursor(offset + rows.length) : null,
  };
}

export interface AlertUpdate {
  id: string;
  action: 'acknowledge' | 'resolve' | 'assign';
  /** For `assign`: the principal to assign; null unassigns. */
  assignee?: string | null;
  note?: string;
}

/**
 * Acknowledges, resolves or assigns an alert. Stewards, owners and admins may, and so may the
 * alert's assignee; audited. An alert on an asset the caller may not see is "not found".
 */
export async function updateAlert(ctx: ServiceContext, update: AlertUpdate): Promise<AlertView> {
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const [current] = await queryRows<{ id: string; state: AlertState; assignee: string | null; urn: string }>(
      tx,
      sql`select al.id::text, al.state, al.assignee, a.urn from alerts al join assets a on a.id = al.asset_id
          where al.id::text = ${update.id} and ${visibleAssetsSql(ctx.principal)} for update of al`,
    );
    if (!current) {
      throw new DataOpsError('not_found', `no alert ${update.id}: list them with quality_list_alerts`);
    }
    if (!hasRole(ctx.principal, 'steward', 'owner') && current.assignee !== ctx.principal.id) {
      throw new DataOpsError(
        'forbidden',
        `${ctx.principal.id} may not ${update.action} alert ${update.id}: it needs the steward or owner role, or to be its assignee`,
      );
    }
    if (current.state === 'resolved' && update.action !== 'assign') {
      throw new DataOpsError('conflict', `alert ${update.id} is already resolved; a new occurrence opens a new alert`);
    }
    const at = now.toISOString();
    const note = update.note ?? null;
    if (update.action === 'acknowledge') {
      await tx.execute(sql`update alerts set state = 'acknowledged', acknowledged_by = ${ctx.principal.id},
        acknowledged_at = ${at}::timestamptz, note = coalesce(${note}, note) where id = ${current.id}`);
    } else if (update.action === 'resolve') {
      await tx.execute(sql`update alerts set state = 'resolved', resolved_by = ${ctx.principal.id},
        resolved_at = ${at}::timestamptz, note = coalesce(${note}, note) where id = ${current.id}`);
      await fanOutAlert(tx, current.id, 'resolved', now);
    } else {
      const assignee = update.assignee ?? null;
      if (assignee) await requireAssigneeSees(tx, assignee, current.urn);
      await tx.execute(
        sql`update alerts set assignee = ${assignee}, note = coalesce(${note}, note) where id = ${current.id}`,
      );
    }
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: `quality.alert_${update.action}`,
      targetUrn: current.urn,
      details: { alert: current.id, assignee: update.assignee, note: update.note },
      at: now,
    });
    const [view] = await queryRows<AlertView>(
      tx,
      sql`select ${alertViewColumns} from alerts al join assets a on a.id = al.asset_id where al.id = ${current.id}`,
    );
    return view!;
  });
}

/** An assignee must exist and be able to see the asset, or the alert would be assigned to someone blind to it. */
async function requireAssigneeSees(tx: Tx, assigneeId: string, urn: string): Promise<void> {
  const unknown = new DataOpsError(
    'invalid_input',
    `cannot assign to "${assigneeId}": there is no such principal, or it may not see ${urn}`,
  );
  const assignee = await loadPrincipal(tx, assigneeId).catch(() => {
    throw unknown;
  });
  const [seen] = await queryRows(
    tx,
    sql`select 1 from assets a where a.urn = ${urn} and ${visibleAssetsSql(assignee)}`,
  );
  if (!seen) throw unknown;
}
