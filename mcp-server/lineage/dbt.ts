import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx, uuidSet } from '../../db/create-db.js';
import { assets, domains, lineageEdges } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { parseCatalog, parseManifest, parseRunResults } from './dbt-manifest.js';
import { planDbt } from './dbt-plan.js';
import type { DbtPlan } from './dbt-plan-types.js';
import { recordDbtRun, recordTestResults } from './dbt-runs.js';
import { plannedRules, syncRules } from './dbt-tests.js';
import {
  createAssetWriter,
  deprecateAssets,
  embedNewAssets,
  fillConnectorAsset,
  finishWriter,
  touchSource,
  upsertOwnedAsset,
} from './openlineage-assets.js';
import type { AssetWriter, OwnedAsset } from './producer-assets.js';
import { type ColumnMapping, type EdgeSpec, replaceEdges } from './store.js';

/**
 * dbt ingestion: a project's manifest (v7 to v12), optionally with run_results.json and catalog.json, in
 * one transaction. Relations the catalog already reads from the same database are those assets (dbt's
 * descriptions, tags and owners fill in what no person curated); the rest belong to a `dbt` source named
 * after the project. `depends_on` becomes `derives` lineage (origin `dbt`), with column lineage from the
 * compiled SQL, replaced as a whole for the project; exposures hang downstream of what they use; tests
 * become quality rules. Re-ingesting the same artifacts changes nothing.
 */

export interface DbtIngestOptions {
  manifest: unknown;
  runResults?: unknown;
  catalog?: unknown;
  /** Where the manifest was read from, shown as the dbt source's location. */
  location?: string;
  /** The dbt source's name in the catalog (default: the project's name). */
  name?: string;
  /** The catalog source holding the project's relations, when several sources have a database of that name. */
  targetSource?: string;
  /** Marking and domain of the assets the project's dbt source adds (default: the source's, `U` at first). */
  classification?: Classification;
  domain?: string;
}

export interface DbtSummary {
  project: string;
  source: string;
  manifestVersion: number;
  models: number;
  seeds: number;
  snapshots: number;
  sources: number;
  exposures: number;
  /** Relations found among assets a database connector already reads. */
  mapped: number;
  created: number;
  updated: number;
  deprecated: number;
  edgesOpened: number;
  edgesClosed: number;
  /** Column mappings in the project's current lineage. */
  columnMappings: number;
  rules: { total: number; added: number; updated: number; disabled: number };
  runs: { recorded: boolean; testResults: number } | null;
  warnings: string[];
}

