import type { AnalyzedNode, PipelineAnalysis } from './analysis.js';
import type { PipelineColumn } from './expressions.js';
import type { PipelineGraph, PipelineNode } from './graph.js';
import { devTableName, maxIdentifierBytes, suffixedIdentifier } from './identifiers.js';
import { destinationTypes, type NodeConfig } from './nodes/index.js';
import type { PipelineIssue } from './nodes/node-module.js';
import { describeNode as describe } from './nodes/shared.js';
import { systemSchemaProblem } from './system-schemas.js';

/**
 * Whole-graph checks of what a pipeline writes: one node per output, and every table a run writes (destinations
 * and quarantine tables, in prod and in dev) one node's, so no run writes over another output.
 */

/** Two destinations may not write one table or file. */
export function checkDestinations(analysis: PipelineAnalysis, graph: PipelineGraph, issues: PipelineIssue[]): void {
  const targets = new Map<string, string>();
  for (const node of graph.nodes.filter((n) => destinationTypes.has(n.type))) {
    const config = analysis.nodes.get(node.id)?.config;
    if (!config) continue;
    const key =
      node.type === 'destination_file'
        ? `the file ${(config as NodeConfig<'destination_file'>).path}`
        : `${config.schema}.${config.table}`;
    const other = targets.get(key);
    if (other)
      issues.push({
        nodeId: node.id,
        message: `${describe(node)}: node \`${other}\` writes ${key} too; write each output from one node`,
      });
    targets.set(key, node.id);
  }
}

/**
 * Where each quarantining validate node keeps its failing rows: the table it names, else beside the first
 * destination table it feeds (`<table>_quarantine`), so the rows left out can be inspected and fixed.
 */
export function placeQuarantines(analysis: PipelineAnalysis, graph: PipelineGraph, issues: PipelineIssue[]): void {
  for (const a of analysis.nodes.values()) {
    if (a.type !== 'validate') continue;
    const config = a.config as NodeConfig<'validate'>;
    if (config.onFail !== 'quarantine') continue;
    const fail = (message: string) => issues.push({ nodeId: a.node.id, message: `${describe(a.node)}: ${message}` });
    let target = config.quarantineTable;
    if (!target) {
      const destination = firstDownstream(graph, a.node.id, (n) => n.type === 'destination_table');
      if (!destination) {
        fail('it quarantines rows but feeds no destination table to keep them beside; set config.quarantineTable');
        continue;
      }
      // A destination that is not sound has its own issue; its table is not known yet.
      const placed = analysis.nodes.get(destination.id)?.config as NodeConfig<'destination_table'> | undefined;
      if (!placed) continue;
      target = { schema: placed.schema, table: suffixedIdentifier(placed.table, '_quarantine') };
    }
    // A destination in a system schema has its own issue; a quarantine table named there needs one here.
    const system = config.quarantineTable && systemSchemaProblem(target.schema, 'its quarantine table');
    if (system) fail(system);
    a.quarantine = target;
  }
  checkTableNames(analysis, issues);
}

/** A table a run writes: a destination's or a quarantine's, in prod or (suffixed `_dev`) in dev. */
interface WrittenTable {
  node: AnalyzedNode;
  schema: string;
  table: string;
  what: string;
}

/**
 * Every table a run writes, in either environment, must be one node's: a dev name or a quarantine table that
 * is also another output's table would have a run write over that output (a dev run over a prod table).
 * Two quarantining nodes may share a table only when both name it and pass on the same columns.
 */
function checkTableNames(analysis: PipelineAnalysis, issues: PipelineIssue[]): void {
  // Prod destinations claim their names first, then quarantines, then dev names: the issue lands on the
  // derived name or the quarantine, the thing to rename, not on the output it would overwrite.
  const prod: WrittenTable[] = [];
  const quarantines: WrittenTable[] = [];
  const dev: WrittenTable[] = [];
  for (const a of analysis.nodes.values()) {
    const placed = a.type === 'destination_table' ? (a.config as NodeConfig<'destination_table'>) : a.quarantine;
    if (!placed) continue;
    const kind = a.type === 'destination_table' ? 'table' : 'quarantine table';
    (a.type === 'destination_table' ? prod : quarantines).push({
      node: a,
      schema: placed.schema,
      table: placed.table,
      what: `its ${kind}`,
    });
    dev.push({ node: a, schema: placed.schema, table: devTableName(placed.table), what: `its dev ${kind}` });
  }
  const tables = [...prod, ...quarantines, ...dev];
  const owners = new Map<string, WrittenTable>();
  // One issue per pair of nodes: a clash in prod is one in dev too, and renaming either table fixes both.
  const reported = new Set<string>();
  for (const written of tables) {
    const key = JSON.stringify([written.schema, written.table]);
    const owner = owners.get(key);
    if (!owner) {
      owners.set(key, written);
      continue;
    }
    const pair = JSON.stringify([owner.node.node.id, written.node.node.id].sort());
    if (reported.has(pair)) continue;
    reported.add(pair);
    if (owner.node === written.node) {
      issues.push({
        nodeId: written.node.node.id,
        message: `${describe(written.node.node)}: ${written.what} ${written.schema}.${written.table} has the same name as its prod one (the name is cut to ${maxIdentifierBytes} bytes before \`_dev\` is added); shorten the table name`,
      });
      continue;
    }
    const [a, b] = [owner.node, written.node];
    // Two destinations writing one prod table already have checkDestinations' issue.
    if (a.type === 'destination_table' && b.type === 'destination_table' && sameTable(a.config, b.config)) continue;
    if (a.type === 'validate' && b.type === 'validate') {
      const named = [a, b].every((n) => (n.config as NodeConfig<'validate'>).quarantineTable);
      if (named && sameTable(a.quarantine!, b.quarantine!) && sameColumns(a.columns, b.columns)) continue;
      issues.push({
        nodeId: b.node.id,
        message: `${describe(b.node)}: ${written.what} ${written.schema}.${written.table} is also the quarantine table of node \`${a.node.id}\`; give each quarantining node its own config.quarantineTable (two may share one only when both name it and pass on the same columns)`,
      });
      continue;
    }
    issues.push({
      nodeId: b.node.id,
      message: `${describe(b.node)}: ${written.what} ${written.schema}.${written.table} is also ${owner.what.replace(/^its /, 'the ')} of node \`${a.node.id}\`, so a run would write over it; name one of them another way`,
    });
  }
}

const sameTable = (a: { schema: string; table: string }, b: { schema: string; table: string }) =>
  a.schema === b.schema && a.table === b.table;

const sameColumns = (a: PipelineColumn[], b: PipelineColumn[]) =>
  a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type);

/** The nearest node downstream of `from` (breadth first, in edge order) that `wanted` accepts. */
function firstDownstream(
  graph: PipelineGraph,
  from: string,
  wanted: (node: PipelineNode) => boolean,
): PipelineNode | undefined {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const id = queue.shift()!;
    for (const edge of graph.edges.filter((e) => e.source === id && !seen.has(e.target))) {
      seen.add(edge.target);
      const node = graph.nodes.find((n) => n.id === edge.target);
      if (!node) continue;
      if (wanted(node)) return node;
      queue.push(node.id);
    }
  }
  return undefined;
}
