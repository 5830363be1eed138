import { desc, eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { assets, columns, profiles, qualityScores, qualitySlas } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import type { ColumnProfile } from './profile-stats.js';

/**
 * The 0-100 quality score. Each dimension is a share of evidence that passed, so a person can recompute it
 * from the evidence stored beside it; a dimension with no evidence is null and left out of the overall.
 */
export const dimensionWeights = {
  completeness: 25,
  validity: 25,
  consistency: 15,
  uniqueness: 15,
  timeliness: 10,
  accuracy: 10,
} as const;
export type Dimension = keyof typeof dimensionWeights;
export const scoreDimensions = Object.keys(dimensionWeights) as Dimension[];

/** A required column's null rate counts this many times as much as an optional one's. */
export const requiredColumnWeight = 3;

/** The formulas, as `quality_get` and docs/quality.md state them. */
export const scoreFormulas: Record<Dimension | 'overall', string> = {
  completeness:
    'profile part: 100 × Σ w·(1 − null rate) / Σ w over the profiled columns, w = 3 for a required column (NOT NULL, primary key, or named by a not_null/missing rule) and 1 otherwise; rule part: the rows rule of the completeness rules (not_null, missing, row_count); the mean of the two parts when both exist',
  validity: 'rows rule over the validity rules (accepted values, invalid, expression, dbt tests)',
  consistency: 'rows rule over the consistency rules (relationships, schema, cross-field expressions)',
  uniqueness:
    'rows rule over the uniqueness rules (unique, compound_unique) and the single-column primary keys of an exact profile (rows checked = non-null values, passed = distinct values)',
  timeliness:
    'SLA part: 100 when the time since the last change is within the SLA freshness target, falling linearly to 0 at twice the target; rule part: the rows rule over the freshness rules; the mean of the two when both exist; null without an SLA freshness target (or a known last-change time) and without freshness rules',
  accuracy: 'rows rule over the accuracy rules (distribution bounds, reference values)',
  overall:
    'Σ weight·dimension / Σ weight over the dimensions that are not null; weights: completeness 25, validity 25, consistency 15, uniqueness 15, timeliness 10, accuracy 10. The rows rule: 100 × Σ passing rows / Σ checked rows over the latest result of each enabled rule, where a table-level check (row count, freshness, schema, distribution) counts as checking every row of the table',
};

export interface RuleEvidence {
  rule: string;
  type: string;
  column: string | null;
  passed: boolean;
  checkedRows: number;
  passedRows: number;
  ranAt: string;
}

export interface DimensionEvidence {
  score: number | null;
  rules?: RuleEvidence[];
  columns?: { column: string; nullRate: number; weight: number }[];
  keys?: { column: string; nonNull: number; distinct: number }[];
  sla?: { freshnessHours: number; hoursSinceChange: number | null; score: number | null; note?: string };
  profilePart?: number | null;
  rulePart?: number | null;
  note?: string;
}

interface LatestResult {
  name: string;
  type: string;
  column: string | null;
  dimension: string;
  passed: boolean;
  checkedRows: number | null;
  failedRows: number | null;
  ranAt: Date | string;
}

/**
 * Recomputes an asset's score from its latest profile, the latest result of each enabled rule and its
 * SLA; stores it in the history and in `assets.quality_score` (which search ranks by). Returns null,
 * storing nothing, while no dimension has evidence.
 */
export async function scoreAsset(
  ctx: ServiceContext,
  assetId: string,
): Promise<{ overall: number; dimensions: Record<Dimension, number | null> } | null> {
  const [visible] = await queryRows<{ id: string }>(
    ctx.db,
    sql`select a.id::text from assets a where a.id = ${assetId} and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!visible) throw new DataOpsError('not_found', `no asset with id ${assetId}`);
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const [asset] = await tx.select().from(assets).where(eq(assets.id, assetId)).for('update');
    const [profile] = await tx
      .select()
      .from(profiles)
      .where(eq(profiles.assetId, assetId))
      .orderBy(desc(profiles.profiledAt), desc(profiles.id))
      .limit(1);
    const cols = await tx
      .select({ name: columns.name, nullable: columns.nullable, isPrimaryKey: columns.isPrimaryKey })
      .from(columns)
      .where(eq(columns.assetId, assetId));
    const results = await queryRows<LatestResult>(
      tx,
      sql`select distinct on (r.id) r.name, r.type, r.column_name as "column", r.dimension, q.passed,
          q.checked_rows as "checkedRows", q.failed_rows as "failedRows", q.ran_at as "ranAt"
        from quality_rules r join quality_results q on q.rule_id = r.id
        where r.asset_id = ${assetId} and r.enabled
        order by r.id, q.ran_at desc, q.id`,
    );
    const [sla] = await tx.select().from(qualitySlas).where(eq(qualitySlas.assetId, assetId));
    const evidence = computeDimensions({
      profile: profile
        ? { rowCount: profile.rowCount ?? 0, stats: profile.columnStats as unknown as Record<string, ColumnProfile> }
        : null,
      columns: cols,
      results,
      sla: sla?.freshnessHours != null ? { freshnessHours: sla.freshnessHours } : null,
      lastModified: asset!.lastModified,
      now,
    });
    const dimensions = Object.fromEntries(scoreDimensions.map((d) => [d, evidence[d].score])) as Record<
      Dimension,
      number | null
    >;
    const overall = overallScore(dimensions);
    if (overall === null) return null;
    await tx.insert(qualityScores).values({
      assetId,
      overall,
      dimensions,
      evidence: evidence as unknown as Record<string, unknown>,
      computedAt: now,
    });
    await tx.update(assets).set({ qualityScore: overall }).where(eq(assets.id, assetId));
    return { overall, dimensions };
  });
}

export function overallScore(dimensions: Record<Dimension, number | null>): number | null {
  let sum = 0;
  let weights = 0;
  for (const d of scoreDimensions) {
    const value = dimensions[d];
    if (value === null) continue;
    sum += dimensionWeights[d] * value;
    weights += dimensionWeights[d];
  }
  return weights === 0 ? null : round(sum / weights);
}

interface ScoreInputs {
  profile: { rowCount: number; stats: Record<string, ColumnProfile> } | null;
  columns: { name: string; nullable: boolean; isPrimaryKey: boolean }[];
  results: LatestResult[];
  sla: { freshnessHours: number } | null;
  lastModified: Date | null;
  now: Date;
}

/** Every dimension with the evidence it came from; pure, so tests and the formulas in docs/quality.md agree. */
export function computeDimensions(input: ScoreInputs): Record<Dimension, DimensionEvidence> {
  const tableRows = Math.max(
    1,
    input.profile?.rowCount ?? Math.max(0, ...input.results.map((r) => r.checkedRows ?? 0)),
  );
  const rules = (dimension: Dimension) =>
    input.results
      .filter((r) => r.dimension === dimension)
      .map((r): RuleEvidence => {
        // A table-level check has no row counts: it speaks for every row of the table.
        const checked = r.checkedRows ?? tableRows;
        const failed = r.checkedRows === null ? (r.passed ? 0 : tableRows) : Math.min(checked, r.failedRows ?? 0);
        return {
          rule: r.name,
          type: r.type,
          column: r.column,
          passed: r.passed,
          checkedRows: checked,
          passedRows: checked - failed,
          ranAt: new Date(r.ranAt).toISOString(),
        };
      });
  const rowsRule = (items: { checkedRows: number; passedRows: number }[]) => {
    const checked = items.reduce((s, r) => s + r.checkedRows, 0);
    return checked === 0 ? null : round((100 * items.reduce((s, r) => s + r.passedRows, 0)) / checked);
  };
  const mean = (...parts: (number | null)[]) => {
    const present = parts.filter((p): p is number => p !== null);
    return present.length === 0 ? null : round(present.reduce((s, p) => s + p, 0) / present.length);
  };
  const ruleOnly = (dimension: Dimension): DimensionEvidence => {
    const list = rules(dimension);
    return list.length === 0
      ? { score: null, note: `no ${dimension} rule has run` }
      : { score: rowsRule(list), rules: list };
  };

  // Completeness: null rates of the profile, required columns weighing more, and the completeness rules.
  const completenessRules = rules('completeness');
  const requiredByRule = new Set(
    input.results.filter((r) => r.type === 'not_null' || r.type === 'missing').map((r) => r.column),
  );
  const nullRates =
    input.profile && input.profile.rowCount > 0
      ? input.columns
          .filter((c) => input.profile!.stats[c.name]?.nullRate != null)
          .map((c) => ({
            column: c.name,
            nullRate: input.profile!.stats[c.name]!.nullRate!,
            weight: !c.nullable || c.isPrimaryKey || requiredByRule.has(c.name) ? requiredColumnWeight : 1,
          }))
      : [];
  const weightSum = nullRates.reduce((s, c) => s + c.weight, 0);
  const profilePart =
    weightSum === 0 ? null : round((100 * nullRates.reduce((s, c) => s + c.weight * (1 - c.nullRate), 0)) / weightSum);
  const rulePart = rowsRule(completenessRules);
  const completeness: DimensionEvidence = {
    score: mean(profilePart, rulePart),
    profilePart,
    rulePart,
    columns: nullRates,
    rules: completenessRules,
    ...(profilePart === null && rulePart === null
      ? { note: 'no profile with rows and no completeness rule has run' }
      : {}),
  };

  // Uniqueness: declared single-column keys, verified where the profile counted distinct values exactly.
  const pk = input.columns.filter((c) => c.isPrimaryKey);
  const keys =
    pk.length === 1 && input.profile?.stats[pk[0]!.name]?.distinct?.exact
      ? [
          {
            column: pk[0]!.name,
            nonNull: input.profile.rowCount - input.profile.stats[pk[0]!.name]!.nulls,
            distinct: input.profile.stats[pk[0]!.name]!.distinct!.value,
          },
        ]
      : [];
  const uniquenessRules = rules('uniqueness');
  const uniquenessItems = [
    ...uniquenessRules,
    ...keys.map((k) => ({ checkedRows: k.nonNull, passedRows: Math.min(k.distinct, k.nonNull) })),
  ];
  const uniqueness: DimensionEvidence = {
    score: rowsRule(uniquenessItems),
    rules: uniquenessRules,
    keys,
    ...(uniquenessItems.length === 0
      ? { note: 'no uniqueness rule has run and no single-column primary key was counted exactly' }
      : {}),
  };

  // Timeliness: the SLA's freshness target against the last change the source reported, and freshness rules.
  const timelinessRules = rules('timeliness');
  let sla: DimensionEvidence['sla'];
  if (input.sla) {
    const target = input.sla.freshnessHours;
    if (input.lastModified) {
      const age = (input.now.getTime() - input.lastModified.getTime()) / 3_600_000;
      const score = age <= target ? 100 : round(Math.max(0, 100 * (1 - (age - target) / target)));
      sla = { freshnessHours: target, hoursSinceChange: round(age), score };
    } else {
      sla = {
        freshnessHours: target,
        hoursSinceChange: null,
        score: null,
        note: 'the source reports no last-change time for this asset; a freshness rule on a timestamp column measures it',
      };
    }
  }
  const timelinessRulePart = rowsRule(timelinessRules);
  const timeliness: DimensionEvidence = {
    score: mean(sla?.score ?? null, timelinessRulePart),
    ...(sla ? { sla } : {}),
    rules: timelinessRules,
    ...(!sla && timelinessRules.length === 0 ? { note: 'no SLA freshness target and no freshness rule' } : {}),
  };

  return {
    completeness,
    validity: ruleOnly('validity'),
    consistency: ruleOnly('consistency'),
    uniqueness,
    timeliness,
    accuracy: ruleOnly('accuracy'),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
