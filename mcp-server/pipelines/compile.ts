import { DataOpsError } from '../../core/errors.js';
import { redacted } from '../governance/pii-masks.js';
import { columnKind } from '../quality/profile-sql.js';
import { renderExpression } from '../quality/rules-expression.js';
import type { CleanseOperation, NodeConfig, ValidateRule } from './graph.js';
import { qualifiedQueryText, renameRelations } from './source-sql.js';
import type { AnalyzedNode, PipelineAnalysis } from './validate.js';

/**
 * The seam for other engines: what differs between SQL dialects when a pipeline is written out. Postgres is
 * the one there is today; a warehouse dialect (Snowflake, Databricks SQL, Trino) implements the same few
 * functions and the compiler stays as it is.
 */
export interface SqlDialect {
  readonly name: 'postgres';
  quote(identifier: string): string;
  literal(value: string | number | boolean | null): string;
  limit(count: number): string;
  /** A value as text, salted and hashed to 16 hex digits (null stays null). */
  hash(expression: string, salt: string): string;
  asText(expression: string): string;
}

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  quote: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
  literal: (value) => {
    if (value === null) return 'null';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new DataOpsError('invalid_input', `${value} is not a number SQL can hold`);
      return String(value);
    }
    // An E'' string means the same whatever standard_conforming_strings is set to.
    return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  },
  limit: (count) => `limit ${Math.trunc(count)}`,
  hash: (expression, salt) => `('hash:' || left(md5(${postgresDialect.literal(salt)} || (${expression})::text), 16))`,
  asText: (expression) => `(${expression})::text`,
};

export interface CompileOptions {
  dialect?: SqlDialect;
  /** Salt for mask nodes that hash. */
  salt: string;
  /**
   * How a node's SQL names the output of a node it reads; the CTE's name by default. An export that writes
   * one model per node (dbt's `{{ ref('…') }}`) names it its own way with the same SQL around it.
   */
  reference?: (nodeId: string) => string;
  /** How a source node names the table it reads; `schema.table` by default (dbt's `{{ source(…) }}`). */
  table?: (schema: string, name: string) => string;
}

/** Prefix of helper columns the compiler adds inside a node; never part of an output. */
const helper = '__dataops_';

/**
 * One statement for the output of `nodeId`: a CTE per node it depends on (in dependency order), then a select
 * of its columns. `tail` replaces that final select's suffix (a limit for a preview).
 */
export function compileNode(
  analysis: PipelineAnalysis,
  nodeId: string,
  options: CompileOptions,
  tail?: (quotedNode: string, columns: string) => string,
): string {
  const dialect = options.dialect ?? postgresDialect;
  const target = analysis.nodes.get(nodeId);
  if (!target)
    throw new DataOpsError(
      'invalid_input',
      `node \`${nodeId}\` cannot be compiled: validate the pipeline and fix its issues first`,
    );
  const needed = ancestors(analysis, nodeId);
  // A run counts node by node, so a failure is already tied to its node without mapping error positions back.
  const ctes = [...analysis.nodes.keys()]
    .filter((id) => needed.has(id))
    .map((id) => `${dialect.quote(id)} as (${nodeSql(analysis.nodes.get(id)!, dialect, options)})`);
  const columns = columnList(target, dialect);
  const quoted = dialect.quote(nodeId);
  return `with ${ctes.join(',\n')}\n${tail ? tail(quoted, columns) : `select ${columns} from ${quoted}`}`;
}

/** A node and everything upstream of it. */
export function ancestors(analysis: PipelineAnalysis, nodeId: string): Set<string> {
  const found = new Set<string>();
  const visit = (id: string) => {
    if (found.has(id)) return;
    found.add(id);
    for (const input of analysis.nodes.get(id)?.inputs ?? []) visit(input);
  };
  visit(nodeId);
  return found;
}

/**
 * Counts, for a validate node, the rows that break each of its rules (one column per rule, named by its index),
 * over the node's input: the run stops on any when the node says `stop`, and records them when it quarantines.
 */
export function compileRuleFailures(analysis: PipelineAnalysis, nodeId: string, options: CompileOptions): string {
  const dialect = options.dialect ?? postgresDialect;
  const node = analysis.nodes.get(nodeId)!;
  const config = node.config as NodeConfig<'validate'>;
  const flags = flaggedRows(node, dialect);
  const counts = config.rules
    .map((_, i) => `count(*) filter (where not ${dialect.quote(`${helper}rule_${i}`)}) as ${dialect.quote(String(i))}`)
    .join(', ');
  return compileNode(analysis, node.inputs[0]!, options, () => `select ${counts} from (${flags}) as v`);
}

