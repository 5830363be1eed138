import { inArray, sql } from 'drizzle-orm';
import { redactUrl } from '../../db/connection-errors.js';
import { type Db, queryRows, type Tx, textArray } from '../../db/create-db.js';
import { type AssetKind, sources } from '../../db/schema/index.js';
import { assetUrn } from '../catalog/urn.js';
import type { Principal } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import type { DatasetFacets } from './openlineage-schema.js';
import type { FactColumn, OwnedAsset } from './producer-assets.js';

/**
 * Where an OpenLineage dataset lives in the catalog. OpenLineage names a database table by its server and
 * path (`postgres://db.example.com:5432` + `sales.public.orders`; `mysql://host:3306` + `erp.orders`): when
 * the catalog already reads that database through a connector, the dataset is that asset. Any other
 * dataset becomes an asset of an `openlineage` source named after its namespace.
 */

export interface DatasetRef {
  namespace: string;
  name: string;
}

export type DatasetTarget = { kind: 'connector'; assetId: string } | { kind: 'owned'; asset: OwnedAsset };

interface DatabaseSource {
  id: string;
  kind: 'postgres' | 'mysql';
  host: string;
  port: number;
  /** Null for a MySQL source that covers every database on the server. */
  database: string | null;
}

const defaultPorts: Record<string, number> = { postgres: 5432, postgresql: 5432, mysql: 3306, mariadb: 3306 };
const loopback = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const fileSchemes = /^(s3a?|gs|gcs|file|hdfs|abfss?|wasbs?|dbfs|adl):/i;

export function datasetKey(ref: DatasetRef): string {
  return `${ref.namespace}\u0000${ref.name}`;
}

type Queryable = Pick<Db, 'select' | 'execute'> | Tx;

/**
 * Resolves datasets against the catalog's database sources (read once per resolver), among the assets
 * `principal` may see.
 */
export function createDatasetResolver(db: Queryable, principal: Principal) {
  let databases: Promise<DatabaseSource[]> | null = null;
  const cache = new Map<string, Promise<string | null>>();

  const connectorAsset = (ref: DatasetRef): Promise<string | null> => {
    const key = datasetKey(ref);
    let found = cache.get(key);
    if (!found) {
      databases ??= readDatabaseSources(db);
      found = databases.then((list) => findConnectorAsset(db, principal, list, ref));
      cache.set(key, found);
    }
    return found;
  };

  /** `lineageColumns`: the columns the event's columnLineage facets name on this dataset. */
  const resolve = async (
    ref: DatasetRef,
    facets?: DatasetFacets,
    lineageColumns: string[] = [],
  ): Promise<DatasetTarget> => {
    const assetId = await connectorAsset(ref);
    if (assetId) return { kind: 'connector', assetId };
    return { kind: 'owned', asset: ownedDataset(ref, facets, lineageColumns) };
  };

  return {
    resolve,
    /** The id of the dataset's asset if the catalog has it and the principal may see it; null otherwise. */
    async visibleAssetId(ref: DatasetRef): Promise<string | null> {
      const target = await resolve(ref);
      if (target.kind === 'connector') return target.assetId;
      const [row] = await queryRows<{ id: string }>(
        db,
        sql`select a.id::text from assets a where a.urn = ${target.asset.urn} and ${visibleAssetsSql(principal)}`,
      );
      return row?.id ?? null;
    },
  };
}

