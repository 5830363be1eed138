import type postgres from 'postgres';
import { DataOpsError } from '../../../core/errors.js';
import { redactUrl } from '../../../db/connection-errors.js';
import { checkPostgresUrl, openPostgres } from '../../../db/postgres-client.js';
import type {
  Connector,
  DiscoveredAsset,
  DiscoveredAssetKind,
  DiscoveredForeignKey,
  ProgressListener,
  SourceSnapshot,
} from '../types.js';
import {
  columnsQuery,
  constraintsQuery,
  domainBaseQuery,
  enumLabelsQuery,
  relationsQuery,
} from './postgres-queries.js';

export interface PostgresConnectorOptions {
  url: string;
  /** Display name of the source; defaults to the database name in the URL. */
  name?: string;
  /** Only these schemas; all user schemas when empty. */
  schemas?: string[];
}

interface RelationRow {
  oid: string;
  namespace: string;
  name: string;
  relkind: string;
  description: string | null;
  owner: string;
  definition: string | null;
  partition_key: string | null;
  reltuples: number;
  populated: boolean;
  size_bytes: number | null;
  /** Size of the table's own data (no indexes or TOAST); 0 means it holds no rows. */
  heap_bytes: number | null;
  partitions: string[] | null;
  partition_of: string | null;
  partition_bytes: number | null;
}

interface ColumnRow {
  oid: string;
  name: string;
  position: number;
  data_type: string;
  nullable: boolean;
  description: string | null;
  default_value: string | null;
  type_kind: string;
  type_oid: string;
  base_type_kind: string;
}

interface ConstraintRow {
  oid: string;
  name: string;
  type: 'p' | 'f';
  columns: string[];
  ref_namespace: string | null;
  ref_name: string | null;
  ref_columns: string[];
}

const kinds: Record<string, DiscoveredAssetKind> = {
  r: 'table',
  p: 'table',
  f: 'table',
  v: 'view',
  m: 'materialized_view',
};

/** Tables whose planner estimate is unknown (never analysed) and that are at most this big get an exact count. */
const exactCountMaxBytes = 64 * 1024 * 1024;

