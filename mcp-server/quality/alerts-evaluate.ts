import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/create-db.js';
import type { AlertSeverity } from '../../db/schema/index.js';
import { type AlertSignal, raiseAlert, resolveCleared } from './alerts.js';
import { anomaliesOf } from './anomaly.js';
import { readSla, slaBreaches } from './sla.js';

export interface EvaluationSummary {
  opened: number;
  escalated: number;
  updated: number;
  resolved: number;
}

/**
 * Turns an asset's current state into alerts, in one transaction: SLA breaches, failing critical
 * rules (their latest result), anomalies of the last day and breaking schema changes. A breach or a
 * rule that passes again resolves its alert; so does a metric that is back to normal. Runs as the
 * system (the scheduler), so it sees every asset; who hears of an alert is decided at fan-out.
 */
export async function evaluateAlerts(db: Db, assetId: string, now: Date): Promise<EvaluationSummary> {
  return db.transaction(async (tx) => {
    const summary: EvaluationSummary = { opened: 0, escalated: 0, updated: 0, resolved: 0 };
    const [asset] = await queryRows<{ id: string; urn: string; qualifiedName: string }>(
      tx,
      sql`select id::text, urn, qualified_name as "qualifiedName" from assets where id = ${assetId} for update`,
    );
    if (!asset) return summary;
    const raise = async (signal: AlertSignal, quietIfResolvedSince?: Date) => {
      const result = await raiseAlert(tx, signal, now, { quietIfResolvedSince });
      if (result) summary[result.outcome]++;
      return result ? signal.dedupKey : null;
    };

    const sla = await readSla(tx, asset.id);
    const slaKeys: string[] = [];
    for (const breach of sla ? await slaBreaches(tx, asset.id, sla, now) : []) {
      const key = `sla:${asset.id}:${breach.kind}`;
      slaKeys.push(key);
      await raise({ assetId: asset.id, dedupKey: key, severity: sla!.severity, ...breach });
    }
    summary.resolved += await resolveCleared(tx, asset.id, `sla:${asset.id}:`, slaKeys, now);

    const latest = await queryRows<{
      ruleId: string;
      rule: string;
      passed: boolean;
      failedRows: number | null;
      checkedRows: number | null;
      observed: unknown;
      evidence: unknown;
      ranAt: string;
    }>(
      tx,
      sql`select distinct on (r.id) r.id::text as "ruleId", r.name as rule, q.passed, q.failed_rows as "failedRows",
            q.checked_rows as "checkedRows", q.observed_value as observed, q.evidence, q.ran_at as "ranAt"
          from quality_rules r join quality_results q on q.rule_id = r.id
          where r.asset_id = ${asset.id} and r.enabled and r.severity = 'critical'
          order by r.id, q.ran_at desc`,
    );
    const failing = latest.filter((r) => !r.passed);
    const ruleKeys: string[] = [];
    for (const f of failing) {
      const key = `rule:${f.ruleId}`;
      ruleKeys.push(key);
      const rows =
        f.failedRows !== null && f.checkedRows !== null ? `: ${f.failedRows} of ${f.checkedRows} rows fail` : '';
      await raise({
        assetId: asset.id,
        dedupKey: key,
        kind: 'rule',
        severity: 'critical',
        title: `Critical rule "${f.rule}" fails on ${asset.qualifiedName}${rows}`,
        evidence: {
          rule: f.rule,
          failedRows: f.failedRows,
          checkedRows: f.checkedRows,
          observed: f.observed,
          ranAt: new Date(f.ranAt).toISOString(),
          details: f.evidence,
        },
      });
    }
    summary.resolved += await resolveCleared(tx, asset.id, 'rule:', ruleKeys, now);

    const report = await anomaliesOf(tx, asset, now, 1);
    if (report.metricsJudged > 0) {
      const anomalyKeys: string[] = [];
      for (const a of report.anomalies) {
        const key = `anomaly:${asset.id}:${a.metric}:${a.column ?? ''}`;
        if (anomalyKeys.includes(key)) continue;
        anomalyKeys.push(key);
        const what = a.column ? `${a.metric.replace('_', ' ')} of ${a.column}` : a.metric.replace(/_/g, ' ');
        const severity: AlertSeverity = a.kind === 'stale' || a.metric === 'row_count' ? 'warning' : 'info';
        await raise(
          {
            assetId: asset.id,
            dedupKey: key,
            kind: 'anomaly',
            severity,
            title: `${asset.qualifiedName}: ${a.kind} in ${what} on ${a.day} (${round(a.value)}, expected ${round(a.expected)})`,
            evidence: {
              ...a,
              value: round(a.value),
              expected: round(a.expected),
              low: round(a.low),
              high: round(a.high),
              score: round(a.score),
            },
          },
          new Date(`${a.day}T00:00:00Z`),
        );
      }
      summary.resolved += await resolveCleared(tx, asset.id, `anomaly:${asset.id}:`, anomalyKeys, now);
    }

    const breaking = report.schemaDrift.filter((d) => d.breaking);
    if (breaking.length > 0) {
      await raise(
        {
          assetId: asset.id,
          dedupKey: `schema:${asset.id}`,
          kind: 'schema_drift',
          severity: 'warning',
          title: `${asset.qualifiedName}: columns removed or retyped (${breaking[0]!.summary})`,
          evidence: { changes: breaking },
        },
        new Date(breaking[0]!.at),
      );
    }
    return summary;
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;
