import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import { DataOpsError } from '../../core/errors.js';
import { type Db, queryRows, type Tx, textArray } from '../../db/create-db.js';
import { domains, policies, policyLinks } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from './access.js';
import { appendAudit } from './audit.js';
import {
  type AssetFacts,
  type GovernedAction,
  type PolicyForEvaluation,
  type PolicyRule,
  type PolicyWarning,
  parseStoredRules,
  ruleGoverns,
  type UnmetRequirement,
  unmetRequirements,
} from './policy-rules.js';

export const policyKinds = ['access', 'retention', 'handling', 'privacy', 'quality', 'security'] as const;

export interface PolicyInput {
  name: string;
  kind: (typeof policyKinds)[number];
  description?: string;
  document: string;
  authority: string;
  rules: PolicyRule[];
}

/** Creates a policy, or replaces the text and rules of the policy with that name (so re-running it is harmless). */
export async function savePolicy(ctx: ServiceContext, input: PolicyInput) {
  requireRole(ctx.principal, 'write policies', 'steward');
  for (const domain of new Set(input.rules.flatMap((r) => (r.when.domain ? [r.when.domain] : [])))) {
    await findVisibleDomain(ctx, domain);
  }
  const now = ctx.clock();
  const values = {
    kind: input.kind,
    description: input.description ?? null,
    document: input.document,
    authority: input.authority,
    rules: input.rules,
    updatedAt: now,
  };
  await ctx.db.transaction(async (tx) => {
    // Serialises writers of one name; the insert below meets a concurrent creator's row as a conflict.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`policy:${input.name}`}))`);
    const [existing] = await tx.select().from(policies).where(eq(policies.name, input.name));
    if (existing && samePolicy(existing, values)) return;
    if (existing) await tx.update(policies).set(values).where(eq(policies.id, existing.id));
    else await tx.insert(policies).values({ name: input.name, ...values, createdBy: ctx.principal.id, createdAt: now });
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: existing ? 'policy.update' : 'policy.create',
      targetUrn: null,
      details: { policy: input.name, authority: input.authority, rules: input.rules },
      at: now,
    });
  });
  return (await listPolicies(ctx, { name: input.name })).policies[0]!;
}

/** Saving the same text and rules again changes nothing and records nothing. */
function samePolicy(existing: typeof policies.$inferSelect, values: Omit<typeof policies.$inferInsert, 'name'>) {
  return (
    existing.kind === values.kind &&
    existing.description === values.description &&
    existing.document === values.document &&
    existing.authority === values.authority &&
    canonicalJson(parseStoredRules(existing.rules)) === canonicalJson(values.rules)
  );
}

export type PolicyTarget = { urn: string } | { tag: string } | { domain: string };

/** Links a policy to an asset, to every asset with a tag, or to a domain; `unlink` removes the link. Audited. */
export async function linkPolicy(
  ctx: ServiceContext,
  request: { policy: string; target: PolicyTarget; unlink?: boolean },
) {
  requireRole(ctx.principal, 'link policies', 'steward');
  const policy = await findPolicy(ctx.db, request.policy);
  const link = await resolveTarget(ctx, request.target);
  const now = ctx.clock();
  const changed = await ctx.db.transaction(async (tx) => {
    const rows = request.unlink
      ? await tx
          .delete(policyLinks)
          .where(
            and(
              eq(policyLinks.policyId, policy.id),
              link.assetId ? eq(policyLinks.assetId, link.assetId) : isNull(policyLinks.assetId),
              link.tag ? eq(policyLinks.tag, link.tag) : isNull(policyLinks.tag),
              link.domainId ? eq(policyLinks.domainId, link.domainId) : isNull(policyLinks.domainId),
            ),
          )
          .returning({ id: policyLinks.policyId })
      : await tx
          .insert(policyLinks)
          .values({ policyId: policy.id, ...link, createdAt: now })
          .onConflictDoNothing()
          .returning({ id: policyLinks.policyId });
    if (rows.length === 0) return false;
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: request.unlink ? 'policy.unlink' : 'policy.link',
      targetUrn: 'urn' in request.target ? request.target.urn : null,
      details: { policy: policy.name, target: request.target },
      at: now,
    });
    return true;
  });
  return { policy: policy.name, target: describeTarget(request.target), linked: !request.unlink, changed };
}