async function readDatabaseSources(db: Queryable): Promise<DatabaseSource[]> {
  const rows = await db
    .select({ id: sources.id, kind: sources.kind, location: sources.location })
    .from(sources)
    .where(inArray(sources.kind, ['postgres', 'mysql']));
  const list: DatabaseSource[] = [];
  for (const row of rows) {
    const server = parseServer(row.location);
    if (!server) continue;
    const path = decodeURIComponent(server.url.pathname.replace(/^\//, ''));
    // The Postgres connector reads the database in the path, or the user's own when there is none.
    const database = path || (row.kind === 'postgres' ? decodeURIComponent(server.url.username) || 'postgres' : null);
    list.push({ id: row.id, kind: row.kind as 'postgres' | 'mysql', host: server.host, port: server.port, database });
  }
  return list;
}

function parseServer(location: string): { url: URL; host: string; port: number } | null {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return null;
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const port = url.port ? Number(url.port) : defaultPorts[scheme];
  if (!port || !url.hostname) return null;
  const host = url.hostname.toLowerCase();
  return { url, host: loopback.has(host) ? 'localhost' : host, port };
}

async function findConnectorAsset(
  db: Queryable,
  principal: Principal,
  databases: DatabaseSource[],
  ref: DatasetRef,
): Promise<string | null> {
  const server = parseServer(ref.namespace);
  if (!server) return null;
  const scheme = server.url.protocol.replace(/:$/, '').toLowerCase();
  const kind = scheme.startsWith('postgres') ? 'postgres' : scheme === 'mysql' || scheme === 'mariadb' ? 'mysql' : null;
  if (!kind) return null;
  const parts = ref.name.split('.');
  // Postgres: database.schema.table; MySQL: database.table (its databases are the assets' namespaces).
  const [database, namespace, name] =
    kind === 'postgres'
      ? [parts[0], parts[1], parts.slice(2).join('.')]
      : [parts[0], parts[0], parts.slice(1).join('.')];
  if (!database || !namespace || !name) return null;
  const candidates = databases.filter(
    (s) =>
      s.kind === kind &&
      s.host === server.host &&
      s.port === server.port &&
      (s.database === null ? kind === 'mysql' : s.database === database),
  );
  if (candidates.length === 0) return null;
  // An asset the principal may not see is as good as absent: the event must not reveal that it exists.
  const rows = await queryRows<{ id: string; name: string }>(
    db,
    sql`select a.id, a.name from assets a
        where a.source_id = any(${textArray(candidates.map((c) => c.id))}::uuid[])
          and a.kind in ('table', 'view', 'materialized_view') and a.namespace = ${namespace}
          and ${visibleAssetsSql(principal)}`,
  );
  const exact = rows.filter((r) => r.name === name);
  if (exact.length === 1) return exact[0]!.id;
  // Producers differ in how they case unquoted identifiers; accept a case-insensitive match when it is the only one.
  const folded = rows.filter((r) => r.name.toLowerCase() === name.toLowerCase());
  return exact.length === 0 && folded.length === 1 ? folded[0]!.id : null;
}

/** An `openlineage` asset: the last part of the name is its name, what comes before its namespace. */
export function ownedDataset(ref: DatasetRef, facets?: DatasetFacets, lineageColumns: string[] = []): OwnedAsset {
  const namespace = redactUrl(ref.namespace);
  const separator = ref.name.includes('/') ? '/' : '.';
  const cut = ref.name.lastIndexOf(separator);
  const split = cut > 0 && cut < ref.name.length - 1;
  return {
    source: { kind: 'openlineage', name: namespace, location: namespace },
    urn: assetUrn('openlineage', namespace, 'dataset', ref.name),
    kind: datasetKind(ref, facets),
    guessedKind: !facets?.datasetType,
    namespace: split ? ref.name.slice(0, cut) : '',
    name: split ? ref.name.slice(cut + 1) : ref.name,
    qualifiedName: ref.name,
    properties: { openlineage: { namespace, name: ref.name } },
    facts: withLineageColumns(datasetFacts(facets), lineageColumns),
  };
}

function datasetKind(ref: DatasetRef, facets?: DatasetFacets): AssetKind {
  const declared = facets?.datasetType?.datasetType?.toUpperCase();
  if (declared === 'VIEW') return 'view';
  if (declared === 'MATERIALIZED_VIEW') return 'materialized_view';
  if (declared === 'FILE') return 'file';
  if (declared) return 'table';
  return fileSchemes.test(ref.namespace) ? 'file' : 'table';
}

/** Description, owner and columns from the documentation, ownership and schema facets. */
export function datasetFacts(facets?: DatasetFacets): OwnedAsset['facts'] {
  const facts: OwnedAsset['facts'] = {};
  if (facets?.documentation) facts.description = facets.documentation.description || null;
  const owner = facets?.ownership?.owners?.[0]?.name;
  if (owner) facts.owner = owner;
  if (facets?.schema?.fields) facts.columns = schemaColumns(facets.schema.fields);
  return facts;
}

/**
 * Columns a columnLineage facet names are columns of the dataset even when no schema facet lists them
 * (producers such as Spark send column lineage without a schema): they are added to the schema, or
 * added alone as partial knowledge that removes nothing, so a column-level trace can start from them.
 */
function withLineageColumns(facts: OwnedAsset['facts'], names: string[]): OwnedAsset['facts'] {
  const known = new Set((facts.columns ?? []).map((c) => c.name));
  const extra = names.filter((name) => !known.has(name)).map((name) => ({ name, dataType: null }));
  if (extra.length === 0) return facts;
  if (facts.columns) return { ...facts, columns: [...facts.columns, ...extra] };
  return { ...facts, columns: extra, partialColumns: true };
}

/** Top-level fields become columns; nested struct fields are described on their parent, as a type. */
function schemaColumns(fields: NonNullable<NonNullable<DatasetFacets['schema']>['fields']>): FactColumn[] {
  return fields.map((f) => ({
    name: f.name,
    dataType: f.type || (f.fields?.length ? 'struct' : null),
    description: f.description ?? null,
  }));
}
