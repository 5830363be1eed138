import { desc, eq } from 'drizzle-orm';
import { qualityScores } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { hiddenColumnNames } from '../governance/access.js';
import { type Dimension, type DimensionEvidence, dimensionWeights, scoreDimensions, scoreFormulas } from './score.js';

export interface QualityReport {
  urn: string;
  score: number | null;
  computedAt: string | null;
  dimensions: Record<Dimension, DimensionEvidence & { weight: number; formula: string }>;
  overallFormula: string;
  trend: { computedAt: string; overall: number }[];
  /** Latest overall minus the one before; null with fewer than two scores. */
  change: number | null;
}

const trendLength = 20;

/**
 * An asset's latest score with each dimension's evidence and formula, and the trend. Evidence about
 * columns above the caller's clearance is left out (the dimension values still count them).
 */
export async function getQualityReport(ctx: ServiceContext, urn: string): Promise<QualityReport> {
  const asset = await findVisibleAsset(ctx, urn);
  const history = await ctx.db
    .select()
    .from(qualityScores)
    .where(eq(qualityScores.assetId, asset.id))
    .orderBy(desc(qualityScores.computedAt), desc(qualityScores.id))
    .limit(trendLength);
  const latest = history[0];
  const hidden = await hiddenColumnNames(ctx, asset.id);
  const stored = (latest?.evidence ?? {}) as Partial<Record<Dimension, DimensionEvidence>>;
  const dimensions = Object.fromEntries(
    scoreDimensions.map((d) => {
      const evidence: DimensionEvidence = stored[d] ?? {
        score: latest?.dimensions[d] ?? null,
        note: latest ? undefined : 'not scored yet: profile the asset or run its checks',
      };
      return [
        d,
        {
          ...evidence,
          ...(evidence.columns ? { columns: evidence.columns.filter((c) => !hidden.has(c.column)) } : {}),
          ...(evidence.keys ? { keys: evidence.keys.filter((k) => !hidden.has(k.column)) } : {}),
          ...(evidence.rules
            ? { rules: evidence.rules.filter((r) => r.column === null || !hidden.has(r.column)) }
            : {}),
          weight: dimensionWeights[d],
          formula: scoreFormulas[d],
        },
      ];
    }),
  ) as QualityReport['dimensions'];
  const trend = history.map((h) => ({ computedAt: h.computedAt.toISOString(), overall: h.overall })).reverse();
  return {
    urn: asset.urn,
    score: latest?.overall ?? null,
    computedAt: latest?.computedAt.toISOString() ?? null,
    dimensions,
    overallFormula: scoreFormulas.overall,
    trend,
    change: history.length >= 2 ? Math.round((history[0]!.overall - history[1]!.overall) * 10) / 10 : null,
  };
}
