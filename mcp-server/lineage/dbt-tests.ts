import { and, eq, sql } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import type { Tx } from '../../db/create-db.js';
import { qualityRules } from '../../db/schema/index.js';
import { compiledSql, type DbtManifest, type DbtNode } from './dbt-manifest.js';

/**
 * dbt tests kept as quality rules (origin `dbt`) for the quality work. The four generic tests dbt ships
 * become typed rules (`not_null`, `unique`, `accepted_values` with its values, `relationships` with the
 * referenced asset and column); any other test is a `dbt_test` rule carrying the test's name, arguments
 * and SQL. Disabled tests are kept as disabled rules; a test that left the project has its rule disabled,
 * not deleted, so its results stay. Rules are recognised across ingestions by the test's unique id.
 */

export interface PlannedRule {
  uniqueId: string;
  /** The relation (dbt unique id) the test checks. */
  nodeId: string;
  name: string;
  type: string;
  columnName: string | null;
  config: Record<string, unknown>;
  dimension: string;
  severity: 'info' | 'warning' | 'critical';
  enabled: boolean;
}

const dimensions: Record<string, string> = {
  not_null: 'completeness',
  unique: 'uniqueness',
  accepted_values: 'validity',
  relationships: 'consistency',
};

/** A reference as dbt writes it in test arguments: `ref('orders')`, `ref('pkg', 'orders')`, `source('src', 'tbl')`. */
const reference = /\b(ref|source)\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?(?:,[^)]*)?\)/;

export function plannedRules(
  manifest: DbtManifest,
  isRelation: (uniqueId: string) => boolean,
  urnOf: (uniqueId: string) => string | undefined,
): PlannedRule[] {
  const tests: { node: DbtNode; enabled: boolean }[] = Object.values(manifest.nodes)
    .filter((n) => n.resource_type === 'test')
    .map((node) => ({ node, enabled: node.config?.enabled !== false }));
  for (const versions of Object.values(manifest.disabled ?? {})) {
    for (const node of versions as DbtNode[]) {
      if (node.resource_type === 'test' && node.unique_id) tests.push({ node, enabled: false });
    }
  }
  const relations = [...Object.values(manifest.nodes), ...Object.values(manifest.sources ?? {})].filter((n) =>
    isRelation(n.unique_id),
  );
  const lookup = (text: unknown): string | undefined => {
    const match = typeof text === 'string' ? reference.exec(text) : null;
    if (!match) return undefined;
    const [, kind, first, second] = match;
    if (kind === 'source') {
      return relations.find((n) => n.resource_type === 'source' && n.source_name === first && n.name === second)
        ?.unique_id;
    }
    const name = second ?? first;
    const found = relations.filter((n) => n.resource_type !== 'source' && n.name === name);
    return (found.find((n) => !second || n.package_name === first) ?? found[0])?.unique_id;
  };

  const rules: PlannedRule[] = [];
  for (const { node, enabled } of tests) {
    const meta = node.test_metadata;
    const kwargs = meta?.kwargs ?? {};
    const deps = (node.depends_on?.nodes ?? []).filter(isRelation);
    const fileKey = node.file_key_name?.split('.').at(-1);
    const tested =
      (node.attached_node && isRelation(node.attached_node) ? node.attached_node : undefined) ??
      lookup(kwargs.model) ??
      (deps.length === 1 ? deps[0] : deps.find((d) => d.endsWith(`.${fileKey}`)));
    // A singular test (plain SQL) may read several relations: it checks each of them.
    const targets = tested ? [tested] : meta ? [] : deps;
    const builtIn = meta && (!meta.namespace || meta.namespace === 'dbt') && meta.name in dimensions;
    const type = builtIn ? meta.name : 'dbt_test';
    const columnName = node.column_name ?? (typeof kwargs.column_name === 'string' ? kwargs.column_name : null);
    const config: Record<string, unknown> = { dbt: { project: manifest.project, uniqueId: node.unique_id } };
    if (type === 'accepted_values') {
      config.values = kwargs.values ?? [];
      if (kwargs.quote !== undefined) config.quote = kwargs.quote;
    } else if (type === 'relationships') {
      const to = lookup(kwargs.to);
      config.to = (to && urnOf(to)) ?? kwargs.to ?? null;
      config.field = kwargs.field ?? null;
    } else if (type === 'dbt_test') {
      const { model: _model, column_name: _column, ...args } = kwargs;
      config.test = meta ? (meta.namespace ? `${meta.namespace}.${meta.name}` : meta.name) : 'singular';
      if (Object.keys(args).length > 0) config.arguments = args;
      const code = compiledSql(node) ?? node.raw_code;
      if (code && !meta) config.sql = code;
    }
    if (node.config?.where) config.where = node.config.where;
    for (const nodeId of targets) {
      rules.push({
        uniqueId: node.unique_id,
        nodeId,
        name: node.name,
        type,
        columnName,
        config,
        dimension: dimensions[type] ?? 'validity',
        severity: node.config?.severity?.toUpperCase() === 'WARN' ? 'warning' : 'critical',
        enabled,
      });
    }
  }
  return rules;
}

