import { DataOpsError } from '../../core/errors.js';
import { renderExpression } from '../quality/rules-expression.js';
import type { AnalyzedNode, PipelineAnalysis } from './analysis.js';
import { type CompileOptions, columnList, postgresDialect, type SqlDialect } from './dialect.js';
import { nodeModule } from './nodes/index.js';
import { describeRule, flaggedRows, ruleFlag, type ValidateRule } from './nodes/validate-rules.js';

/**
 * A pipeline written out as SQL: one CTE per node, each node's select written by its type's module (in
 * `nodes/`) through the dialect seam (`dialect.ts`).
 */

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
  const columns = columnList(target.columns, dialect);
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
  const rules = node.config.rules as ValidateRule[];
  const flags = flaggedRows(node, dialect);
  const counts = rules
    .map((_, i) => `count(*) filter (where not ${ruleFlag(i, dialect)}) as ${dialect.quote(String(i))}`)
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
  const rules = node.config.rules as ValidateRule[];
  const flag = (i: number) => ruleFlag(i, dialect);
  const broken = rules.map((rule, i) => `case when not ${flag(i)} then ${dialect.literal(describeRule(rule))} end`);
  const passes = rules.map((_, i) => flag(i)).join(' and ');
  return compileNode(
    analysis,
    node.inputs[0]!,
    options,
    () =>
      `select ${columnList(node.columns, dialect)}, array_remove(array[${broken.join(', ')}]::text[], null) as ${dialect.quote(quarantineColumns.failedRules)} from (${flaggedRows(node, dialect)}) as v where not (${passes})`,
  );
}

/** The select of one node over its inputs (named by `options.reference`), without the CTEs before it. */
export function nodeSelect(analysis: PipelineAnalysis, nodeId: string, options: CompileOptions): string {
  return nodeSql(analysis.nodes.get(nodeId)!, options.dialect ?? postgresDialect, options);
}

function nodeSql(node: AnalyzedNode, d: SqlDialect, options: CompileOptions): string {
  const ref = options.reference ?? d.quote;
  return nodeModule(node.type).compile(node, {
    d,
    ref,
    input: node.inputs[0] ? ref(node.inputs[0]) : '',
    all: columnList(node.columns, d),
    expr: (key) => renderExpression(node.expressions.get(key)!, 'postgres', (v) => d.literal(v as string | number)),
    options,
  });
}