/** Reads schemas, tables, views, columns, keys, comments, estimates and sizes from a Postgres database. */
export function createPostgresConnector(options: PostgresConnectorOptions): Connector {
  const parsed = checkPostgresUrl(options.url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.username || 'postgres';
  return {
    kind: 'postgres',
    discover: (onProgress) => discover(options, options.name ?? database, onProgress),
  };
}

async function discover(
  options: PostgresConnectorOptions,
  name: string,
  onProgress?: ProgressListener,
): Promise<SourceSnapshot> {
  const sql = await openPostgres(options.url, { max: 1, idle_timeout: 5 });
  try {
    const schemas = options.schemas ?? [];
    const total = 4;
    // One read-only snapshot, so a table created between two of the queries cannot half-appear.
    const facts = await sql.begin('isolation level repeatable read read only', async (tx) => {
      onProgress?.({ done: 0, total, current: 'tables and views' });
      const relations = await tx.unsafe<RelationRow[]>(relationsQuery, [schemas]);
      onProgress?.({ done: 1, total, current: 'columns' });
      const columnRows = await tx.unsafe<ColumnRow[]>(columnsQuery, [schemas]);
      onProgress?.({ done: 2, total, current: 'keys' });
      const constraintRows = await tx.unsafe<ConstraintRow[]>(constraintsQuery, [schemas]);
      onProgress?.({ done: 3, total, current: 'types and row counts' });
      const typeNotes = await describeTypes(tx, columnRows);
      return { relations, columnRows, constraintRows, typeNotes };
    });
    // Counted after the snapshot, in short statements: a count locks its table until its transaction
    // ends, and ten thousand locks in one transaction exhaust the server's lock table.
    const exactCounts = await countUnanalysedTables(sql, facts.relations);
    onProgress?.({ done: 4, total });
    return {
      kind: 'postgres',
      name,
      location: redactUrl(options.url),
      assets: buildAssets(facts.relations, facts.columnRows, facts.constraintRows, facts.typeNotes, exactCounts),
      errors: [],
    };
  } catch (error) {
    if (error instanceof DataOpsError) throw error;
    const message = (error as Error).message;
    throw new DataOpsError('unavailable', `could not read the catalog of ${redactUrl(options.url)}: ${message}`, {
      cause: error,
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Enum labels and domain base types, keyed by type oid, so a column's type says what values it takes. */
async function describeTypes(sql: postgres.TransactionSql, columnRows: ColumnRow[]): Promise<Map<string, string>> {
  const enumOids = [...new Set(columnRows.filter((c) => c.base_type_kind === 'e').map((c) => c.type_oid))];
  const domainOids = [...new Set(columnRows.filter((c) => c.type_kind === 'd').map((c) => c.type_oid))];
  const notes = new Map<string, string>();
  if (enumOids.length > 0) {
    for (const row of await sql.unsafe<{ type_oid: string; labels: string[] }[]>(enumLabelsQuery, [enumOids])) {
      notes.set(String(row.type_oid), `enum: ${row.labels.join(', ')}`);
    }
  }
  if (domainOids.length > 0) {
    for (const row of await sql.unsafe<{ type_oid: string; base_type: string }[]>(domainBaseQuery, [domainOids])) {
      notes.set(String(row.type_oid), `domain over ${row.base_type}`);
    }
  }
  return notes;
}

/**
 * A table that was never analysed has no estimate (reltuples = -1). Small ones are counted exactly, in
 * batches of one UNION ALL query, because "unknown rows" on a 200-row table helps nobody. One with no
 * data pages at all holds no rows, which needs no count: a freshly created schema of thousands of empty
 * tables would otherwise cost thousands of scans.
 */
async function countUnanalysedTables(sql: postgres.Sql, relations: RelationRow[]): Promise<Map<string, number>> {
  const unknown = relations.filter(
    (r) =>
      (r.relkind === 'r' || (r.relkind === 'm' && r.populated)) &&
      r.reltuples < 0 &&
      (r.size_bytes ?? 0) <= exactCountMaxBytes,
  );
  const counts = new Map<string, number>(unknown.filter((r) => r.heap_bytes === 0).map((r) => [String(r.oid), 0]));
  const targets = unknown.filter((r) => r.heap_bytes !== 0);
  for (let i = 0; i < targets.length; i += 200) {
    const batch = targets.slice(i, i + 200);
    const count = (relations: RelationRow[]) => sql.unsafe<{ oid: string; n: number }[]>(countQuery(relations));
    try {
      for (const row of await count(batch)) counts.set(String(row.oid), row.n);
    } catch {
      // Some table in the batch may not be readable by this user: count one by one and skip those.
      for (const relation of batch) {
        for (const row of await count([relation]).catch(() => [])) counts.set(String(row.oid), row.n);
      }
    }
  }
  return counts;
}

function countQuery(relations: RelationRow[]): string {
  return relations
    .map(
      (r) =>
        `select ${Number(r.oid)}::int8 as oid, count(*)::float8 as n from ${quoteIdent(r.namespace)}.${quoteIdent(r.name)}`,
    )
    .join(' union all ');
}

function buildAssets(
  relations: RelationRow[],
  columnRows: ColumnRow[],
  constraintRows: ConstraintRow[],
  typeNotes: Map<string, string>,
  exactCounts: Map<string, number>,
): DiscoveredAsset[] {
  const columnsByOid = groupBy(columnRows, (c) => String(c.oid));
  const constraintsByOid = groupBy(constraintRows, (c) => String(c.oid));
  const rows = new Map(relations.map((r) => [String(r.oid), rowCount(r, exactCounts.get(String(r.oid)))]));
  const partitionRows = new Map<string, number | null>();
  for (const r of relations) {
    if (!r.partition_of) continue;
    const sum = partitionRows.get(r.partition_of);
    const n = rows.get(String(r.oid)) ?? null;
    partitionRows.set(r.partition_of, sum === undefined ? n : sum === null || n === null ? null : sum + n);
  }
  return relations.map((r) => {
    const oid = String(r.oid);
    const constraints = constraintsByOid.get(oid) ?? [];
    const primaryKey = new Set(constraints.filter((c) => c.type === 'p').flatMap((c) => c.columns));
    const foreignKeys: DiscoveredForeignKey[] = constraints
      .filter((c) => c.type === 'f' && c.ref_name && c.ref_namespace)
      .map((c) => ({
        name: c.name,
        columns: c.columns,
        refNamespace: c.ref_namespace!,
        refName: c.ref_name!,
        refColumns: c.ref_columns,
      }));
    const columnTypes: Record<string, string> = {};
    const columns = (columnsByOid.get(oid) ?? []).map((c) => {
      const note = typeNotes.get(String(c.type_oid));
      if (note) columnTypes[c.name] = note;
      return {
        name: c.name,
        position: c.position,
        dataType: c.data_type,
        nullable: c.nullable,
        isPrimaryKey: primaryKey.has(c.name),
        description: c.description,
        defaultValue: c.default_value,
      };
    });
    return {
      kind: kinds[r.relkind] ?? 'table',
      namespace: r.namespace,
      name: r.name,
      description: r.description,
      owner: r.owner,
      definition: r.definition?.trim() ?? null,
      rowCount: r.relkind === 'p' ? (partitionRows.get(`${r.namespace}.${r.name}`) ?? null) : rows.get(oid)!,
      sizeBytes: r.relkind === 'p' ? (r.partition_bytes ?? 0) : r.size_bytes,
      lastModified: null,
      properties: compact({
        partitionKey: r.partition_key,
        partitions: r.partitions,
        partitionOf: r.partition_of,
        foreignTable: r.relkind === 'f' ? true : undefined,
        populated: r.relkind === 'm' ? r.populated : undefined,
        columnTypes: Object.keys(columnTypes).length > 0 ? columnTypes : undefined,
      }),
      columns,
      foreignKeys,
    };
  });
}

function rowCount(r: RelationRow, exact: number | undefined): number | null {
  if (exact !== undefined) return exact;
  if (r.relkind === 'v' || r.reltuples < 0) return null;
  return Math.round(r.reltuples);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined));
}

function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
