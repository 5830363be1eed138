import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { queryRows, uuidSet } from '../../db/create-db.js';
import { activityEvents } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { hiddenColumnNames } from '../governance/access.js';
import { maskAssetRows } from '../governance/masking.js';
import { walk } from '../lineage/queries.js';
import type { Observed } from './check-result.js';
import { getQualityReport } from './score-report.js';

/**
 * "Why is this flagged?": the rules failing now and by how much, with masked failing rows; the score's
 * breakdown and trend; recent schema changes; and upstream assets whose own checks fail, the likely root
 * cause when this asset only inherits bad data.
 */

export interface FailingRule {
  rule: string;
  type: string;
  column: string | null;
  dimension: string;
  severity: string;
  checkedRows: number | null;
  failedRows: number | null;
  /** Failing share of checked rows, 0-100; null for table rules (freshness, schema, row count). */
  failedPercent: number | null;
  observed: Observed;
  summary: string;
  ranAt: string;
  sample: Record<string, unknown>[];
}

export interface QualityExplanation {
  urn: string;
  flagged: boolean;
  /** One paragraph a person can read: what fails, how badly, and where it probably comes from. */
  explanation: string;
  failing: FailingRule[];
  passing: number;
  score: {
    overall: number | null;
    computedAt: string | null;
    change: number | null;
    dimensions: Record<string, number | null>;
    trend: { computedAt: string; overall: number }[];
  };
  schemaChanges: { at: string; summary: string }[];
  upstream: {
    urn: string;
    qualifiedName: string;
    hops: number;
    failing: { rule: string; severity: string; summary: string }[];
  }[];
}

const severityOrder: Record<string, number> = { critical: 0, warning: 1, info: 2 };
const upstreamDepth = 3;

interface LatestRow {
  asset_id: string;
  rule: string;
  type: string;
  column_name: string | null;
  dimension: string;
  severity: string;
  passed: boolean;
  checked_rows: number | null;
  failed_rows: number | null;
  observed_value: unknown;
  evidence: { summary?: string; sample?: Record<string, unknown>[] } | null;
  ran_at: string | Date;
}

