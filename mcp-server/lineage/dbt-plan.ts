import { asc, inArray, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { type Db, queryRows, textArray } from '../../db/create-db.js';
import { type AssetKind, columns, sources } from '../../db/schema/index.js';
import { assetUrn } from '../catalog/urn.js';
import type { Principal } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import {
  compiledSql,
  type DbtCatalog,
  type DbtCatalogTable,
  type DbtManifest,
  type DbtNode,
  ownerOf,
  personOf,
} from './dbt-manifest.js';
import type { DbtPlan, PlannedRelation, RelationRole } from './dbt-plan-types.js';
import { analyseModels } from './dbt-sql.js';
import type { AssetFacts, FactColumn } from './producer-assets.js';

/**
 * What a dbt manifest says, resolved against the catalog before anything is written: each relation
 * (model, seed, snapshot, source) is either an asset a database connector already reads (same database,
 * the schema as namespace, the alias or identifier as name) or an asset of the project's `dbt` source;
 * exposures are `dashboard` or `data_product` assets. Column lineage comes from compiled SQL.
 */

interface ConnectorSource {
  id: string;
  name: string;
  database: string;
}

const relationKinds = ['table', 'view', 'materialized_view'] as const;

export async function planDbt(
  db: Db,
  manifest: DbtManifest,
  options: {
    principal: Principal;
    sourceName: string;
    location: string;
    catalog?: DbtCatalog;
    targetSource?: string;
  },
): Promise<DbtPlan> {
  const plan: DbtPlan = {
    project: manifest.project,
    sourceName: options.sourceName,
    location: options.location,
    relations: new Map(),
    exposures: [],
    ephemeral: new Map(),
    columnLineage: new Map(),
    warnings: [],
  };
  const candidates: { node: DbtNode; role: RelationRole }[] = [];
  for (const node of Object.values(manifest.nodes)) {
    if (node.config?.enabled === false) continue;
    if (node.resource_type === 'model' && node.config?.materialized === 'ephemeral') {
      plan.ephemeral.set(node.unique_id, node);
    } else if (['model', 'seed', 'snapshot'].includes(node.resource_type)) {
      candidates.push({ node, role: node.resource_type as RelationRole });
    }
  }
  for (const node of Object.values(manifest.sources ?? {})) {
    if (node.config?.enabled !== false) candidates.push({ node, role: 'source' });
  }

  const connectors = await connectorSources(db, options.targetSource);
  const found = await findConnectorAssets(db, options.principal, connectors, candidates);
  const catalogEntry = (id: string) => options.catalog?.nodes[id] ?? options.catalog?.sources?.[id];
  for (const { node, role } of candidates) {
    const database = node.database ?? '';
    const schema = node.schema ?? '';
    const identifier = (role === 'source' ? node.identifier : node.alias) || node.name;
    const connectorAssetId = found(database, schema, identifier);
    plan.relations.set(node.unique_id, {
      node,
      role,
      database,
      schema,
      identifier,
      connectorAssetId,
      owned: null,
      facts: relationFacts(node, role, catalogEntry(node.unique_id), manifest.groups),
    });
  }

  const connectorColumns = await readColumns(
    db,
    [...plan.relations.values()].flatMap((r) => (r.connectorAssetId ? [r.connectorAssetId] : [])),
  );
  const derived = await analyseModels(plan, manifest, (r) => {
    if (r.connectorAssetId) return connectorColumns.get(r.connectorAssetId);
    const entry = catalogEntry(r.node.unique_id);
    if (entry) return catalogColumns(entry).map((c) => c.name);
    return undefined;
  });

  for (const r of plan.relations.values()) {
    if (r.connectorAssetId) continue;
    const entry = catalogEntry(r.node.unique_id);
    // The warehouse's columns (catalog.json) are the whole schema; without them, the compiled SQL's
    // output columns and the documented ones are what is known.
    if (!entry) {
      const fromSql = derived.get(r.node.unique_id);
      r.facts.columns = mergeColumns(fromSql?.columns ?? [], r.facts.columns ?? []);
      // Documented columns alone, or SQL reading a relation whose columns are unknown, may not be all of them.
      r.facts.partialColumns = !fromSql?.complete;
    }
    r.owned = {
      source: { kind: 'dbt', name: plan.sourceName, location: plan.location },
      urn: assetUrn('dbt', plan.sourceName, `${r.database}.${r.schema}`, r.identifier),
      kind: relationKind(r, entry),
      namespace: r.schema,
      name: r.identifier,
      qualifiedName: `${r.schema}.${r.identifier}`,
      definition: r.role === 'model' || r.role === 'snapshot' ? (compiledSql(r.node) ?? r.node.raw_code ?? null) : null,
      properties: {
        dbt: {
          project: plan.project,
          uniqueId: r.node.unique_id,
          resourceType: r.role,
          database: r.database,
          ...(r.node.config?.materialized ? { materialized: r.node.config.materialized } : {}),
          ...(r.node.original_file_path ? { path: r.node.original_file_path } : {}),
        },
      },
      facts: r.facts,
    };
  }

  for (const exposure of Object.values(manifest.exposures ?? {})) {
    if (exposure.config?.enabled === false) continue;
    plan.exposures.push({
      exposure,
      owned: {
        source: { kind: 'dbt', name: plan.sourceName, location: plan.location },
        urn: assetUrn('dbt', plan.sourceName, 'exposure', exposure.name),
        kind: exposure.type === 'dashboard' ? 'dashboard' : 'data_product',
        namespace: '',
        name: exposure.name,
        qualifiedName: exposure.label || exposure.name,
        properties: {
          dbt: {
            project: plan.project,
            uniqueId: exposure.unique_id,
            resourceType: 'exposure',
            type: exposure.type,
            ...(exposure.url ? { url: exposure.url } : {}),
            ...(exposure.maturity ? { maturity: exposure.maturity } : {}),
          },
        },
        facts: {
          description: exposure.description || null,
          owner: personOf(exposure.owner) ?? null,
          tags: tagsOf(exposure),
        },
      },
    });
  }
  return plan;
}

/** Postgres sources and the database each reads (the one in its URL, else the user's own). */
async function connectorSources(db: Db, targetSource?: string): Promise<ConnectorSource[]> {
  const rows = await db
    .select({ id: sources.id, name: sources.name, kind: sources.kind, location: sources.location })
    .from(sources)
    .where(inArray(sources.kind, ['postgres']));
  const list = rows.flatMap((row) => {
    try {
      const url = new URL(row.location);
      const database =
        decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
      return [{ id: row.id, name: row.name, database }];
    } catch {
      return [];
    }
  });
  if (targetSource === undefined) return list;
  const chosen = list.filter((s) => s.name === targetSource);
  if (chosen.length === 0) {
    throw new DataOpsError(
      'not_found',
      `no postgres source named "${targetSource}" in the catalog: ingest the database first, or leave --target-source out`,
    );
  }
  // The chosen source holds the project's relations whatever its database is called.
  return chosen.map((s) => ({ ...s, database: '*' }));
}

/** Finds relations among the connector sources' assets by database, schema and name. */
async function findConnectorAssets(
  db: Db,
  principal: Principal,
  connectors: ConnectorSource[],
  candidates: { node: DbtNode }[],
) {
  const databases = new Set(candidates.map((c) => c.node.database ?? ''));
  const relevant = connectors.filter((s) => s.database === '*' || databases.has(s.database));
  // An asset the principal may not see is as good as absent: the ingestion must not reveal that it exists.
  const rows =
    relevant.length === 0
      ? []
      : await queryRows<{ id: string; sourceId: string; namespace: string; name: string; kind: string }>(
          db,
          sql`select a.id, a.source_id as "sourceId", a.namespace, a.name, a.kind from assets a
              where a.source_id = any(${textArray(relevant.map((s) => s.id))}::uuid[]) and ${visibleAssetsSql(principal)}`,
        );
  const byKey = new Map<string, { id: string; sourceId: string }[]>();
  for (const row of rows) {
    if (!(relationKinds as readonly string[]).includes(row.kind)) continue;
    const key = `${row.namespace}\u0000${row.name}`.toLowerCase();
    byKey.set(key, [...(byKey.get(key) ?? []), { id: row.id, sourceId: row.sourceId! }]);
  }
  const namesById = new Map(rows.map((r) => [r.id, `${r.namespace}.${r.name}`]));
  return (database: string, schema: string, identifier: string): string | null => {
    const sourceIds = new Set(relevant.filter((s) => s.database === '*' || s.database === database).map((s) => s.id));
    const all = (byKey.get(`${schema}\u0000${identifier}`.toLowerCase()) ?? []).filter((a) =>
      sourceIds.has(a.sourceId),
    );
    // Exact spelling first; Postgres folds unquoted names to lower case, dbt may keep the case they were written in.
    const exact = all.filter((a) => namesById.get(a.id) === `${schema}.${identifier}`);
    const matches = exact.length > 0 ? exact : all;
    if (matches.length > 1) {
      const names = connectors.filter((s) => matches.some((m) => m.sourceId === s.id)).map((s) => s.name);
      throw new DataOpsError(
        'invalid_input',
        `${database}.${schema}.${identifier} is in ${matches.length} catalog sources (${names.join(', ')}): say which holds the project with --target-source`,
      );
    }
    return matches[0]?.id ?? null;
  };
}

async function readColumns(db: Db, assetIds: string[]): Promise<Map<string, string[]>> {
  const byAsset = new Map<string, string[]>();
  for (let i = 0; i < assetIds.length; i += 500) {
    const rows = await db
      .select({ assetId: columns.assetId, name: columns.name })
      .from(columns)
      .where(inArray(columns.assetId, assetIds.slice(i, i + 500)))
      .orderBy(asc(columns.assetId), asc(columns.position));
    for (const row of rows) byAsset.set(row.assetId, [...(byAsset.get(row.assetId) ?? []), row.name]);
  }
  return byAsset;
}

function tagsOf(item: { tags?: string[] | null; config?: { tags?: string[] | null } | null }): string[] {
  return [...new Set([...(item.tags ?? []), ...(item.config?.tags ?? [])])];
}

function relationFacts(
  node: DbtNode,
  role: RelationRole,
  entry: DbtCatalogTable | undefined,
  groups: DbtManifest['groups'],
): AssetFacts {
  const description =
    node.description || (role === 'source' ? node.source_description : null) || entry?.metadata.comment || null;
  const documented: FactColumn[] = Object.values(node.columns ?? {}).map((c) => ({
    name: c.name,
    dataType: c.data_type ?? null,
    description: c.description || null,
    tags: c.tags ?? [],
  }));
  const facts: AssetFacts = {
    description,
    tags: tagsOf(node),
    columns: entry ? mergeColumns(catalogColumns(entry), documented) : documented,
  };
  const owner = ownerOf(node, groups);
  if (owner) facts.owner = owner;
  return facts;
}

function catalogColumns(entry: DbtCatalogTable): FactColumn[] {
  return Object.values(entry.columns)
    .sort((a, b) => a.index - b.index)
    .map((c) => ({ name: c.name, dataType: c.type, description: c.comment || null }));
}

/** The columns of `base` in order, with what `documented` says about them, then documented ones `base` lacks. */
function mergeColumns(base: FactColumn[], documented: FactColumn[]): FactColumn[] {
  const docs = new Map(documented.map((c) => [c.name.toLowerCase(), c]));
  const merged = base.map((c) => {
    const doc = docs.get(c.name.toLowerCase());
    docs.delete(c.name.toLowerCase());
    return {
      name: c.name,
      dataType: c.dataType || doc?.dataType || null,
      description: doc?.description || c.description || null,
      tags: [...new Set([...(c.tags ?? []), ...(doc?.tags ?? [])])],
    };
  });
  return [...merged, ...docs.values()];
}

function relationKind(r: PlannedRelation, entry: DbtCatalogTable | undefined): AssetKind {
  const declared = entry?.metadata.type.toUpperCase();
  if (declared === 'VIEW') return 'view';
  if (declared === 'MATERIALIZED VIEW' || declared === 'MATERIALIZED_VIEW') return 'materialized_view';
  if (declared) return 'table';
  if (r.role !== 'model') return 'table';
  const materialized = r.node.config?.materialized;
  return materialized === 'view' ? 'view' : materialized === 'materialized_view' ? 'materialized_view' : 'table';
}
