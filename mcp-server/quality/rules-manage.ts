import { and, eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { qualityRules } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { evaluateAlerts } from './alerts-evaluate.js';
import { auditRule, listRules, type QualityRule } from './rules.js';
import { scoreAsset } from './score.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One rule of an asset the caller may see, by id or by name. Looked up among the rules the caller is shown
 * (quality_list_rules with disabled ones), so a rule hidden from the list cannot be reached here either.
 */
async function findRule(ctx: ServiceContext, urn: string, ref: string) {
  const asset = await findVisibleAsset(ctx, urn);
  const rules = await listRules(ctx, urn, { includeDisabled: true });
  const byId = uuidPattern.test(ref) ? rules.find((r) => r.id === ref.toLowerCase()) : undefined;
  const rule = byId ?? rules.find((r) => r.name === ref);
  if (!rule) {
    throw new DataOpsError(
      'not_found',
      `${urn} has no rule ${JSON.stringify(ref)}: quality_list_rules with includeDisabled lists its rules`,
    );
  }
  return { asset, rule };
}

/** After a rule changes, the score and the rule alerts reflect only the rules still enabled, now. */
async function refreshAsset(ctx: ServiceContext, assetId: string): Promise<void> {
  await scoreAsset(ctx, assetId);
  await evaluateAlerts(ctx.db, assetId, ctx.clock());
}

/**
 * Turns a rule off or on (stewards and owners, as creation). A disabled rule is kept with its results, but the
 * scheduler does not run it, it does not count in the score and a failing one raises no alert. Audited.
 */
export async function setRuleEnabled(
  ctx: ServiceContext,
  urn: string,
  ref: string,
  enabled: boolean,
): Promise<{ rule: QualityRule; changed: boolean }> {
  requireRole(ctx.principal, `${enabled ? 'enable' : 'disable'} quality rules`, 'steward', 'owner');
  const { asset, rule } = await findRule(ctx, urn, ref);
  if (rule.enabled === enabled) return { rule, changed: false };
  const updated = await ctx.db.transaction(async (tx) => {
    const [row] = await tx.update(qualityRules).set({ enabled }).where(eq(qualityRules.id, rule.id)).returning();
    await auditRule(tx, ctx, enabled ? 'quality.rule.enable' : 'quality.rule.disable', urn, row!);
    return row!;
  });
  await refreshAsset(ctx, asset.id);
  return { rule: updated, changed: true };
}

export interface DeletedRule {
  rule: QualityRule;
  /** Past results removed with the rule; the audit entry keeps their count and the last verdict. */
  resultsRemoved: number;
  lastResult: { passed: boolean; ranAt: string } | null;
}

/**
 * Deletes a rule and its past results (stewards and owners). The name is free again afterwards. What is lost is
 * recorded in the audit log: the rule's definition, how many results it had and its last verdict; the score
 * history already computed stays. To keep a rule's results readable, disable it instead.
 */
export async function deleteRule(ctx: ServiceContext, urn: string, ref: string): Promise<DeletedRule> {
  requireRole(ctx.principal, 'delete quality rules', 'steward', 'owner');
  const { asset, rule } = await findRule(ctx, urn, ref);
  const deleted = await ctx.db.transaction(async (tx) => {
    const [history] = await queryRows<{ n: number; passed: boolean | null; ran_at: string | null }>(
      tx,
      sql`select (select count(*)::int from quality_results where rule_id = ${rule.id}) as n, last.passed, last.ran_at
          from (select 1) one left join lateral (select passed, ran_at from quality_results where rule_id = ${rule.id}
            order by ran_at desc, id desc limit 1) last on true`,
    );
    const gone = await tx
      .delete(qualityRules)
      .where(and(eq(qualityRules.id, rule.id), eq(qualityRules.assetId, asset.id)))
      .returning({ id: qualityRules.id });
    if (gone.length === 0) throw new DataOpsError('conflict', `rule "${rule.name}" was just deleted by someone else`);
    const lastResult =
      history?.passed == null ? null : { passed: history.passed, ranAt: new Date(history.ran_at!).toISOString() };
    await auditRule(tx, ctx, 'quality.rule.delete', urn, rule, {
      definition: {
        config: rule.config,
        dimension: rule.dimension,
        severity: rule.severity,
        threshold: rule.threshold,
        schedule: rule.schedule,
      },
      resultsRemoved: history?.n ?? 0,
      lastResult,
    });
    return { rule, resultsRemoved: history?.n ?? 0, lastResult };
  });
  await refreshAsset(ctx, asset.id);
  return deleted;
}
