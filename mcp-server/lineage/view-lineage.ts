import { sql } from 'drizzle-orm';
import { isDataOpsError } from '../../core/errors.js';
import { queryRows, type Tx, textArray } from '../../db/create-db.js';
import type { SyncedSource, SyncReaction } from '../context.js';
import { analyzeQuery, type QueryLineage, type ResolvedRelation } from './sql-lineage.js';
import { type ColumnMapping, type EdgeSpec, replaceEdges } from './store.js';

/**
 * Table and column lineage of a source's views and materialized views, parsed from their definitions.
 * Edges run from each relation a view reads to the view (origin `sql`); the view owns them, so a changed
 * definition closes the old edges and opens new ones, and a dropped view's lineage is closed.
 */
export async function syncViewLineage(
  tx: Tx,
  { snapshot, sourceId, assets: planned, ids, scope, now }: SyncedSource,
): Promise<SyncReaction> {
  const byName = new Map<string, ResolvedRelation & { namespace: string; name: string }>();
  for (const p of planned) {
    const id = ids.get(p.urn);
    if (!id) continue;
    byName.set(`${p.discovered.namespace}.${p.discovered.name}`, {
      id,
      namespace: p.discovered.namespace,
      name: p.discovered.name,
      columns: p.discovered.columns.map((c) => c.name),
    });
  }
  const edges: EdgeSpec[] = [];
  const errors: { object: string; message: string }[] = [];
  for (const p of planned) {
    const definition = p.discovered.definition;
    if (!definition || (p.discovered.kind !== 'view' && p.discovered.kind !== 'materialized_view')) continue;
    const viewId = ids.get(p.urn)!;
    const resolve = ({ schema, name }: { schema: string | null; name: string }) => {
      if (schema) return byName.get(`${schema}.${name}`);
      // Postgres prints names visible on the search path unqualified: public first, then the view's own schema.
      return (
        byName.get(`public.${name}`) ??
        byName.get(`${p.discovered.namespace}.${name}`) ??
        onlyOne([...byName.values()].filter((r) => r.name === name && r.id !== viewId))
      );
    };
    let lineage: QueryLineage;
    try {
      lineage = await analyzeQuery(snapshot.kind === 'mysql' ? mysqlToPostgres(definition) : definition, resolve);
    } catch (error) {
      if (!isDataOpsError(error)) throw error;
      errors.push({ object: `${p.discovered.namespace}.${p.discovered.name}`, message: `lineage: ${error.message}` });
      continue;
    }
    edges.push(...viewEdges(lineage, viewId, p.urn));
  }
  // Every asset of the synced scope owns its `sql` lineage, so a view that vanished has its edges closed.
  const owners = await queryRows<{ id: string }>(
    tx,
    sql`select id from assets where source_id = ${sourceId}
          and (cardinality(${textArray(scope)}) = 0 or namespace = any(${textArray(scope)}))`,
  );
  const changes = await replaceEdges(tx, { origin: 'sql', toAssetIds: owners.map((o) => o.id) }, edges, now);
  return { ...changes, errors };
}

/** One `derives` edge per relation the view reads, carrying the columns it feeds. */
export function viewEdges(lineage: QueryLineage, viewId: string, viewUrn: string): EdgeSpec[] {
  return lineage.relations
    .filter((relation) => relation !== viewId)
    .map((relation) => {
      const columns: ColumnMapping[] = [];
      for (const output of lineage.columns) {
        for (const source of output.sources.filter((s) => s.relation === relation)) {
          columns.push({
            fromColumn: source.column,
            toColumn: output.name,
            transformationType: 'DIRECT',
            transformationSubtype: source.subtype,
            sql: source.subtype === 'IDENTITY' ? null : output.sql,
          });
        }
      }
      for (const source of lineage.indirect.filter((s) => s.relation === relation)) {
        columns.push({
          fromColumn: source.column,
          toColumn: null,
          transformationType: 'INDIRECT',
          transformationSubtype: source.subtype,
        });
      }
      return { fromAssetId: relation, toAssetId: viewId, kind: 'derives', properties: { view: viewUrn }, columns };
    });
}

function onlyOne<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

/** MySQL quotes identifiers with backticks; Postgres with double quotes. String literals stay as they are. */
export function mysqlToPostgres(definition: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < definition.length; i++) {
    const ch = definition[i]!;
    if (quote) {
      if (ch === '\\' && quote === "'") {
        out += ch + (definition[++i] ?? '');
        continue;
      }
      if (ch === quote) quote = null;
      out += quote === null && ch === '`' ? '"' : ch === '"' && quote === '`' ? '""' : ch;
      continue;
    }
    if (ch === "'" || ch === '`') quote = ch;
    out += ch === '`' ? '"' : ch;
  }
  return out;
}