/** Columns a quarantine table adds to the rows it keeps. */
export const quarantineColumns = {
  failedRules: 'dataops_failed_rules',
  runId: 'dataops_run_id',
  at: 'dataops_quarantined_at',
} as const;

/** The rows a quarantining validate node leaves out, each with the rules it broke, in words. */
export function compileQuarantinedRows(analysis: PipelineAnalysis, nodeId: string, options: CompileOptions): string {
  const dialect = options.dialect ?? postgresDialect;
  const node = analysis.nodes.get(nodeId)!;
  const config = node.config as NodeConfig<'validate'>;
  const flag = (i: number) => dialect.quote(`${helper}rule_${i}`);
  const broken = config.rules.map(
    (rule, i) => `case when not ${flag(i)} then ${dialect.literal(describeRule(rule))} end`,
  );
  const passes = config.rules.map((_, i) => flag(i)).join(' and ');
  return compileNode(
    analysis,
    node.inputs[0]!,
    options,
    () =>
      `select ${columnList(node, dialect)}, array_remove(array[${broken.join(', ')}]::text[], null) as ${dialect.quote(quarantineColumns.failedRules)} from (${flaggedRows(node, dialect)}) as v where not (${passes})`,
  );
}

function columnList(node: AnalyzedNode, dialect: SqlDialect, alias?: string): string {
  return node.columns.map((c) => `${alias ? `${alias}.` : ''}${dialect.quote(c.name)}`).join(', ');
}

/** The select of one node over its inputs (named by `options.reference`), without the CTEs before it. */
export function nodeSelect(analysis: PipelineAnalysis, nodeId: string, options: CompileOptions): string {
  return nodeSql(analysis.nodes.get(nodeId)!, options.dialect ?? postgresDialect, options);
}

