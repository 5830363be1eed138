import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../../db/create-db.js';
import { alerts, assets, dataProducts } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { annotateAssets, defineDomains } from '../../mcp-server/catalog/annotate.js';
import { syncSource } from '../../mcp-server/catalog/sync.js';
import { assetUrn } from '../../mcp-server/catalog/urn.js';
import type { DiscoveredAsset } from '../../mcp-server/connectors/types.js';
import type { ServiceContext } from '../../mcp-server/context.js';
import { addManualEdge } from '../../mcp-server/lineage/edit.js';
import { allTools } from '../../mcp-server/registry.js';
import { runTool } from '../../mcp-server/run-tool.js';
import { contextAs } from './test-context.js';

/**
 * A small catalog for governance tests where every asset carries marker strings of its own (in its name,
 * description, tag, owner and columns), so that finding any of them in an output proves the asset leaked.
 * `rd` is unclassified but sits in a restricted domain; `end` and `out` are unclassified and visible to all.
 */
export const levels = ['u', 'c', 's', 'ts', 'rd', 'end', 'out'] as const;
export type Level = (typeof levels)[number];

const marking: Record<Level, Classification> = { u: 'U', c: 'C', s: 'S', ts: 'TS', rd: 'U', end: 'U', out: 'U' };
export const restrictedDomain = 'zrd';
export const source = 'matrix';

export interface FixtureAsset {
  level: Level;
  urn: string;
  id: string;
  name: string;
  qualifiedName: string;
  column: string;
  tag: string;
  owner: string;
  /** Every string that names this asset or only it: finding one in an output reveals the asset. */
  secrets: string[];
  /** Ids of things about it (access requests, comments, certification requests, alerts): they reveal it too. */
  ids: Record<EntityKind, string[]>;
}

export const entityKinds = ['request', 'comment', 'certification', 'alert', 'rule'] as const;
export type EntityKind = (typeof entityKinds)[number];

/** A stand-in that does not exist, named the same way, to compare a hidden asset's answers with. */
export interface Ghost {
  urn: string;
  id: string;
  name: string;
  qualifiedName: string;
  ids: Record<EntityKind, string[]>;
}

export interface MatrixPrincipal {
  key: 'u' | 'c' | 's' | 'ts' | 'ts_out';
  ctx: ServiceContext;
}

export interface LeakFixture {
  assets: Record<Level, FixtureAsset>;
  ghosts: Record<Level, Ghost>;
  principals: MatrixPrincipal[];
  admin: ServiceContext;
  /** A policy the admin created (when the policy tools exist), for tools that take a policy name. */
  policy: string;
  /**
   * The levels a principal may see as the catalog stands now: markings change as tools run (propagation
   * through lineage, classification tools), so this is read from the database, not assumed.
   */
  visibleTo(principal: MatrixPrincipal): Promise<Set<Level>>;
}

const cleared: Record<MatrixPrincipal['key'], Classification> = { u: 'U', c: 'C', s: 'S', ts: 'TS', ts_out: 'TS' };
const order: Classification[] = ['U', 'C', 'S', 'TS'];

function table(level: Level, extra: Partial<DiscoveredAsset> = {}): DiscoveredAsset {
  return {
    kind: 'table',
    namespace: 'zns',
    name: `zmark_${level}`,
    description: `Holdings zdesc_${level} for the matrix`,
    owner: `zown_${level}`,
    rowCount: 100,
    columns: [
      { name: `zmark_${level}_id`, position: 1, dataType: 'integer', nullable: false, isPrimaryKey: true },
      { name: `zmark_${level}_amount`, position: 2, dataType: 'numeric', nullable: true, isPrimaryKey: false },
    ],
    ...extra,
  };
}

/**
 * Builds the catalog, its lineage and access requests, and the principals of each clearance. With
 * `connection`, the source's data can be reached there (a database holding the `zns.zmark_<level>` tables),
 * so pipelines over the fixture run and write; without it the source is catalogued only.
 */