export async function ingestDbt(ctx: ServiceContext, options: DbtIngestOptions): Promise<DbtSummary> {
  requireRole(ctx.principal, 'ingest dbt projects', 'steward', 'owner');
  const manifest = parseManifest(options.manifest);
  const runResults = options.runResults === undefined ? undefined : parseRunResults(options.runResults);
  const catalog = options.catalog === undefined ? undefined : parseCatalog(options.catalog);
  const sourceName = options.name ?? manifest.project;
  const location = options.location ?? `dbt project ${manifest.project}`;
  await checkMayIngest(ctx, sourceName);
  const plan = await planDbt(ctx.db, manifest, {
    principal: ctx.principal,
    sourceName,
    location,
    catalog,
    targetSource: options.targetSource,
  });
  const job = runResults ? projectJob(plan) : null;
  const owned = [
    ...[...plan.relations.values()].flatMap((r) => (r.owned ? [r.owned] : [])),
    ...plan.exposures.map((e) => e.owned),
    ...(job ? [job] : []),
  ];
  const embeddings = await embedNewAssets(ctx, owned);

  try {
    return await ctx.db.transaction(async (tx) => {
      // One ingestion per project at a time: two would both open the same edges.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`dbt:${sourceName}`}))`);
      const w = createAssetWriter(tx, ctx, ctx.clock(), embeddings);
      if (options.domain) {
        const [domain] = await tx.select({ id: domains.id }).from(domains).where(eq(domains.id, options.domain));
        if (!domain)
          throw new DataOpsError('not_found', `no domain "${options.domain}": create it first or leave the domain out`);
      }
      const sourceId = await touchSource(
        w,
        { kind: 'dbt', name: sourceName, location },
        { classification: options.classification, domainId: options.domain },
      );
      const ids = new Map<string, string>();
      for (const r of plan.relations.values()) {
        if (r.owned) ids.set(r.node.unique_id, await upsertOwnedAsset(w, r.owned));
        else {
          await fillConnectorAsset(w, r.connectorAssetId!, r.facts);
          ids.set(r.node.unique_id, r.connectorAssetId!);
        }
      }
      for (const { exposure, owned: asset } of plan.exposures)
        ids.set(exposure.unique_id, await upsertOwnedAsset(w, asset));
      const jobId = job ? await upsertOwnedAsset(w, job) : null;

      const deprecated = await deprecateVanished(w, sourceId, new Set(owned.map((a) => a.urn)), plan);
      const edges = projectEdges(plan, ids);
      const changes = await replaceEdges(
        tx,
        {
          origin: 'dbt',
          toAssetIds: [...new Set([...edges.map((e) => e.toAssetId), ...(await previousTargets(tx, sourceName))])],
        },
        edges,
        w.now,
      );

      const urnsById = await connectorUrns(tx, plan);
      const urnOf = (uniqueId: string) => {
        const r = plan.relations.get(uniqueId);
        return r?.owned?.urn ?? (r ? urnsById.get(r.connectorAssetId!) : undefined);
      };
      const rules = plannedRules(manifest, (id) => ids.has(id) && plan.relations.has(id), urnOf).map((rule) => ({
        ...rule,
        assetId: ids.get(rule.nodeId)!,
      }));
      const ruleChanges = await syncRules(tx, sourceName, rules, ctx.principal.id);

      let runs: DbtSummary['runs'] = null;
      if (runResults && jobId) {
        runs = {
          recorded: await recordDbtRun(tx, jobId, runResults, (id) => urnOf(id) ?? exposureUrn(plan, id)),
          testResults: await recordTestResults(tx, runResults, ruleChanges.byTest),
        };
      }
      await finishWriter(w);

      const summary: DbtSummary = {
        project: plan.project,
        source: sourceName,
        manifestVersion: manifest.version,
        ...countRoles(plan),
        exposures: plan.exposures.length,
        mapped: [...plan.relations.values()].filter((r) => r.connectorAssetId).length,
        created: w.stats.created,
        updated: w.stats.updated + w.stats.restored,
        deprecated,
        edgesOpened: changes.opened,
        edgesClosed: changes.closed,
        columnMappings: edges.reduce((n, e) => n + (e.columns?.length ?? 0), 0),
        rules: {
          total: new Set(rules.map((r) => `${r.uniqueId}\u0000${r.assetId}`)).size,
          added: ruleChanges.added,
          updated: ruleChanges.updated,
          disabled: ruleChanges.disabled,
        },
        runs,
        warnings: plan.warnings,
      };
      const changed =
        summary.created +
        summary.updated +
        summary.deprecated +
        summary.edgesOpened +
        summary.edgesClosed +
        ruleChanges.added +
        ruleChanges.updated +
        ruleChanges.disabled +
        (runs?.recorded ? 1 : 0) +
        (runs?.testResults ?? 0);
      if (changed > 0) {
        await appendAudit(tx, {
          actorId: ctx.principal.id,
          action: 'lineage.ingest',
          at: w.now,
          details: { origin: 'dbt', ...summary, warnings: summary.warnings.length },
        });
      }
      return summary;
    });
  } catch (error) {
    if (error instanceof DataOpsError) throw error;
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    throw new DataOpsError(
      'internal',
      `ingesting dbt project ${manifest.project} failed and nothing was changed: ${cause.message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * As for a source sync: the principal must be able to see everything the project's dbt source holds, or the
 * ingestion would change (and its summary describe) assets they may not know exist.
 */
async function checkMayIngest(ctx: ServiceContext, sourceName: string): Promise<void> {
  const [hidden] = await queryRows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from assets a join sources s on s.id = a.source_id
        where s.kind = 'dbt' and s.name = ${sourceName} and not ${visibleAssetsSql(ctx.principal)}`,
  );
  if (hidden!.n > 0) {
    throw new DataOpsError(
      'forbidden',
      `${ctx.principal.id} may not ingest dbt project ${sourceName}: ask its owner or an admin`,
    );
  }
}

/** The project as a job: dbt invocations are its runs. */
function projectJob(plan: DbtPlan): OwnedAsset {
  return {
    source: { kind: 'dbt', name: plan.sourceName, location: plan.location },
    urn: assetUrn('dbt', plan.sourceName, 'job', plan.project),
    kind: 'job',
    namespace: '',
    name: plan.project,
    qualifiedName: plan.project,
    properties: { dbt: { project: plan.project, resourceType: 'project' } },
    facts: { description: `Runs of the dbt project ${plan.project}: models, seeds, snapshots and tests` },
  };
}

function exposureUrn(plan: DbtPlan, uniqueId: string): string | undefined {
  return plan.exposures.find((e) => e.exposure.unique_id === uniqueId)?.owned.urn;
}

function countRoles(plan: DbtPlan) {
  const relations = [...plan.relations.values()];
  const count = (role: string) => relations.filter((r) => r.role === role).length;
  return { models: count('model'), seeds: count('seed'), snapshots: count('snapshot'), sources: count('source') };
}

async function connectorUrns(tx: Tx, plan: DbtPlan): Promise<Map<string, string>> {
  const ids = [...plan.relations.values()].flatMap((r) => (r.connectorAssetId ? [r.connectorAssetId] : []));
  if (ids.length === 0) return new Map();
  const rows = await queryRows<{ id: string; urn: string }>(
    tx,
    sql`select id, urn from assets where id in ${uuidSet(ids)}`,
  );
  return new Map(rows.map((r) => [r.id, r.urn]));
}

/** The project's own assets that it no longer describes (dropped from the manifest, or now a connector's). */
async function deprecateVanished(w: AssetWriter, sourceId: string, planned: Set<string>, plan: DbtPlan) {
  const current = await w.tx
    .select({ id: assets.id, urn: assets.urn, qualifiedName: assets.qualifiedName })
    .from(assets)
    .where(and(eq(assets.sourceId, sourceId), eq(assets.status, 'active'), ne(assets.kind, 'job')));
  const vanished = current.filter((a) => !planned.has(a.urn));
  return deprecateAssets(w, vanished, `No longer an asset of dbt project ${plan.project}; marked deprecated`);
}

/** Assets the project's current dbt edges lead into: a model dropped from it still owns its old edges. */
async function previousTargets(tx: Tx, sourceName: string): Promise<string[]> {
  const rows = await tx
    .selectDistinct({ id: lineageEdges.toAssetId })
    .from(lineageEdges)
    .where(
      and(
        eq(lineageEdges.origin, 'dbt'),
        isNull(lineageEdges.validTo),
        sql`${lineageEdges.properties}->>'dbt' = ${sourceName}`,
      ),
    );
  return rows.map((r) => r.id);
}

/**
 * One `derives` edge from each relation a model, snapshot or exposure depends on (seen through ephemeral
 * models) to it, carrying the column lineage of the compiled SQL. Two nodes on the same pair of assets
 * make one edge.
 */
function projectEdges(plan: DbtPlan, ids: Map<string, string>): EdgeSpec[] {
  const upstream = (id: string, seen = new Set<string>()): string[] => {
    if (seen.has(id)) return [];
    seen.add(id);
    if (plan.relations.has(id)) return [id];
    const ephemeral = plan.ephemeral.get(id);
    return ephemeral ? (ephemeral.depends_on?.nodes ?? []).flatMap((dep) => upstream(dep, seen)) : [];
  };
  const dependents = [
    ...[...plan.relations.values()].map((r) => ({ id: r.node.unique_id, deps: r.node.depends_on?.nodes ?? [] })),
    ...plan.exposures.map(({ exposure }) => ({ id: exposure.unique_id, deps: exposure.depends_on?.nodes ?? [] })),
  ];
  const edges = new Map<string, EdgeSpec & { columns: ColumnMapping[] }>();
  for (const { id, deps } of dependents) {
    const toAssetId = ids.get(id);
    if (!toAssetId) continue;
    for (const dep of new Set(deps.flatMap((d) => upstream(d)))) {
      const fromAssetId = ids.get(dep);
      if (!fromAssetId || fromAssetId === toAssetId) continue;
      const key = `${fromAssetId}\u0000${toAssetId}`;
      const edge = edges.get(key) ?? {
        fromAssetId,
        toAssetId,
        kind: 'derives' as const,
        properties: { dbt: plan.sourceName, node: id },
        columns: [],
      };
      edge.columns.push(...(plan.columnLineage.get(id)?.get(dep) ?? []));
      edges.set(key, edge);
    }
  }
  return [...edges.values()];
}