function nodeSql(node: AnalyzedNode, d: SqlDialect, options: CompileOptions): string {
  const q = d.quote;
  const ref = options.reference ?? q;
  const salt = options.salt;
  const input = node.inputs[0] ? ref(node.inputs[0]) : '';
  const all = columnList(node, d);
  const expr = (key: string) =>
    renderExpression(node.expressions.get(key)!, 'postgres', (v) => d.literal(v as string | number));
  switch (node.type) {
    case 'source_dataset':
      return `select ${all} from ${options.table ? options.table(node.table!.schema, node.table!.name) : `${q(node.table!.schema)}.${q(node.table!.name)}`}`;
    case 'filter':
      return `select ${all} from ${input} where ${expr('condition')}`;
    case 'select': {
      const config = node.config as NodeConfig<'select'>;
      return `select ${config.columns.map((c) => `${q(c.column)} as ${q(c.as ?? c.column)}`).join(', ')} from ${input}`;
    }
    case 'derive': {
      const derived = new Set((node.config as NodeConfig<'derive'>).columns.map((c) => c.name));
      const list = node.columns.map((c) =>
        derived.has(c.name) ? `${expr(`column:${c.name}`)} as ${q(c.name)}` : q(c.name),
      );
      return `select ${list.join(', ')} from ${input}`;
    }
    case 'join': {
      const config = node.config as NodeConfig<'join'>;
      const merged = new Set(config.on.filter((k) => k.left === k.right).map((k) => k.left));
      const [leftInput, rightInput] = node.inputs as [string, string];
      const list = node.columns.map((c, i) => {
        if (merged.has(c.name)) {
          return config.kind === 'full' ? `coalesce(l.${q(c.name)}, r.${q(c.name)}) as ${q(c.name)}` : `l.${q(c.name)}`;
        }
        return `${i < node.leftWidth! ? 'l' : 'r'}.${q(c.name)}`;
      });
      const on = config.on.map((k) => `l.${q(k.left)} = r.${q(k.right)}`).join(' and ');
      return `select ${list.join(', ')} from ${ref(leftInput)} as l ${config.kind} join ${ref(rightInput)} as r on ${on}`;
    }
    case 'union': {
      const config = node.config as NodeConfig<'union'>;
      return node.inputs.map((i) => `select ${all} from ${ref(i)}`).join(config.distinct ? ' union ' : ' union all ');
    }
    case 'aggregate': {
      const config = node.config as NodeConfig<'aggregate'>;
      const measures = config.measures.map((m) => {
        const column = m.column ? q(m.column) : '*';
        const call = m.fn === 'count_distinct' ? `count(distinct ${column})` : `${m.fn}(${column})`;
        return `${call} as ${q(m.name)}`;
      });
      const groups = config.groupBy.map(q);
      const group = groups.length ? ` group by ${groups.join(', ')}` : '';
      return `select ${[...groups, ...measures].join(', ')} from ${input}${group}`;
    }
    case 'sort': {
      const config = node.config as NodeConfig<'sort'>;
      const order = config.by.length ? ` order by ${orderBy(config.by, d)}` : '';
      return `select ${all} from ${input}${order}${config.limit ? ` ${d.limit(config.limit)}` : ''}`;
    }
    case 'deduplicate': {
      const config = node.config as NodeConfig<'deduplicate'>;
      if (config.columns.length === 0) return `select distinct ${all} from ${input}`;
      const row = q(`${helper}row`);
      const order = config.keep.length ? ` order by ${orderBy(config.keep, d)}` : '';
      return `select ${all} from (select ${all}, row_number() over (partition by ${config.columns.map(q).join(', ')}${order}) as ${row} from ${input}) as d where ${row} = 1`;
    }
    case 'validate': {
      const config = node.config as NodeConfig<'validate'>;
      if (config.onFail === 'stop') return `select ${all} from ${input}`;
      const passes = config.rules.map((_, i) => q(`${helper}rule_${i}`)).join(' and ');
      return `select ${all} from (${flaggedRows(node, d, ref)}) as v where ${passes}`;
    }
    case 'mask': {
      const masked = new Set(node.columns.filter((c) => c.tags.includes('masked')).map((c) => c.name));
      const method = (node.config as NodeConfig<'mask'>).method;
      const list = node.columns.map((c) => {
        if (!masked.has(c.name)) return q(c.name);
        const value = q(c.name);
        const out =
          method === 'hash'
            ? d.hash(value, salt)
            : method === 'last4'
              ? `('***' || right(${d.asText(value)}, 4))`
              : `case when ${value} is null then null else ${d.literal(redacted)} end`;
        return `${out} as ${value}`;
      });
      return `select ${list.join(', ')} from ${input}`;
    }
    // Governance nodes change the marking and audience of what is published, never the rows.
    case 'classify':
    case 'restrict':
      return `select ${all} from ${input}`;
    case 'source_sql': {
      // Tables named "schema"."name" always: a bare `sales` would otherwise read a node (a CTE) called sales.
      const query = options.table ? renameRelations(node.query!, options.table) : qualifiedQueryText(node.query!);
      // On lines of its own, so a comment at the end of the query cannot swallow the closing parenthesis.
      return `select ${all} from (\n${query}\n) as q`;
    }
    case 'source_upload': {
      // The rows travel as one JSON literal, each column cast to the type its reader found (one of the
      // types uploads/uploads.ts allows, never text a user wrote).
      const rows = d.literal(JSON.stringify(node.upload!.rows));
      const list = node.upload!.columns.map((c, i) =>
        c.type === 'json' ? `(r.v -> ${i})::json as ${q(c.name)}` : `(r.v ->> ${i})::${c.type} as ${q(c.name)}`,
      );
      return `select ${list.join(', ')} from jsonb_array_elements(${rows}::jsonb) as r(v)`;
    }
    case 'cleanse': {
      const config = node.config as NodeConfig<'cleanse'>;
      const list = node.columns.map((c) => {
        const operations = config.columns.find((x) => x.column === c.name)?.operations;
        return operations ? `${operations.reduce((e, o) => cleansed(e, o, d), q(c.name))} as ${q(c.name)}` : q(c.name);
      });
      return `select ${list.join(', ')} from ${input}`;
    }
    case 'enrich': {
      // One lookup row per key (the first by the looked-up values), so an enrich never multiplies input rows.
      const config = node.config as NodeConfig<'enrich'>;
      const [inputNode, lookupNode] = node.inputs as [string, string];
      const keys = config.on.map((k, i) => `${q(k.right)} as ${q(`${helper}k${i}`)}`);
      const values = config.columns.map((c, i) => `${q(c.column)} as ${q(`${helper}v${i}`)}`);
      const partition = config.on.map((k) => q(k.right)).join(', ');
      const width = node.columns.length - config.columns.length;
      // Types without an order (json, xml…) are ordered by their text, so any lookup column can decide.
      const order = config.columns
        .map((c, i) => {
          const kind = columnKind('postgres', node.columns[width + i]!.type);
          return `${kind === 'skipped' || kind === 'other' ? `cast(${q(c.column)} as text)` : q(c.column)} asc nulls last`;
        })
        .join(', ');
      const row = q(`${helper}row`);
      const lookup = `select ${[...keys, ...values].join(', ')}, row_number() over (partition by ${partition} order by ${order}) as ${row} from ${ref(lookupNode)}`;
      const list = node.columns.map((c, i) =>
        i < width ? `l.${q(c.name)}` : `k.${q(`${helper}v${i - width}`)} as ${q(c.name)}`,
      );
      const on = config.on.map((k, i) => `l.${q(k.left)} = k.${q(`${helper}k${i}`)}`).join(' and ');
      return `select ${list.join(', ')} from ${ref(inputNode)} as l left join (${lookup}) as k on ${on} and k.${row} = 1`;
    }
    case 'pivot': {
      const config = node.config as NodeConfig<'pivot'>;
      const keys = config.rowKeys.map(q);
      const measured = config.measure.column ? q(config.measure.column) : '*';
      const pivoted = node.columns.slice(keys.length).map((c, i) => {
        const where = `${q(config.column)} = ${d.literal(config.values[i]!)}`;
        const call =
          config.measure.fn === 'count_distinct' ? `count(distinct ${measured})` : `${config.measure.fn}(${measured})`;
        return `${call} filter (where ${where}) as ${q(c.name)}`;
      });
      const group = keys.length ? ` group by ${keys.join(', ')}` : '';
      return `select ${[...keys, ...pivoted].join(', ')} from ${input}${group}`;
    }
    case 'profile':
    case 'destination_file':
    case 'destination_table':
      return `select ${all} from ${input}`;
  }
}