export async function createLeakFixture(
  database: Database,
  options: { connection?: string } = {},
): Promise<LeakFixture> {
  const admin = await contextAs(database, {
    id: 'matrix_admin',
    displayName: 'Matrix Admin',
    clearance: 'TS',
    roles: ['admin'],
    domains: [],
  });
  await defineDomains(admin, [{ id: restrictedDomain, name: 'Zrd restricted', restricted: true }]);
  // Joining the domain needs it to exist first.
  const setup = await contextAs(database, {
    id: 'matrix_admin',
    displayName: 'Matrix Admin',
    clearance: 'TS',
    roles: ['admin'],
    domains: [restrictedDomain],
  });
  await syncSource(
    setup,
    {
      kind: 'postgres',
      name: source,
      location: 'postgres://matrix@db.example:5432/matrix',
      errors: [],
      assets: levels.map((level) =>
        level === 'end'
          ? table(level, {
              foreignKeys: [
                {
                  name: 'end_ts_fk',
                  columns: ['zmark_end_id'],
                  refNamespace: 'zns',
                  refName: 'zmark_ts',
                  refColumns: ['zmark_ts_id'],
                },
              ],
            })
          : table(level),
      ),
    },
    options.connection ? { connection: options.connection } : {},
  );
  const urnOf = (level: Level) => assetUrn('postgres', source, 'zns', `zmark_${level}`);
  // A chain through every marking, a side branch through the restricted domain, both ending in `end`.
  const edges: [Level, Level][] = [
    ['u', 'c'],
    ['c', 's'],
    ['s', 'ts'],
    ['ts', 'end'],
    ['u', 'rd'],
    ['rd', 'end'],
  ];
  for (const [from, to] of edges) {
    await addManualEdge(setup, {
      from: urnOf(from),
      to: urnOf(to),
      columns: [{ from: `zmark_${from}_amount`, to: `zmark_${to}_amount` }],
    });
  }

  // Marked after the lineage, which would otherwise raise `end` to the TS of its input (propagation).
  await annotateAssets(
    setup,
    levels.map((level) => ({
      urn: urnOf(level),
      classification: marking[level],
      tags: [`ztag_${level}`],
      domain: level === 'rd' ? restrictedDomain : undefined,
      columns: { [`zmark_${level}_amount`]: { sensitivity: 'pii' } },
    })),
  );
  const rows = await database.db.select({ id: assets.id, urn: assets.urn }).from(assets);
  const idOf = new Map(rows.map((r) => [r.urn, r.id]));
  const fixtureAssets = Object.fromEntries(
    levels.map((level) => {
      const id = idOf.get(urnOf(level))!;
      const asset: FixtureAsset = {
        level,
        urn: urnOf(level),
        id,
        name: `zmark_${level}`,
        qualifiedName: `zns.zmark_${level}`,
        column: `zmark_${level}_amount`,
        tag: `ztag_${level}`,
        owner: `zown_${level}`,
        secrets: [
          `zmark_${level}`,
          `zdesc_${level}`,
          `ztag_${level}`,
          `zown_${level}`,
          `zcomment_${level}`,
          `zreview_${level}`,
          `zcert_${level}`,
          `zalert_${level}`,
          `zrule_${level}`,
          id,
        ],
        ids: { request: [], comment: [], certification: [], alert: [], rule: [] },
      };
      return [level, asset];
    }),
  ) as Record<Level, FixtureAsset>;

  // Someone outside the matrix asks for every asset, so request ids exist to aim at.
  const requester = await contextAs(database, {
    id: 'matrix_requester',
    displayName: 'Matrix Requester',
    clearance: 'TS',
    roles: ['viewer'],
  });
  // The social, certification and quality state every asset gets, made through the tools that exist so far.
  const run = async (name: string, input: Record<string, unknown>, ctx: ServiceContext) => {
    const tool = allTools.find((t) => t.name === name);
    // The restricted asset's access request answers "not found" to its requester but is recorded for owners.
    if (tool) await runTool(tool, input, ctx).catch(() => undefined);
  };
  for (const level of levels) {
    const urn = urnOf(level);
    await run(
      'governance_request_access',
      { urn, purpose: 'quarterly reconciliation of holdings', days: 30 },
      requester,
    );
    await run('social_comment', { urn, body: `zcomment_${level} totals agree, @matrix_u please confirm` }, setup);
    await run('social_rate', { urn, stars: 4, review: `zreview_${level} reliable` }, setup);
    await run('social_follow', { urn }, setup);
    await run('social_record_usage', { urn, action: 'query' }, setup);
    await run('governance_request_certification', { urn, label: 'Production Ready', note: `zcert_${level}` }, setup);
    await run('quality_set_sla', { urn, freshnessHours: 24 }, setup);
    await run(
      'quality_create_rule',
      { urn, name: `zrule_${level} ids present`, type: 'not_null', column: `zmark_${level}_id` },
      setup,
    );
    // A pipeline of the admin's reading each asset: its nodes name the asset.
    await run('pipelines_create', { name: `zpipe_${level}`, description: 'matrix pipeline' }, setup);
    await run(
      'pipelines_add_node',
      { pipeline: `zpipe_${level}`, type: 'source_dataset', config: { urn }, id: 'src' },
      setup,
    );
    await run(
      'pipelines_add_node',
      {
        pipeline: `zpipe_${level}`,
        type: 'filter',
        config: { condition: `zmark_${level}_amount > 0` },
        id: 'keep',
        after: 'src',
      },
      setup,
    );
    await database.db.insert(alerts).values({
      assetId: fixtureAssets[level].id,
      dedupKey: `matrix:${level}`,
      kind: 'anomaly',
      severity: 'critical',
      title: `zalert_${level} row count dropped`,
      evidence: { metric: 'row_count' },
    });
  }
  // Each asset is the data product of its pipeline, documented as built from every asset's column: what a
  // reader is shown of its documentation must leave out the sources it may not see.
  const pipes = await queryRows<{ id: string; name: string }>(
    database.db,
    sql`select id::text, name from pipelines where name like 'zpipe\_%'`,
  );
  for (const level of levels) {
    const pipeline = pipes.find((p) => p.name === `zpipe_${level}`);
    if (!pipeline) continue;
    await database.db.insert(dataProducts).values({
      assetId: fixtureAssets[level].id,
      pipelineId: pipeline.id,
      nodeId: 'out',
      version: 1,
      semver: '0.1.0',
      dictionary: [
        {
          column: `zmark_${level}_amount`,
          type: 'numeric',
          classification: null,
          sensitivity: 'pii',
          origin: 'derived',
          expression: levels.map((l) => `zmark_${l}_amount`).join(' + '),
          node: 'keep',
          sources: levels.map((l) => ({ assetId: fixtureAssets[l].id, column: `zmark_${l}_amount` })),
        },
      ],
      changelog: [
        {
          version: 1,
          semver: '0.1.0',
          note: 'created',
          by: 'matrix_admin',
          at: new Date(0).toISOString(),
          published: true,
          changes: [],
        },
      ],
      publishedBy: 'matrix_admin',
      publishedAt: new Date(0),
    });
  }
  for (const level of levels) {
    const asset = fixtureAssets[level];
    const idsIn = async (table: string) =>
      (
        await queryRows<{ id: string }>(
          database.db,
          sql`select id::text as id from ${sql.identifier(table)} where asset_id = ${asset.id} order by id`,
        ).catch(() => [])
      ).map((r) => r.id);
    asset.ids = {
      request: await idsIn('access_requests'),
      comment: await idsIn('comments'),
      certification: await idsIn('certifications'),
      alert: await idsIn('alerts'),
      rule: await idsIn('quality_rules'),
    };
    asset.secrets.push(...Object.values(asset.ids).flat());
  }

  const policy = 'zpolicy matrix handling';
  const createPolicy = allTools.find((t) => t.name === 'governance_create_policy');
  if (createPolicy) {
    await runTool(
      createPolicy,
      { name: policy, kind: 'handling', document: '# Handling\nMark it.', authority: 'NIST SP 800-53 AC-3' },
      setup,
    );
  }

  const principals: MatrixPrincipal[] = [];
  for (const key of ['u', 'c', 's', 'ts', 'ts_out'] as const) {
    const clearance = cleared[key];
    const ctx = await contextAs(database, {
      id: `matrix_${key}`,
      displayName: `Matrix ${key}`,
      clearance,
      // Stewards pass the role checks, so every tool gets as far as looking the asset up.
      roles: ['steward'],
      domains: key === 'ts' ? [restrictedDomain] : [],
    });
    principals.push({ key, ctx });
  }

  const ghosts = Object.fromEntries(
    levels.map((level) => [
      level,
      {
        urn: assetUrn('postgres', source, 'zns', `zghost_${level}`),
        id: randomUUID(),
        name: `zghost_${level}`,
        qualifiedName: `zns.zghost_${level}`,
        ids: Object.fromEntries(
          entityKinds.map((kind) => [kind, fixtureAssets[level].ids[kind].map(() => randomUUID())]),
        ) as Record<EntityKind, string[]>,
      },
    ]),
  ) as Record<Level, Ghost>;

  const visibleTo = async (principal: MatrixPrincipal): Promise<Set<Level>> => {
    const marked = await queryRows<{
      urn: string;
      classification: Classification;
      restricted: boolean | null;
      domain: string | null;
    }>(
      database.db,
      sql`select a.urn, a.classification, d.restricted, a.domain_id as domain
          from assets a left join domains d on d.id = a.domain_id`,
    );
    const byUrn = new Map(marked.map((m) => [m.urn, m]));
    const { clearance, domains } = principal.ctx.principal;
    return new Set(
      levels.filter((level) => {
        const m = byUrn.get(urnOf(level))!;
        return (
          order.indexOf(m.classification) <= order.indexOf(clearance) && (!m.restricted || domains.includes(m.domain!))
        );
      }),
    );
  };

  return { assets: fixtureAssets, ghosts, principals, admin: setup, policy, visibleTo };
}
