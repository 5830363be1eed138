import { and, eq, sql } from 'drizzle-orm';
import { isMap, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { canonicalJson } from '../../core/canonical-json.js';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { qualityRules } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from '../governance/access.js';
import { auditRule, ruleInputSchema, validateRule } from './rules.js';

/**
 * Rules kept in a YAML file, next to the code that produces the data:
 *
 *   suite: personnel            # optional; defaults to the file's name
 *   assets:
 *     - asset: urn:dataops:postgres:demo:personnel.people
 *       rules:
 *         - name: email present
 *           type: not_null
 *           column: email
 *           severity: critical
 *
 * Applying a file makes the suite's rules what the file says: new rules are added, changed ones
 * updated, rules no longer in the file disabled (never deleted: their results stay). Applying the same
 * file twice changes nothing. A file with any error changes nothing, and the error names the line.
 */

const fileSchema = z
  .object({
    suite: z.string().min(1).max(200).optional(),
    assets: z.array(z.object({ asset: z.string().min(1), rules: z.array(z.record(z.string(), z.unknown())) }).strict()),
  })
  .strict();

export interface ApplySummary {
  suite: string;
  added: string[];
  updated: string[];
  disabled: string[];
  unchanged: number;
}

/** The document's value; an alias bomb (aliases expanding to a huge value) is one line naming the file. */
function toJs(doc: ReturnType<typeof parseDocument>, fileName: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    const message = /alias count/i.test(error.message)
      ? 'its YAML aliases (*name) expand to too much data (the yaml library calls it a resource exhaustion attack): write the rules out instead'
      : error.message.split('\n')[0];
    throw new DataOpsError('invalid_input', `${fileName}: ${message}; nothing was applied`, { cause: error });
  }
}

/** Applies a rules file's text; `fileName` names the suite when the file does not, and the file in errors. */
export async function applyRulesYaml(ctx: ServiceContext, text: string, fileName: string): Promise<ApplySummary> {
  requireRole(ctx.principal, 'apply quality rules', 'steward', 'owner');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lines.linePos(offset).line);
  const fail = (offset: number | undefined, message: string): never => {
    throw new DataOpsError('invalid_input', `${fileName}:${lineOf(offset)}: ${message}; nothing was applied`);
  };
  if (doc.errors.length) fail(doc.errors[0]!.pos[0], doc.errors[0]!.message.split('\n')[0]!);
  const parsed = fileSchema.safeParse(toJs(doc, fileName));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number] } | undefined;
    fail(node?.range?.[0], `${issue.path.join('.') || 'the file'}: ${issue.message}`);
  }
  const file = parsed.data!;
  const suite = file.suite ?? fileName.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');

  // Validate everything first: a file is applied whole or not at all.
  const wanted: { assetId: string; urn: string; values: Awaited<ReturnType<typeof validateRule>> }[] = [];
  const seen = new Set<string>();
  const assetNodes = doc.get('assets', true);
  for (const [i, entry] of file.assets.entries()) {
    const entryNode = isSeq(assetNodes) ? (assetNodes.items[i] as YAMLMap) : undefined;
    const asset = await findVisibleAsset(ctx, entry.asset).catch((error: unknown) =>
      fail(entryNode?.range?.[0], isDataOpsError(error) ? error.message : String(error)),
    );
    const ruleNodes = isMap(entryNode) ? entryNode.get('rules', true) : undefined;
    for (const [j, raw] of entry.rules.entries()) {
      const at = isSeq(ruleNodes) ? (ruleNodes.items[j] as YAMLMap | undefined)?.range?.[0] : undefined;
      const input = ruleInputSchema.safeParse(raw);
      if (!input.success) {
        const issue = input.error.issues[0]!;
        fail(
          at,
          `rule ${JSON.stringify(raw.name ?? j + 1)}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
        );
      }
      const key = `${asset.id}\u0000${input.data!.name}`;
      if (seen.has(key)) fail(at, `rule "${input.data!.name}" appears twice for ${entry.asset}`);
      seen.add(key);
      const values = await validateRule(ctx, asset, input.data!).catch((error: unknown) =>
        fail(at, isDataOpsError(error) ? error.message : String(error)),
      );
      wanted.push({ assetId: asset.id, urn: entry.asset, values: { ...values, config: { ...values.config, suite } } });
    }
  }

  return ctx.db.transaction(async (tx) => {
    const summary: ApplySummary = { suite, added: [], updated: [], disabled: [], unchanged: 0 };
    const existing = await tx
      .select()
      .from(qualityRules)
      .where(and(eq(qualityRules.origin, 'yaml'), sql`${qualityRules.config}->>'suite' = ${suite}`));
    const byKey = new Map(existing.map((r) => [`${r.assetId}\u0000${r.name}`, r]));
    for (const rule of wanted) {
      const key = `${rule.assetId}\u0000${rule.values.name}`;
      const old = byKey.get(key);
      byKey.delete(key);
      if (!old) {
        const [clash] = await tx
          .select({ origin: qualityRules.origin })
          .from(qualityRules)
          .where(and(eq(qualityRules.assetId, rule.assetId), eq(qualityRules.name, rule.values.name)));
        if (clash) {
          throw new DataOpsError(
            'conflict',
            `${fileName}: ${rule.urn} already has a rule "${rule.values.name}" from ${clash.origin}: rename it in the file; nothing was applied`,
          );
        }
        const [row] = await tx
          .insert(qualityRules)
          .values({ ...rule.values, assetId: rule.assetId, origin: 'yaml', createdBy: ctx.principal.id })
          .returning();
        await auditRule(tx, ctx, 'quality.rule.create', rule.urn, row!);
        summary.added.push(`${rule.urn} ${rule.values.name}`);
        continue;
      }
      const same = (['type', 'columnName', 'dimension', 'severity', 'threshold', 'schedule', 'enabled'] as const).every(
        (field) => old[field] === rule.values[field],
      );
      if (same && canonicalJson(old.config) === canonicalJson(rule.values.config)) {
        summary.unchanged++;
        continue;
      }
      const [row] = await tx.update(qualityRules).set(rule.values).where(eq(qualityRules.id, old.id)).returning();
      await auditRule(tx, ctx, 'quality.rule.update', rule.urn, row!);
      summary.updated.push(`${rule.urn} ${rule.values.name}`);
    }
    // Rules on assets the caller may not see are left alone (and never named).
    const visible = new Map(
      (
        await queryRows<{ id: string; urn: string }>(
          tx,
          sql`select a.id::text, a.urn from assets a where a.id in (select asset_id from quality_rules
            where origin = 'yaml' and config->>'suite' = ${suite}) and ${visibleAssetsSql(ctx.principal)}`,
        )
      ).map((a) => [a.id, a.urn]),
    );
    for (const gone of byKey.values()) {
      const urn = visible.get(gone.assetId);
      if (!gone.enabled || !urn) continue;
      const [row] = await tx
        .update(qualityRules)
        .set({ enabled: false })
        .where(eq(qualityRules.id, gone.id))
        .returning();
      await auditRule(tx, ctx, 'quality.rule.disable', urn, row!);
      summary.disabled.push(`${urn} ${gone.name}`);
    }
    return summary;
  });
}