export interface RuleChanges {
  added: number;
  updated: number;
  disabled: number;
  /** The rules of each test (by unique id), for recording test results. */
  byTest: Map<string, { ruleId: string; assetId: string }[]>;
}

/** Makes the project's dbt rules those planned; vanished ones are disabled. Running it twice changes nothing. */
export async function syncRules(
  tx: Tx,
  project: string,
  rules: (PlannedRule & { assetId: string })[],
  createdBy: string,
): Promise<RuleChanges> {
  const existing = await tx
    .select()
    .from(qualityRules)
    .where(and(eq(qualityRules.origin, 'dbt'), sql`${qualityRules.config}->'dbt'->>'project' = ${project}`));
  const keyOf = (uniqueId: unknown, assetId: string) => `${String(uniqueId)}\u0000${assetId}`;
  const current = new Map(
    existing.map((r) => [keyOf((r.config.dbt as { uniqueId?: string } | undefined)?.uniqueId, r.assetId), r]),
  );
  const changes: RuleChanges = { added: 0, updated: 0, disabled: 0, byTest: new Map() };
  const seen = new Set<string>();
  for (const rule of rules) {
    const key = keyOf(rule.uniqueId, rule.assetId);
    if (seen.has(key)) continue;
    seen.add(key);
    const values = {
      name: rule.name,
      type: rule.type,
      columnName: rule.columnName,
      config: rule.config,
      dimension: rule.dimension,
      severity: rule.severity,
      enabled: rule.enabled,
    };
    const old = current.get(key);
    let id = old?.id;
    if (!old) {
      const [row] = await tx
        .insert(qualityRules)
        .values({ ...values, assetId: rule.assetId, origin: 'dbt', createdBy })
        .returning({ id: qualityRules.id });
      id = row!.id;
      changes.added++;
    } else if (
      old.name !== values.name ||
      old.type !== values.type ||
      old.columnName !== values.columnName ||
      canonicalJson(old.config) !== canonicalJson(values.config) ||
      old.dimension !== values.dimension ||
      old.severity !== values.severity ||
      old.enabled !== values.enabled
    ) {
      await tx.update(qualityRules).set(values).where(eq(qualityRules.id, old.id));
      changes.updated++;
    }
    changes.byTest.set(rule.uniqueId, [
      ...(changes.byTest.get(rule.uniqueId) ?? []),
      { ruleId: id!, assetId: rule.assetId },
    ]);
  }
  for (const [key, old] of current) {
    if (seen.has(key) || !old.enabled) continue;
    await tx.update(qualityRules).set({ enabled: false }).where(eq(qualityRules.id, old.id));
    changes.disabled++;
  }
  return changes;
}
