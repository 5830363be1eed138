import { sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../../db/create-db.js';
import type { Classification } from '../../../db/schema/types.js';
import { assetUrn } from '../../catalog/urn.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows, visibleAssetsSql } from '../../governance/access.js';
import type { AnalyzedNode, PipelineAnalysis } from '../analysis.js';
import type { NodeConfig } from '../nodes/index.js';
import { describeRule } from '../nodes/validate-rules.js';
import { escapeJinja, oneLine } from './dbt-jinja.js';

/** A table a source node reads, as the catalog describes it to the caller. */
export interface TableDocs {
  schema: string;
  table: string;
  urn: string;
  /** The catalog's name for the database it is in. */
  sourceName: string | null;
  description: string | null;
  classification: Classification;
  columns: { name: string; type: string; description: string | null; classification: Classification | null }[];
}

export interface CatalogDocs {
  /** The table each source_dataset node reads. */
  byNode: Map<string, TableDocs>;
  /** Every table the pipeline reads, source queries' included, once each. */
  tables: TableDocs[];
}

/**
 * The catalog's descriptions of the tables the pipeline reads (by its dataset nodes and in its source queries),
 * with the columns the caller may see: one marked above its clearance is left out, as the catalog leaves it out
 * of the table wherever it shows it to that caller (the pipeline cannot read it either).
 */
export async function catalogDocs(ctx: ServiceContext, analysis: PipelineAnalysis): Promise<CatalogDocs> {
  const wanted = new Map<string, { schema: string; table: string; nodes: string[] }>();
  const want = (urn: string, schema: string, table: string, nodeId?: string) => {
    const entry = wanted.get(urn) ?? { schema, table, nodes: [] };
    if (nodeId) entry.nodes.push(nodeId);
    wanted.set(urn, entry);
  };
  for (const node of analysis.nodes.values()) {
    if (node.type === 'source_dataset') {
      want((node.config as NodeConfig<'source_dataset'>).urn, node.table!.schema, node.table!.name, node.node.id);
    } else if (node.type === 'source_sql') {
      const source = (node.config as NodeConfig<'source_sql'>).source;
      for (const r of node.query!.relations) want(assetUrn('postgres', source, r.schema, r.name), r.schema, r.name);
    }
  }
  const assets = await queryRows<{
    id: string;
    urn: string;
    description: string | null;
    classification: Classification;
    source_name: string | null;
  }>(
    ctx.db,
    sql`select a.id::text, a.urn, a.description, a.classification, s.name as source_name
        from assets a left join sources s on s.id = a.source_id
        where a.urn = any(${textArray([...wanted.keys()])}) and ${visibleAssetsSql(ctx.principal)}`,
  );
  const columns = await queryRows<{
    asset_id: string;
    name: string;
    data_type: string;
    description: string | null;
    classification: Classification | null;
  }>(
    ctx.db,
    sql`select asset_id::text, name, data_type, description, classification from columns
        where asset_id = any(${textArray(assets.map((a) => a.id))}::uuid[]) order by asset_id, position`,
  );
  const docs: CatalogDocs = { byNode: new Map(), tables: [] };
  for (const asset of assets) {
    const { schema, table, nodes } = wanted.get(asset.urn)!;
    const cleared = (c: (typeof columns)[number]) =>
      c.classification === null || clearanceAllows(ctx.principal.clearance, c.classification);
    const entry: TableDocs = {
      schema,
      table,
      urn: asset.urn,
      sourceName: asset.source_name,
      description: asset.description,
      classification: asset.classification,
      columns: columns
        .filter((c) => c.asset_id === asset.id && cleared(c))
        .map((c) => ({
          name: c.name,
          type: c.data_type,
          description: c.description,
          classification: c.classification,
        })),
    };
    docs.tables.push(entry);
    for (const nodeId of nodes) docs.byNode.set(nodeId, entry);
  }
  return docs;
}

/**
 * What each column of each node holds, followed from the catalog's descriptions through the graph: a column
 * that passes through keeps its description, a derived one says how it is computed, a measure what it measures.
 */
export function describeColumns(
  analysis: PipelineAnalysis,
  docs: CatalogDocs,
): Map<string, Map<string, string | null>> {
  const notes = new Map<string, Map<string, string | null>>();
  for (const [id, node] of analysis.nodes) {
    const from = (input: string | undefined) => notes.get(input ?? '') ?? new Map<string, string | null>();
    const input = from(node.inputs[0]);
    const own = new Map<string, string | null>();
    switch (node.type) {
      case 'source_dataset':
        for (const c of docs.byNode.get(id)!.columns) own.set(c.name, c.description);
        break;
      case 'select':
        for (const c of (node.config as NodeConfig<'select'>).columns)
          own.set(c.as ?? c.column, input.get(c.column) ?? null);
        break;
      case 'derive': {
        const derived = new Map((node.config as NodeConfig<'derive'>).columns.map((c) => [c.name, c.expression]));
        for (const c of node.columns) {
          own.set(c.name, derived.has(c.name) ? `Derived: ${derived.get(c.name)}` : (input.get(c.name) ?? null));
        }
        break;
      }
      case 'join': {
        const [left, right] = [input, from(node.inputs[1])];
        node.columns.forEach((c, i) => {
          own.set(c.name, (i < node.leftWidth! ? left.get(c.name) : right.get(c.name)) ?? null);
        });
        break;
      }
      case 'aggregate': {
        const measures = new Map((node.config as NodeConfig<'aggregate'>).measures.map((m) => [m.name, m]));
        for (const c of node.columns) {
          const m = measures.get(c.name);
          own.set(c.name, m ? measureWords(m) : (input.get(c.name) ?? null));
        }
        break;
      }
      case 'mask': {
        const method = (node.config as NodeConfig<'mask'>).method;
        for (const c of node.columns) {
          const before = input.get(c.name) ?? null;
          own.set(c.name, c.tags.includes('masked') ? `${before ? `${before} ` : ''}Masked (${method}).` : before);
        }
        break;
      }
      default:
        // Filters, sorts, unions, validations and the like pass their input's columns through unchanged.
        for (const c of node.columns) own.set(c.name, input.get(c.name) ?? null);
    }
    notes.set(id, own);
  }
  return notes;
}

function measureWords(m: { fn: string; column?: string }): string {
  if (m.fn === 'count') return m.column ? `Number of rows with a ${m.column}` : 'Number of rows';
  if (m.fn === 'count_distinct') return `Number of distinct ${m.column}`;
  const words: Record<string, string> = { sum: 'Sum', avg: 'Average', min: 'Smallest', max: 'Largest' };
  return `${words[m.fn] ?? m.fn} of ${m.column}`;
}

/** A model's description: the node's label and what the node does, in words. */
export function describeNode(node: AnalyzedNode, pipelineName: string): string {
  const label = node.node.data.label.trim();
  const head = label && label !== node.node.id ? `${label}. ` : '';
  const names = (ids: string[]) => ids.map((i) => `\`${i}\``).join(' and ');
  const c = node.config;
  const what = (() => {
    switch (node.type) {
      case 'filter':
        return `Keeps the rows of ${names(node.inputs)} where ${c.condition}.`;
      case 'select':
        return `Keeps ${(c as NodeConfig<'select'>).columns.map((s) => (s.as ? `${s.column} as ${s.as}` : s.column)).join(', ')} of ${names(node.inputs)}.`;
      case 'derive':
        return `Adds to ${names(node.inputs)}: ${(c as NodeConfig<'derive'>).columns.map((d) => `${d.name} = ${d.expression}`).join('; ')}.`;
      case 'join':
        return `${c.kind} join of ${names(node.inputs)} on ${(c as NodeConfig<'join'>).on.map((k) => `${k.left} = ${k.right}`).join(' and ')}.`;
      case 'aggregate': {
        const config = c as NodeConfig<'aggregate'>;
        const by = config.groupBy.length ? ` by ${config.groupBy.join(', ')}` : '';
        return `Aggregates ${names(node.inputs)}${by}: ${config.measures.map((m) => `${m.name} = ${m.fn}(${m.column ?? '*'})`).join(', ')}.`;
      }
      case 'validate': {
        const config = c as NodeConfig<'validate'>;
        const onFail =
          config.onFail === 'stop'
            ? 'A row that breaks one stops the DataOps run; here the tests fail and `dbt build` skips what is downstream.'
            : 'Rows that break one are quarantined (left out) by DataOps and by this model alike.';
        return `Checks ${names(node.inputs)}: ${config.rules.map(describeRule).join('; ')}. ${onFail}`;
      }
      case 'mask':
        return `Masks ${node.columns
          .filter((col) => col.tags.includes('masked'))
          .map((col) => col.name)
          .join(', ')} of ${names(node.inputs)} (${c.method}).`;
      case 'destination_table': {
        const config = c as NodeConfig<'destination_table'>;
        return `Output of pipeline ${pipelineName}: DataOps writes it to ${config.schema}.${config.table} (${config.mode}${config.key.length ? ` on ${config.key.join(', ')}` : ''}).`;
      }
      case 'destination_file': {
        const config = c as NodeConfig<'destination_file'>;
        return `Output of pipeline ${pipelineName}: DataOps writes it to the ${config.format} file ${config.path}.`;
      }
      case 'source_sql':
        return `Rows of a query on source ${c.source}: ${oneLine((c as NodeConfig<'source_sql'>).query)}`;
      default:
        return node.inputs.length ? `A ${node.type} node over ${names(node.inputs)}.` : `A ${node.type} node.`;
    }
  })();
  return `${head}${what}`;
}

/** sources.yml: one dbt source per schema (`source('<schema>', '<table>')`), with the catalog's descriptions. */
export function sourcesYaml(tables: TableDocs[]): Record<string, unknown> {
  const bySchema = new Map<string, Map<string, TableDocs>>();
  for (const t of tables) {
    const schema = bySchema.get(t.schema) ?? new Map<string, TableDocs>();
    schema.set(t.table, t);
    bySchema.set(t.schema, schema);
  }
  const text = (value: string | null) => (value ? { description: escapeJinja(value) } : {});
  return {
    version: 2,
    sources: [...bySchema].map(([schema, byTable]) => {
      const databases = [...new Set([...byTable.values()].map((t) => t.sourceName).filter(Boolean))];
      return {
        name: escapeJinja(schema),
        schema: escapeJinja(schema),
        description: escapeJinja(
          `Schema ${schema} of the database the DataOps catalog calls ${databases.join(', ') || 'the source'}.`,
        ),
        tables: [...byTable.values()].map((t) => ({
          name: escapeJinja(t.table),
          ...text(t.description),
          meta: { dataops_urn: escapeJinja(t.urn), dataops_classification: t.classification },
          columns: t.columns.map((c) => ({
            name: escapeJinja(c.name),
            data_type: c.type,
            ...text(c.description),
            ...(c.classification ? { meta: { dataops_classification: c.classification } } : {}),
          })),
        })),
      };
    }),
  };
}