async function findPolicy(db: Db, name: string) {
  const [policy] = await db.select().from(policies).where(eq(policies.name, name));
  if (!policy) {
    throw new DataOpsError('not_found', `no policy named "${name}": governance_list_policies lists them`);
  }
  return policy;
}

async function resolveTarget(ctx: ServiceContext, target: PolicyTarget) {
  if ('urn' in target) return { assetId: (await findVisibleAsset(ctx, target.urn)).id, tag: null, domainId: null };
  if ('tag' in target) return { assetId: null, tag: target.tag, domainId: null };
  await findVisibleDomain(ctx, target.domain);
  return { assetId: null, tag: null, domainId: target.domain };
}

/** A domain the principal may know of: a restricted one outside its memberships is "not found". */
export async function findVisibleDomain(ctx: ServiceContext, id: string) {
  const [domain] = await ctx.db.select().from(domains).where(eq(domains.id, id));
  if (!domain || (domain.restricted && !ctx.principal.domains.includes(id))) {
    throw new DataOpsError('not_found', `no domain ${id}: catalog_search shows the domains you can see as facets`);
  }
  return domain;
}

function describeTarget(target: PolicyTarget): string {
  if ('urn' in target) return target.urn;
  if ('tag' in target) return `tag ${target.tag}`;
  return `domain ${target.domain}`;
}

/** Policies with their rules and what they are linked to; assets and domains the caller may not see are left out. */
export async function listPolicies(ctx: ServiceContext, filter: { name?: string; urn?: string } = {}) {
  const assetId = filter.urn ? (await findVisibleAsset(ctx, filter.urn)).id : null;
  const rows = await queryRows<{
    id: string;
    name: string;
    kind: string;
    description: string | null;
    document: string | null;
    authority: string | null;
    rules: unknown;
    updatedAt: string;
  }>(
    ctx.db,
    sql`select p.id, p.name, p.kind, p.description, p.document, p.authority, p.rules, p.updated_at::text as "updatedAt"
        from policies p
        where (${filter.name ?? null}::text is null or p.name = ${filter.name ?? null})
          and (${assetId}::uuid is null or p.id in (${applicablePolicyIdsSql(sql`${assetId}::uuid`)}))
        order by p.name`,
  );
  const links = await queryRows<{ policyId: string; urn: string | null; tag: string | null; domain: string | null }>(
    ctx.db,
    sql`select l.policy_id as "policyId", a.urn, l.tag, l.domain_id as domain
        from policy_links l
        left join assets a on a.id = l.asset_id
        left join domains d on d.id = l.domain_id
        where (l.asset_id is null or ${visibleAssetsSql(ctx.principal)})
          and (l.domain_id is null or not d.restricted or d.id = any(${textArray(ctx.principal.domains)}))
        order by a.urn, l.tag, l.domain_id`,
  );
  const hiddenDomains = (
    await queryRows<{ id: string }>(
      ctx.db,
      sql`select id from domains where restricted and not (id = any(${textArray(ctx.principal.domains)}))`,
    )
  ).map((d) => d.id);
  return {
    policies: rows.map((p) => {
      const mine = links.filter((l) => l.policyId === p.id);
      return {
        name: p.name,
        kind: p.kind,
        description: p.description,
        document: p.document,
        authority: p.authority,
        // A rule about a need-to-know domain the caller is outside of would tell it that the domain exists.
        rules: parseStoredRules(p.rules).filter(
          (r) => !r.when.domain || hiddenDomains.every((d) => d !== r.when.domain),
        ),
        linkedTo: {
          assets: mine.flatMap((l) => (l.urn ? [l.urn] : [])),
          tags: mine.flatMap((l) => (l.tag ? [l.tag] : [])),
          domains: mine.flatMap((l) => (l.domain ? [l.domain] : [])),
        },
        updatedAt: new Date(p.updatedAt).toISOString(),
      };
    }),
  };
}

/** Ids of the policies that govern an asset: linked to it, to one of its tags, or to its domain. */
function applicablePolicyIdsSql(assetId: SQL): SQL {
  return sql`select l.policy_id from policy_links l join assets x on x.id = ${assetId}
    where l.asset_id = x.id or l.tag = any(x.tags) or l.domain_id = x.domain_id`;
}

