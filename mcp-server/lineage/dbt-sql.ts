import { isDataOpsError } from '../../core/errors.js';
import { compiledSql, type DbtManifest } from './dbt-manifest.js';
import type { DbtPlan, PlannedRelation } from './dbt-plan-types.js';
import type { FactColumn } from './producer-assets.js';
import { analyzeQuery, type RelationName } from './sql-lineage.js';
import type { ColumnMapping } from './store.js';
import { viewEdges } from './view-lineage.js';

/**
 * Column lineage of every model with compiled SQL, upstream models first so a model's output columns are
 * known to the models that read it. Relations are named by dbt unique id. Returns each analysed model's
 * output column names.
 */
export async function analyseModels(
  plan: DbtPlan,
  manifest: DbtManifest,
  knownColumns: (r: PlannedRelation) => string[] | undefined,
): Promise<Map<string, { columns: FactColumn[]; complete: boolean }>> {
  const derived = new Map<string, { columns: FactColumn[]; complete: boolean }>();
  const byName = new Map<string, PlannedRelation[]>();
  for (const r of plan.relations.values()) {
    const key = r.identifier.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), r]);
  }
  /** A relation's columns, and whether they are all of them (the documented ones may not be). */
  const columnsOf = (r: PlannedRelation): { names: string[]; complete: boolean } => {
    const known = knownColumns(r);
    if (known) return { names: known, complete: true };
    const fromSql = derived.get(r.node.unique_id);
    if (fromSql) return { names: fromSql.columns.map((c) => c.name), complete: fromSql.complete };
    return { names: Object.keys(r.node.columns ?? {}), complete: false };
  };

  for (const id of topologicalOrder(manifest, plan)) {
    const model = plan.relations.get(id);
    const code = model ? compiledSql(model.node) : null;
    if (!model || !code || model.role !== 'model') continue;
    let inputsComplete = true;
    const resolve = ({ schema, name }: RelationName) => {
      const named = (byName.get(name.toLowerCase()) ?? []).filter(
        (r) => r.node.unique_id !== id && (!schema || r.schema.toLowerCase() === schema.toLowerCase()),
      );
      const match = named.find((r) => r.database === model.database) ?? (named.length === 1 ? named[0] : undefined);
      if (!match) return undefined;
      const known = columnsOf(match);
      inputsComplete &&= known.complete;
      return { id: match.node.unique_id, columns: known.names };
    };
    try {
      const lineage = await analyzeQuery(code, resolve);
      derived.set(id, {
        columns: lineage.columns.map((c) => ({ name: c.name })),
        // `select *` from a relation whose columns are not all known yields only some of them.
        complete: inputsComplete && lineage.unresolved.length === 0,
      });
      const byRelation = new Map<string, ColumnMapping[]>();
      for (const edge of viewEdges(lineage, id, '')) byRelation.set(edge.fromAssetId, edge.columns ?? []);
      plan.columnLineage.set(id, byRelation);
    } catch (error) {
      const message = isDataOpsError(error) ? error.message : String((error as Error)?.message ?? error);
      plan.warnings.push(`${id}: no column lineage, its compiled SQL could not be read: ${message}`);
    }
  }
  return derived;
}

/** Models after the relations they depend on (through ephemeral models too). */
function topologicalOrder(manifest: DbtManifest, plan: DbtPlan): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const node = manifest.nodes[id];
    for (const dep of node?.depends_on?.nodes ?? []) visit(dep);
    if (plan.relations.has(id)) order.push(id);
  };
  for (const id of plan.relations.keys()) visit(id);
  return order;
}