/** A cleanse operation applied to the SQL expression `e`. */
function cleansed(e: string, operation: CleanseOperation, d: SqlDialect): string {
  switch (operation.op) {
    case 'trim':
      return `trim(${e})`;
    case 'lower':
      return `lower(${e})`;
    case 'upper':
      return `upper(${e})`;
    case 'empty_to_null':
      return `nullif(${e}, '')`;
    case 'collapse_whitespace':
      return `regexp_replace(${e}, ${d.literal('\\s+')}, ' ', 'g')`;
    case 'replace':
      return `replace(${e}, ${d.literal(operation.from)}, ${d.literal(operation.to)})`;
    case 'cast':
      // `to` is one of graph.ts's castTargets, never free text.
      return `cast(${e} as ${operation.to})`;
    case 'fill_null':
      // Written as a quoted (untyped) literal whatever the value, so Postgres casts it to the column's type:
      // a bare 5 would make coalesce over a smallint an integer, unlike the output schema says.
      return `coalesce(${e}, ${d.literal(String(operation.value))})`;
  }
}

function orderBy(keys: { column: string; direction: 'asc' | 'desc' }[], d: SqlDialect): string {
  return keys.map((k) => `${d.quote(k.column)} ${k.direction}`).join(', ');
}

/** The validate node's input with one boolean per rule: true when the row passes it (unknown passes, as in dbt). */
function flaggedRows(node: AnalyzedNode, d: SqlDialect, ref: (nodeId: string) => string = d.quote): string {
  const config = node.config as NodeConfig<'validate'>;
  const flags = config.rules.map((rule, i) => `${rulePasses(node, rule, i, d)} as ${d.quote(`${helper}rule_${i}`)}`);
  return `select ${columnList(node, d)}, ${flags.join(', ')} from ${ref(node.inputs[0]!)}`;
}

/** A boolean SQL expression: true when the row passes `rule` (unknown passes, as in dbt). */
export function rulePasses(node: AnalyzedNode, rule: ValidateRule, index: number, d: SqlDialect): string {
  if (rule.check === 'expression') {
    const text = renderExpression(node.expressions.get(`rule:${index}`)!, 'postgres', (v) => d.literal(v as string));
    return `(${text} is not false)`;
  }
  const c = d.quote(rule.column);
  switch (rule.check) {
    case 'not_null':
      return `(${c} is not null)`;
    case 'unique':
      return `(${c} is null or count(*) over (partition by ${c}) = 1)`;
    case 'accepted_values':
      return `((${c} in (${rule.values.map((v) => d.literal(v)).join(', ')})) is not false)`;
    case 'range': {
      const bounds = [
        rule.min === undefined ? null : `${c} >= ${d.literal(rule.min)}`,
        rule.max === undefined ? null : `${c} <= ${d.literal(rule.max)}`,
      ].filter(Boolean);
      return `((${bounds.join(' and ')}) is not false)`;
    }
  }
}

/** A rule in words, for run errors and explanations. */
export function describeRule(rule: ValidateRule): string {
  switch (rule.check) {
    case 'not_null':
      return `${rule.column} is not null`;
    case 'unique':
      return `${rule.column} is unique`;
    case 'accepted_values':
      return `${rule.column} in (${rule.values.join(', ')})`;
    case 'range':
      return `${rule.column} between ${rule.min ?? '-∞'} and ${rule.max ?? '∞'}`;
    case 'expression':
      return rule.name ?? rule.expression;
  }
}