/**
 * Reads what the rules look at, for assets the service has already found visible. Pass the transaction
 * of a write, so the rules see the asset as the write leaves it.
 */
export async function loadAssetFacts(db: Pick<Db, 'execute'>, assetIds: string[], now: Date): Promise<AssetFacts[]> {
  if (assetIds.length === 0) return [];
  return queryRows<AssetFacts>(
    db,
    sql`select a.id::text, a.urn, a.qualified_name as "qualifiedName", a.kind, a.domain_id as domain, a.tags,
          a.classification::text as classification, a.owner, a.description,
          array(select c.level from certifications c where c.asset_id = a.id and c.status = 'approved'
            and (c.expires_at is null or c.expires_at > ${now.toISOString()}::timestamptz) order by c.level) as certifications,
          array(select distinct k.sensitivity from columns k where k.asset_id = a.id and k.sensitivity is not null)
            as "columnSensitivities",
          coalesce(t.status in ('authorized', 'interim')
            and (t.expires_at is null or t.expires_at > ${now.toISOString()}::timestamptz), false) as "atoCurrent",
          (select count(*) from compliance_controls s where s.asset_id = a.id and s.status = 'open')::int as "openControls"
        from assets a left join ato_authorizations t on t.asset_id = a.id
        where a.id = any(${textArray(assetIds)}::uuid[])
        order by a.qualified_name`,
  );
}

/** The policies governing each asset, keyed by asset id. */
export async function loadApplicablePolicies(
  db: Pick<Db, 'execute'>,
  assetIds: string[],
): Promise<Map<string, PolicyForEvaluation[]>> {
  const rows = await queryRows<{ assetId: string; name: string; authority: string | null; rules: unknown }>(
    db,
    sql`select distinct x.id::text as "assetId", p.name, p.authority, p.rules
        from assets x
        join policy_links l on l.asset_id = x.id or l.tag = any(x.tags) or l.domain_id = x.domain_id
        join policies p on p.id = l.policy_id
        where x.id = any(${textArray(assetIds)}::uuid[])
        order by p.name`,
  );
  const byAsset = new Map<string, PolicyForEvaluation[]>();
  for (const row of rows) {
    const list = byAsset.get(row.assetId) ?? [];
    list.push({ name: row.name, authority: row.authority, rules: parseStoredRules(row.rules) });
    byAsset.set(row.assetId, list);
  }
  return byAsset;
}

/**
 * The one policy check of every governed write: call it inside the write's transaction, after the change,
 * with the assets it touched. A blocking rule the assets would break refuses the action (the transaction
 * rolls back); unmet warning rules are returned so the caller can report them.
 */
export async function enforcePolicies(
  tx: Tx,
  ctx: ServiceContext,
  action: GovernedAction,
  assetIds: string[],
): Promise<PolicyWarning[]> {
  const facts = await loadAssetFacts(tx, assetIds, ctx.clock());
  const applicable = await loadApplicablePolicies(tx, assetIds);
  const warnings: PolicyWarning[] = [];
  for (const asset of facts) {
    const governing = (applicable.get(asset.id) ?? []).map((p) => ({
      ...p,
      rules: p.rules.filter((r) => ruleGoverns(r, action)),
    }));
    const unmet = unmetRequirements(asset, governing);
    const blocking = unmet.filter((u) => u.enforcement === 'blocking');
    if (blocking.length > 0) {
      throw new DataOpsError(
        'forbidden',
        `${action} refused on ${asset.qualifiedName}: ${blocking.map(describeBreach).join('; ')}. ` +
          'Meet the requirement first (or ask a steward to change the policy).',
      );
    }
    warnings.push(
      ...unmet.map((u) => ({
        asset: asset.urn,
        policy: u.policy,
        authority: u.authority,
        requirement: u.requirement,
      })),
    );
  }
  return warnings;
}

function describeBreach(u: UnmetRequirement): string {
  return `blocking policy "${u.policy}"${u.authority ? ` (${u.authority})` : ''} requires ${u.requirement}`;
}
