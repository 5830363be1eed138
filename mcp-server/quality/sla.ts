import { sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import type { AlertSeverity } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';

export interface Sla {
  /** Hours since the data last changed after which it is stale; null: no freshness target. */
  freshnessHours: number | null;
  /** Lowest acceptable overall quality score, 0-100; null: no quality target. */
  minScore: number | null;
  /** Severity of the alert a breach opens. */
  severity: AlertSeverity;
}

export interface SlaRequest {
  asset: string;
  freshnessHours?: number | null;
  minScore?: number | null;
  severity?: AlertSeverity;
}

/**
 * Sets an asset's freshness and quality targets (a field left out keeps its value; null removes it).
 * Stewards and owners only; audited. Removing both targets removes the SLA.
 */
/** Targets kept to a thousandth: a value such as 3e-83 would not fit the real column (found by fuzzing). */
function thousandths(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

export async function setSla(ctx: ServiceContext, request: SlaRequest): Promise<Sla & { asset: string }> {
  requireRole(ctx.principal, 'set service-level targets', 'steward', 'owner');
  const asset = await findVisibleAsset(ctx, request.asset);
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const current = await readSla(tx, asset.id);
    const next: Sla = {
      freshnessHours:
        request.freshnessHours === undefined ? (current?.freshnessHours ?? null) : thousandths(request.freshnessHours),
      minScore: request.minScore === undefined ? (current?.minScore ?? null) : thousandths(request.minScore),
      severity: request.severity ?? current?.severity ?? 'warning',
    };
    if (next.freshnessHours !== null && !(next.freshnessHours > 0)) {
      throw new DataOpsError('invalid_input', `freshnessHours must be more than 0, not ${next.freshnessHours}`);
    }
    if (next.minScore !== null && !(next.minScore >= 0 && next.minScore <= 100)) {
      throw new DataOpsError('invalid_input', `minScore is a quality score from 0 to 100, not ${next.minScore}`);
    }
    if (next.freshnessHours === null && next.minScore === null) {
      await tx.execute(sql`delete from quality_slas where asset_id = ${asset.id}`);
    } else {
      await tx.execute(
        sql`insert into quality_slas (asset_id, freshness_hours, min_score, severity, updated_by, updated_at)
            values (${asset.id}, ${next.freshnessHours}, ${next.minScore}, ${next.severity}, ${ctx.principal.id}, ${now.toISOString()}::timestamptz)
            on conflict (asset_id) do update set freshness_hours = excluded.freshness_hours, min_score = excluded.min_score,
              severity = excluded.severity, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      );
    }
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'quality.sla_set',
      targetUrn: asset.urn,
      details: { before: current, after: next },
      at: now,
    });
    return { asset: asset.urn, ...next };
  });
}

export async function readSla(tx: Pick<Tx, 'execute'>, assetId: string): Promise<Sla | null> {
  const [row] = await queryRows<Sla>(
    tx,
    sql`select freshness_hours as "freshnessHours", min_score as "minScore", severity
        from quality_slas where asset_id = ${assetId}`,
  );
  return row ?? null;
}

export interface SlaBreach {
  kind: 'sla_freshness' | 'sla_score';
  title: string;
  evidence: Record<string, unknown>;
}

/**
 * Checks an asset against its SLA at `now`. Freshness is judged from the time the data last changed
 * as the catalog knows it (the source's last modification, else the newest profile that saw the row
 * count change); a quality target from the newest score. What cannot be judged yet is not a breach.
 */
export async function slaBreaches(tx: Pick<Tx, 'execute'>, assetId: string, sla: Sla, now: Date): Promise<SlaBreach[]> {
  const breaches: SlaBreach[] = [];
  if (sla.freshnessHours !== null) {
    const [row] = await queryRows<{ changedAt: string | null; qualifiedName: string }>(
      tx,
      sql`select a.qualified_name as "qualifiedName", coalesce(a.last_modified, (${lastChangeSeenSql(sql`a.id`)})) as "changedAt"
          from assets a where a.id = ${assetId}`,
    );
    if (row?.changedAt) {
      const ageHours = (now.getTime() - new Date(row.changedAt).getTime()) / 3_600_000;
      if (ageHours > sla.freshnessHours) {
        breaches.push({
          kind: 'sla_freshness',
          title: `${row.qualifiedName} is stale: last changed ${ageHours.toFixed(1)} h ago, the SLA allows ${sla.freshnessHours} h`,
          evidence: {
            lastChangedAt: new Date(row.changedAt).toISOString(),
            ageHours: round(ageHours),
            targetHours: sla.freshnessHours,
          },
        });
      }
    }
  }
  if (sla.minScore !== null) {
    const [row] = await queryRows<{ overall: number; computedAt: string; qualifiedName: string }>(
      tx,
      sql`select s.overall, s.computed_at as "computedAt", a.qualified_name as "qualifiedName"
          from quality_scores s join assets a on a.id = s.asset_id
          where s.asset_id = ${assetId} order by s.computed_at desc limit 1`,
    );
    if (row && row.overall < sla.minScore) {
      breaches.push({
        kind: 'sla_score',
        title: `${row.qualifiedName} scores ${round(row.overall)}, below its SLA of ${sla.minScore}`,
        evidence: {
          score: round(row.overall),
          targetScore: sla.minScore,
          computedAt: new Date(row.computedAt).toISOString(),
        },
      });
    }
  }
  return breaches;
}

/** The time of the newest profile whose row count differs from the one before it: when the data was last seen changing. */
export function lastChangeSeenSql(assetId: ReturnType<typeof sql>) {
  return sql`select min(p.profiled_at) from profiles p where p.asset_id = ${assetId}
    and p.row_count is not distinct from (select p2.row_count from profiles p2 where p2.asset_id = ${assetId}
      order by p2.profiled_at desc limit 1)
    and p.profiled_at > coalesce((select max(p3.profiled_at) from profiles p3 where p3.asset_id = ${assetId}
      and p3.row_count is distinct from (select p4.row_count from profiles p4 where p4.asset_id = ${assetId}
        order by p4.profiled_at desc limit 1)), '-infinity')`;
}

const round = (x: number) => Math.round(x * 100) / 100;