/** The latest result of every enabled rule of the given assets. */
async function latestResults(ctx: ServiceContext, assetIds: string[]): Promise<LatestRow[]> {
  if (assetIds.length === 0) return [];
  return queryRows<LatestRow>(
    ctx.db,
    sql`select distinct on (q.rule_id) q.asset_id::text, r.name as rule, r.type, r.column_name, r.dimension, r.severity,
          q.passed, q.checked_rows, q.failed_rows, q.observed_value, q.evidence, q.ran_at
        from quality_results q join quality_rules r on r.id = q.rule_id
        where q.asset_id in ${uuidSet(assetIds)} and r.enabled
        order by q.rule_id, q.ran_at desc, q.id`,
  );
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

export async function explainQuality(ctx: ServiceContext, urn: string): Promise<QualityExplanation> {
  const asset = await findVisibleAsset(ctx, urn);
  const hidden = await hiddenColumnNames(ctx, asset.id);
  // A rule on a column the caller may not see is left out altogether, as the column is.
  const latest = (await latestResults(ctx, [asset.id])).filter((r) => !r.column_name || !hidden.has(r.column_name));
  const failing: FailingRule[] = [];
  for (const r of latest.filter((x) => !x.passed)) {
    const evidence = json<LatestRow['evidence']>(r.evidence) ?? {};
    const checked = r.checked_rows === null ? null : Number(r.checked_rows);
    const failed = r.failed_rows === null ? null : Number(r.failed_rows);
    failing.push({
      rule: r.rule,
      type: r.type,
      column: r.column_name,
      dimension: r.dimension,
      severity: r.severity,
      checkedRows: checked,
      failedRows: failed,
      failedPercent: checked && failed !== null && r.type !== 'row_count' ? (100 * failed) / checked : null,
      observed: json(r.observed_value) as Observed,
      summary: evidence.summary ?? (r.passed ? 'passed' : 'failed'),
      ranAt: new Date(r.ran_at).toISOString(),
      sample: evidence.sample?.length ? (await maskAssetRows(ctx, asset.id, evidence.sample)).rows : [],
    });
  }
  failing.sort(
    (a, b) =>
      (severityOrder[a.severity] ?? 3) - (severityOrder[b.severity] ?? 3) ||
      (b.failedPercent ?? 100) - (a.failedPercent ?? 100) ||
      a.rule.localeCompare(b.rule),
  );

  const report = await getQualityReport(ctx, urn);
  const schemaChanges = await ctx.db
    .select({ at: activityEvents.at, summary: activityEvents.summary })
    .from(activityEvents)
    .where(and(eq(activityEvents.assetId, asset.id), inArray(activityEvents.type, ['schema_changed'])))
    .orderBy(desc(activityEvents.at))
    .limit(5);

  // Upstream through lineage (derived-from and referenced tables); the walk reaches only assets the caller may see.
  const reached = await walk(ctx, asset.id, 'upstream', {
    depth: upstreamDepth,
    asOf: ctx.clock(),
    maxNodes: 200,
    kinds: ['derives', 'references'],
  });
  const upstreamIds = [...reached.layers.keys()].filter((id) => id !== asset.id);
  const upstreamFailing = (await latestResults(ctx, upstreamIds)).filter((r) => !r.passed);
  const upstream: QualityExplanation['upstream'] = [];
  if (upstreamFailing.length) {
    const names = await queryRows<{ id: string; urn: string; qualified_name: string }>(
      ctx.db,
      sql`select id::text, urn, qualified_name from assets where id in ${uuidSet([...new Set(upstreamFailing.map((r) => r.asset_id))])}`,
    );
    for (const a of names) {
      const hiddenUpstream = await hiddenColumnNames(ctx, a.id);
      const rules = upstreamFailing
        .filter((r) => r.asset_id === a.id && (!r.column_name || !hiddenUpstream.has(r.column_name)))
        .map((r) => ({
          rule: r.rule,
          severity: r.severity,
          summary: json<LatestRow['evidence']>(r.evidence)?.summary ?? 'failed',
        }));
      if (rules.length)
        upstream.push({
          urn: a.urn,
          qualifiedName: a.qualified_name,
          hops: Math.abs(reached.layers.get(a.id) ?? 0),
          failing: rules,
        });
    }
    upstream.sort((x, y) => x.hops - y.hops || x.qualifiedName.localeCompare(y.qualifiedName));
  }

  const score = {
    overall: report.score,
    computedAt: report.computedAt,
    change: report.change,
    dimensions: Object.fromEntries(Object.entries(report.dimensions).map(([d, e]) => [d, e.score])),
    trend: report.trend,
  };
  return {
    urn: asset.urn,
    flagged: failing.length > 0 || upstream.length > 0,
    explanation: explanationText(asset.qualifiedName, failing, latest.length, score, schemaChanges.length, upstream),
    failing,
    passing: latest.filter((r) => r.passed).length,
    score,
    schemaChanges: schemaChanges.map((c) => ({ at: c.at.toISOString(), summary: c.summary })),
    upstream,
  };
}

function explanationText(
  name: string,
  failing: FailingRule[],
  checked: number,
  score: QualityExplanation['score'],
  schemaChanges: number,
  upstream: QualityExplanation['upstream'],
): string {
  if (checked === 0 && upstream.length === 0) {
    return `${name} has no check results yet: add rules (quality_create_rule) and run them (quality_run_checks).`;
  }
  const parts: string[] = [];
  if (failing.length === 0) parts.push(`All ${checked} checks of ${name} pass.`);
  else {
    const worst = failing
      .slice(0, 3)
      .map((f) => `"${f.rule}" (${f.severity}): ${f.summary}`)
      .join('; ');
    parts.push(`${failing.length} of ${checked} checks of ${name} fail: ${worst}${failing.length > 3 ? '; …' : ''}.`);
  }
  if (score.overall !== null) {
    const low = Object.entries(score.dimensions)
      .filter(([, v]) => v !== null && v < 90)
      .map(([d, v]) => `${d} ${Math.round(v!)}`);
    parts.push(
      `Score ${Math.round(score.overall)}/100${score.change ? ` (${score.change > 0 ? '+' : ''}${score.change} since the previous score)` : ''}${low.length ? `, lowest: ${low.join(', ')}` : ''}.`,
    );
  }
  if (schemaChanges > 0)
    parts.push(`The schema changed recently (${schemaChanges} change${schemaChanges > 1 ? 's' : ''}).`);
  if (upstream.length > 0) {
    parts.push(
      `Upstream checks fail too, a likely cause: ${upstream
        .slice(0, 3)
        .map((u) => `${u.qualifiedName} (${u.failing.map((f) => `"${f.rule}"`).join(', ')})`)
        .join('; ')}.`,
    );
  }
  return parts.join(' ');
}
