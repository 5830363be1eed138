import { asc, eq, sql } from 'drizzle-orm';
import { ZodError } from 'zod';
import { isDataOpsError, zodProblems } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { columns as catalogColumns } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import type { ServiceContext } from '../context.js';
import { clearanceAllows, visibleAssetsSql } from '../governance/access.js';
import { columnPiiKind } from '../governance/masking.js';
import { columnKind } from '../quality/profile-sql.js';
import type { CheckedExpression } from '../quality/rules-expression.js';
import {
  aggregateType,
  checkPipelineExpression,
  derivedMetadata,
  inferType,
  type PipelineColumn,
  unknownColumn,
} from './expressions.js';
import {
  analyzeGovernanceNode,
  checkDestinationDomains,
  checkRestrictDomains,
  nodeMarking,
} from './governance-nodes.js';
import {
  type CleanseOperation,
  destinationTypes,
  devTableName,
  maxIdentifierBytes,
  type NodeConfig,
  type NodeType,
  nodeConfigs,
  nodeInputs,
  type PipelineGraph,
  type PipelineNode,
  sourceTypes,
  suffixedIdentifier,
} from './graph.js';
import { type AnalyzedSourceQuery, analyzeSourceSql, type SourceQuery } from './source-sql.js';
import { type LoadedUpload, loadUploads } from './uploads/upload-access.js';
import { systemSchemaProblem } from './written-tables.js';

export interface PipelineIssue {
  /** The node the problem is at (a canvas points at it); null for the graph as a whole. */
  nodeId: string | null;
  message: string;
}

/** A node as validation understood it: parsed config, inputs in handle order, output columns, checked expressions. */
export interface AnalyzedNode {
  node: PipelineNode;
  type: NodeType;
  // biome-ignore lint/suspicious/noExplicitAny: one of the node types' configs, narrowed by `type` where it is used
  config: any;
  inputs: string[];
  columns: PipelineColumn[];
  expressions: Map<string, CheckedExpression>;
  /** For a catalog dataset: where it lives in the source database. */
  table?: { schema: string; name: string };
  /** For a join: how many of its output columns come from the left input (they come first). */
  leftWidth?: number;
  /** For a source query: the checked SELECT and the relations it reads. */
  query?: SourceQuery;
  /** For an uploaded file: its rows, sent along in the SQL. */
  upload?: LoadedUpload;
  /** The least marking its output carries: the datasets' it reads, raised by classify and restrict nodes. */
  marking?: Classification;
  /** For a validate node that quarantines: the table its failing rows are appended to (in prod). */
  quarantine?: { schema: string; table: string };
}

export interface PipelineAnalysis {
  issues: PipelineIssue[];
  /** Nodes whose output could be worked out (their upstream is sound), in dependency order. */
  nodes: Map<string, AnalyzedNode>;
  /** The one source database every dataset of the pipeline is in, once known. */
  sourceId: string | null;
  /** Issues of a graph still being built (nothing downstream yet): they stop a run, not a preview. */
  unfinished: Set<PipelineIssue>;
}

const describe = (node: PipelineNode) => `node \`${node.id}\` (${node.type})`;

/**
 * Checks a graph as a whole: a DAG whose edges join existing nodes on the right handles, at least one source
 * and one destination, every dataset visible to the caller and in one Postgres source database, each node's
 * config and expressions sound against the columns that reach it. Problems come back as issues naming the
 * node, never as a thrown error, so a canvas can mark every broken node at once.
 */
export async function analyzePipeline(ctx: ServiceContext, graph: PipelineGraph): Promise<PipelineAnalysis> {
  const issues: PipelineIssue[] = [];
  const byId = new Map<string, PipelineNode>();
  for (const node of graph.nodes) {
    if (byId.has(node.id)) issues.push({ nodeId: node.id, message: `two nodes have the id \`${node.id}\`` });
    byId.set(node.id, node);
  }
  const unfinished = new Set<PipelineIssue>();
  const order = structuralChecks(graph, byId, issues, unfinished);
  const analysis: PipelineAnalysis = { issues, nodes: new Map(), sourceId: null, unfinished };
  const sources = await loadDatasets(ctx, graph.nodes, issues);
  const queries = await loadQueries(ctx, graph.nodes, issues);
  const uploads = await loadUploads(
    ctx,
    graph.nodes
      .filter((n) => n.type === 'source_upload')
      .map((n) => String((n.data.config as { upload?: unknown }).upload)),
  );
  const sourceIds = new Set([...sources.values(), ...queries.values()].map((d) => d.sourceId));
  if (sourceIds.size > 1) {
    issues.push({
      nodeId: null,
      message:
        'the datasets of this pipeline are in different source databases; a pipeline runs inside one database, so read them all from one source',
    });
  }
  analysis.sourceId = sourceIds.size === 1 ? [...sourceIds][0]! : null;
  if (!graph.nodes.some((n) => n.type === 'source_dataset' || n.type === 'source_sql')) {
    // Uploaded rows are computed inside a source database like everything else; one must be read to know which.
    for (const node of graph.nodes.filter((n) => n.type === 'source_upload')) {
      issues.push({
        nodeId: node.id,
        message: `${describe(node)}: a pipeline runs inside a source database and this one reads none yet; add a source_dataset or source_sql node (the upload is joined or combined with it there)`,
      });
    }
  }
  for (const id of order) {
    const node = byId.get(id)!;
    const fail = (message: string) => issues.push({ nodeId: node.id, message: `${describe(node)}: ${message}` });
    let config: unknown;
    try {
      config = nodeConfigs[node.type].parse(node.data.config);
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      fail(`its config is not right: ${zodProblems(error, 'config')}`);
      continue;
    }
    const edges = graph.edges.filter((e) => e.target === id && byId.has(e.source));
    const handles = nodeInputs[node.type].handles;
    const inputs =
      handles[0] === null
        ? edges.map((e) => e.source)
        : handles.map((h) => edges.find((e) => e.targetHandle === h)?.source);
    if (inputs.some((i) => i === undefined) || inputs.length < handles.length) {
      fail(
        `it needs an input on ${handles.map((h) => (h === null ? 'its input' : `the ${h} handle`)).join(' and ')}; connect one`,
      );
      continue;
    }
    if (node.type === 'union' && inputs.length < 2) {
      fail('a union needs at least two inputs; connect another');
      continue;
    }
    // A node after a broken one is not judged: its problem is upstream, and the issue there says so.
    const upstream = (inputs as string[]).map((i) => analysis.nodes.get(i));
    if (upstream.some((u) => !u)) continue;
    const before = issues.length;
    const analyzed: AnalyzedNode = {
      node,
      type: node.type,
      config,
      inputs: inputs as string[],
      columns: [],
      expressions: new Map(),
    };
    if (node.type === 'source_dataset') {
      const dataset = sources.get(node.id);
      if (!dataset) continue;
      analyzed.columns = dataset.columns;
      analyzed.table = dataset.table;
    } else if (node.type === 'source_sql') {
      const query = queries.get(node.id);
      if (!query) continue;
      analyzed.columns = query.columns;
      analyzed.query = query.query;
    } else if (node.type === 'source_upload') {
      const upload = uploads.get((config as NodeConfig<'source_upload'>).upload);
      if (!upload) {
        // Worded the same whether the upload does not exist or is marked above the caller's clearance.
        fail(
          `no upload ${(config as NodeConfig<'source_upload'>).upload}: upload the file with pipelines_upload and use the id it returns`,
        );
        continue;
      }
      analyzed.upload = upload;
      analyzed.columns = upload.columns.map((c) => ({
        name: c.name,
        type: c.type,
        sensitivity: null,
        classification: upload.classification,
        tags: [],
      }));
    } else {
      await analyzeTransform(analyzed, upstream as AnalyzedNode[], fail);
    }
    analyzed.marking = nodeMarking(
      analyzed,
      upstream as AnalyzedNode[],
      sources.get(node.id)?.marking ?? queries.get(node.id)?.marking ?? analyzed.upload?.classification,
    );
    if (issues.length === before) analysis.nodes.set(id, analyzed);
  }
  checkDestinations(analysis, graph, issues);
  placeQuarantines(analysis, graph, issues);
  await checkRestrictDomains(ctx, analysis, issues);
  await checkDestinationDomains(ctx, analysis, issues);
  return analysis;
}

/** Edges, handles, cycles, sources and destinations; returns the nodes in dependency order (cycles left out). */
function structuralChecks(
  graph: PipelineGraph,
  byId: Map<string, PipelineNode>,
  issues: PipelineIssue[],
  unfinished: Set<PipelineIssue>,
): string[] {
  const taken = new Set<string>();
  const sound = graph.edges.filter((edge) => {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    const missing = !source ? edge.source : !target ? edge.target : null;
    if (missing) {
      issues.push({
        nodeId: source ? source.id : (target?.id ?? null),
        message: `edge \`${edge.id}\` joins node \`${missing}\`, which does not exist; remove the edge or add the node`,
      });
      return false;
    }
    const { handles, many } = nodeInputs[target!.type];
    if (handles.length === 0) {
      issues.push({
        nodeId: target!.id,
        message: `${describe(target!)}: a source takes no input; remove edge \`${edge.id}\``,
      });
      return false;
    }
    if (destinationTypes.has(source!.type)) {
      issues.push({
        nodeId: source!.id,
        message: `${describe(source!)}: a destination has no output; remove edge \`${edge.id}\``,
      });
      return false;
    }
    const handle = edge.targetHandle ?? null;
    if (!handles.includes(handle)) {
      const want = handles.map((h) => (h === null ? 'no handle' : `\`${h}\``)).join(' or ');
      issues.push({
        nodeId: target!.id,
        message: `${describe(target!)}: edge \`${edge.id}\` arrives on handle \`${handle}\`; this node takes ${want}`,
      });
      return false;
    }
    const slot = `${target!.id}\u0000${handle}`;
    if (taken.has(slot) && !many) {
      issues.push({
        nodeId: target!.id,
        message: `${describe(target!)}: more than one edge arrives on ${handle === null ? 'its input' : `the ${handle} handle`}; keep one (use a union node to combine inputs)`,
      });
      return false;
    }
    taken.add(slot);
    return true;
  });
  // Kahn's algorithm: what is left over sits on a cycle.
  const indegree = new Map([...byId.keys()].map((id) => [id, 0]));
  for (const e of sound) indegree.set(e.target, indegree.get(e.target)! + 1);
  const ready = [...byId.keys()].filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const e of sound.filter((s) => s.source === id)) {
      indegree.set(e.target, indegree.get(e.target)! - 1);
      if (indegree.get(e.target) === 0) ready.push(e.target);
    }
  }
  for (const id of byId.keys()) {
    if (!order.includes(id)) {
      issues.push({
        nodeId: id,
        message: `${describe(byId.get(id)!)} is on a cycle; a pipeline flows one way, so remove one of the cycle's edges`,
      });
    }
  }
  const nodes = [...byId.values()];
  if (!nodes.some((n) => sourceTypes.has(n.type))) {
    issues.push({ nodeId: null, message: 'the pipeline has no source; add a source_dataset node' });
  }
  if (!nodes.some((n) => destinationTypes.has(n.type))) {
    issues.push({ nodeId: null, message: 'the pipeline has no destination; add a destination_table node' });
  }
  for (const node of nodes) {
    if (!destinationTypes.has(node.type) && !sound.some((e) => e.source === node.id)) {
      const issue = { nodeId: node.id, message: `${describe(node)} leads nowhere; connect its output or remove it` };
      issues.push(issue);
      unfinished.add(issue);
    }
  }
  return order;
}

interface Dataset {
  sourceId: string;
  table: { schema: string; name: string };
  columns: PipelineColumn[];
  marking: Classification;
}

/** Whether a catalog column's marking is within the caller's clearance. */
const availableTo =
  (ctx: ServiceContext) =>
  (column: { classification: Classification | null }): boolean =>
    column.classification === null || clearanceAllows(ctx.principal.clearance, column.classification);

/**
 * Resolves dataset nodes to catalog assets the caller may see, with the columns it may see; an asset it may
 * not see reads as unknown, a column as one that does not exist.
 */
async function loadDatasets(ctx: ServiceContext, nodes: PipelineNode[], issues: PipelineIssue[]) {
  const found = new Map<string, Dataset>();
  for (const node of nodes.filter((n) => n.type === 'source_dataset')) {
    const urn = (node.data.config as { urn?: unknown }).urn;
    if (typeof urn !== 'string') continue;
    const [asset] = await queryRows<{
      id: string;
      source_id: string | null;
      kind: string;
      namespace: string;
      name: string;
      source_kind: string | null;
      classification: Classification;
    }>(
      ctx.db,
      sql`select a.id::text, a.source_id::text, a.kind, a.namespace, a.name, s.kind as source_kind,
            a.classification::text as classification
          from assets a left join sources s on s.id = a.source_id where a.urn = ${urn} and ${visibleAssetsSql(ctx.principal)}`,
    );
    const fail = (message: string) => issues.push({ nodeId: node.id, message: `${describe(node)}: ${message}` });
    if (!asset) {
      fail(`no asset ${urn}: search the catalog with catalog_search to find its URN`);
      continue;
    }
    if (!['table', 'view', 'materialized_view'].includes(asset.kind) || !asset.source_id) {
      fail(`${urn} is a ${asset.kind}, not a table or view of a database; a pipeline reads tables and views`);
      continue;
    }
    if (asset.source_kind !== 'postgres') {
      fail(`${urn} is in a ${asset.source_kind} source; pipelines run on Postgres sources for now`);
      continue;
    }
    const cols = await ctx.db
      .select()
      .from(catalogColumns)
      .where(eq(catalogColumns.assetId, asset.id))
      .orderBy(asc(catalogColumns.position));
    found.set(node.id, {
      sourceId: asset.source_id,
      table: { schema: asset.namespace, name: asset.name },
      marking: asset.classification,
      // A column marked above the caller's clearance is not there for its pipelines: not listed, not
      // referable, not read (a node's SQL names its columns), as everywhere else the asset is shown.
      columns: cols.filter(availableTo(ctx)).map((c) => ({
        name: c.name,
        type: c.dataType,
        sensitivity: c.sensitivity,
        classification: c.classification,
        tags: c.tags,
      })),
    });
  }
  return found;
}

/** Checks source_sql nodes against the catalog and their database; a problem becomes an issue on the node. */
async function loadQueries(ctx: ServiceContext, nodes: PipelineNode[], issues: PipelineIssue[]) {
  const found = new Map<string, AnalyzedSourceQuery>();
  for (const node of nodes.filter((n) => n.type === 'source_sql')) {
    const parsed = nodeConfigs.source_sql.safeParse(node.data.config);
    if (!parsed.success) continue;
    try {
      found.set(node.id, await analyzeSourceSql(ctx, parsed.data));
    } catch (error) {
      if (!isDataOpsError(error)) throw error;
      issues.push({ nodeId: node.id, message: `${describe(node)}: ${error.message}` });
    }
  }
  return found;
}

type Fail = (message: string) => void;

async function analyzeTransform(a: AnalyzedNode, upstream: AnalyzedNode[], fail: Fail): Promise<void> {
  const input = upstream[0]!.columns;
  const find = (column: string, from = input) => from.find((c) => c.name === column);
  const need = (column: string, from = input): PipelineColumn | undefined => {
    const found = find(column, from);
    if (!found)
      fail(
        unknownColumn(
          column,
          from.map((c) => c.name),
        ),
      );
    return found;
  };
  const expression = async (key: string, text: string, columns = input) => {
    try {
      const checked = await checkPipelineExpression(text, columns);
      a.expressions.set(key, checked);
      return checked;
    } catch (error) {
      if (!isDataOpsError(error)) throw error;
      fail(error.message);
      return undefined;
    }
  };
  switch (a.type) {
    case 'filter': {
      await expression('condition', (a.config as NodeConfig<'filter'>).condition);
      a.columns = input;
      return;
    }
    case 'select': {
      const config = a.config as NodeConfig<'select'>;
      a.columns = [];
      for (const { column, as } of config.columns) {
        const found = need(column);
        if (found) a.columns.push({ ...found, name: as ?? column });
      }
      duplicates(a.columns, fail, 'rename one with `as`');
      return;
    }
    case 'derive': {
      const config = a.config as NodeConfig<'derive'>;
      a.columns = [...input];
      for (const { name, expression: text } of config.columns) {
        const checked = await expression(`column:${name}`, text, a.columns);
        if (!checked) continue;
        const column: PipelineColumn = {
          name,
          type: inferType(checked, a.columns),
          ...derivedMetadata(a.columns.filter((c) => checked.columns.includes(c.name))),
        };
        const at = a.columns.findIndex((c) => c.name === name);
        if (at >= 0) a.columns[at] = column;
        else a.columns.push(column);
      }
      return;
    }
    case 'join': {
      const config = a.config as NodeConfig<'join'>;
      const [left, right] = [upstream[0]!.columns, upstream[1]!.columns];
      for (const key of config.on) {
        const l = find(key.left, left);
        const r = find(key.right, right);
        if (!l)
          fail(
            `left key ${unknownColumn(
              key.left,
              left.map((c) => c.name),
            )}`,
          );
        if (!r)
          fail(
            `right key ${unknownColumn(
              key.right,
              right.map((c) => c.name),
            )}`,
          );
      }
      const merged = new Set(config.on.filter((k) => k.left === k.right).map((k) => k.left));
      a.columns = [...left, ...right.filter((c) => !merged.has(c.name))];
      a.leftWidth = left.length;
      duplicates(a.columns, fail, 'rename it on one side with a select node before the join');
      return;
    }
    case 'union': {
      const first = upstream[0]!.columns;
      a.columns = first;
      for (const other of upstream.slice(1)) {
        const names = (cols: PipelineColumn[]) =>
          cols
            .map((c) => c.name)
            .sort()
            .join(', ');
        if (names(first) !== names(other.columns)) {
          fail(
            `input \`${other.node.id}\` has columns ${names(other.columns)} but \`${upstream[0]!.node.id}\` has ${names(first)}; a union needs the same columns (select or rename them first)`,
          );
        }
      }
      return;
    }
    case 'aggregate': {
      const config = a.config as NodeConfig<'aggregate'>;
      a.columns = [];
      for (const g of config.groupBy) {
        const found = need(g);
        if (found) a.columns.push(found);
      }
      for (const m of config.measures) {
        if (!m.column && m.fn !== 'count') {
          fail(`measure \`${m.name}\` (${m.fn}) needs a column`);
          continue;
        }
        const measured = m.column ? need(m.column) : undefined;
        if (m.column && !measured) continue;
        // A deny-list, not an allow-list: domains over numbers (`contracts.usd`) sum as their base type does.
        if (
          (m.fn === 'sum' || m.fn === 'avg') &&
          measured &&
          /^(text|character|char|varchar|boolean|date|time|uuid|json|bytea|interval)/.test(measured.type)
        ) {
          fail(`measure \`${m.name}\`: ${m.fn} needs numbers but \`${measured.name}\` is ${measured.type}`);
          continue;
        }
        const counted = m.fn === 'count' || m.fn === 'count_distinct';
        a.columns.push({
          name: m.name,
          type: aggregateType(m.fn, measured?.type),
          ...(counted || !measured
            ? { sensitivity: null, classification: null, tags: [] }
            : derivedMetadata([measured])),
        });
      }
      duplicates(a.columns, fail, 'give the measure another name');
      return;
    }
    case 'sort': {
      for (const key of (a.config as NodeConfig<'sort'>).by) need(key.column);
      a.columns = input;
      return;
    }
    case 'deduplicate': {
      const config = a.config as NodeConfig<'deduplicate'>;
      for (const c of [...config.columns, ...config.keep.map((k) => k.column)]) need(c);
      if (config.columns.length === 0 && config.keep.length > 0) {
        fail('`keep` picks one row per key, but no key is set; name the key columns in `columns`');
      }
      a.columns = input;
      return;
    }
    case 'validate': {
      const config = a.config as NodeConfig<'validate'>;
      for (const [i, rule] of config.rules.entries()) {
        if (rule.check === 'expression') await expression(`rule:${i}`, rule.expression);
        else need(rule.column);
        if (rule.check === 'range' && rule.min === undefined && rule.max === undefined) {
          fail(`rule ${i + 1} (range) needs a min or a max`);
        }
      }
      a.columns = input;
      return;
    }
    case 'mask': {
      const config = a.config as NodeConfig<'mask'>;
      const chosen = config.columns.length ? config.columns : input.filter(isPersonal).map((c) => c.name);
      for (const c of config.columns) need(c);
      a.columns = input.map((c) =>
        chosen.includes(c.name)
          ? { name: c.name, type: 'text', sensitivity: null, classification: c.classification, tags: ['masked'] }
          : c,
      );
      return;
    }
    case 'classify':
    case 'restrict':
      analyzeGovernanceNode(a, upstream, fail);
      return;
    case 'cleanse': {
      const config = a.config as NodeConfig<'cleanse'>;
      a.columns = [...input];
      for (const { column, operations } of config.columns) {
        const at = a.columns.findIndex((c) => c.name === column);
        if (at < 0) {
          need(column);
          continue;
        }
        let type = a.columns[at]!.type;
        for (const operation of operations) {
          const problem = cleanseProblem(operation, type);
          if (problem) {
            fail(`column \`${column}\`: ${problem}`);
            break;
          }
          type = cleansedType(operation, type);
        }
        a.columns[at] = { ...a.columns[at]!, type };
      }
      const repeated = config.columns.find((c, i) => config.columns.findIndex((d) => d.column === c.column) !== i);
      if (repeated) fail(`column \`${repeated.column}\` is listed twice; put all its operations in one entry`);
      return;
    }
    case 'enrich': {
      const config = a.config as NodeConfig<'enrich'>;
      const lookup = upstream[1]!.columns;
      for (const key of config.on) {
        if (!find(key.left))
          fail(
            `input key ${unknownColumn(
              key.left,
              input.map((c) => c.name),
            )}`,
          );
        if (!find(key.right, lookup))
          fail(
            `lookup key ${unknownColumn(
              key.right,
              lookup.map((c) => c.name),
            )}`,
          );
      }
      a.columns = [...input];
      for (const { column, as } of config.columns) {
        const found = need(column, lookup);
        if (found) a.columns.push({ ...found, name: as ?? column });
      }
      duplicates(a.columns, fail, 'name the looked-up column another way with `as`');
      return;
    }
    case 'pivot': {
      const config = a.config as NodeConfig<'pivot'>;
      a.columns = [];
      const keys = new Set<string>();
      for (const key of config.rowKeys) {
        // A key twice would be one output column twice; the pivoted column as a key leaves one value per row.
        if (keys.has(key)) fail(`row key \`${key}\` is listed twice; list each row key once`);
        else if (key === config.column)
          fail(
            `row key \`${key}\` is also the column whose values become columns; pivot another column or leave it out of rowKeys`,
          );
        keys.add(key);
        const found = need(key);
        if (found && !a.columns.some((c) => c.name === key)) a.columns.push(found);
      }
      const pivoted = need(config.column);
      const { fn, column } = config.measure;
      if (!column && fn !== 'count') fail(`the measure (${fn}) needs a column`);
      const measured = column ? need(column) : undefined;
      if (!pivoted || (column && !measured)) return;
      const kind = columnKind('postgres', pivoted.type);
      for (const value of config.values) {
        const problem = literalProblem(value, pivoted.type, kind);
        if (problem) fail(`value ${JSON.stringify(value)} cannot be a value of \`${pivoted.name}\`: ${problem}`);
      }
      if ((fn === 'sum' || fn === 'avg') && measured && nonNumeric.test(measured.type)) {
        fail(`the measure ${fn} needs numbers but \`${measured.name}\` is ${measured.type}`);
        return;
      }
      const counted = fn === 'count' || fn === 'count_distinct';
      const metadata =
        counted || !measured ? { sensitivity: null, classification: null, tags: [] } : derivedMetadata([measured]);
      for (const name of pivotColumnNames(config.values, new Set(config.rowKeys))) {
        a.columns.push({ name, type: aggregateType(fn, measured?.type), ...metadata });
      }
      return;
    }
    case 'profile': {
      for (const c of (a.config as NodeConfig<'profile'>).columns) need(c);
      a.columns = input;
      return;
    }
    case 'destination_file': {
      const problem = exportPathProblem(a.config as NodeConfig<'destination_file'>);
      if (problem) fail(problem);
      a.columns = input;
      return;
    }
    case 'destination_table': {
      const config = a.config as NodeConfig<'destination_table'>;
      if (config.mode === 'upsert' && config.key.length === 0)
        fail('an upsert needs a key; set config.key to the columns that identify a row');
      const system = systemSchemaProblem(config.schema, `its table ${config.schema}.${config.table}`);
      if (system) fail(system);
      for (const k of config.key) need(k);
      a.columns = input;
      return;
    }
  }
}

const textOps = new Set(['trim', 'lower', 'upper', 'empty_to_null', 'collapse_whitespace', 'replace']);
/** Types sum and avg refuse: a deny-list, so domains over numbers (`contracts.usd`) pass as their base type. */
const nonNumeric = /^(text|character|char|varchar|boolean|date|time|uuid|json|bytea|interval)/;

/** Why a cleanse operation cannot apply to a value of `type`, or null when it can. */
function cleanseProblem(operation: CleanseOperation, type: string): string | null {
  const kind = columnKind('postgres', type);
  if (textOps.has(operation.op) && kind !== 'text') {
    return `${operation.op} works on text but the column is ${type} here; cast it to text first ({op: 'cast', to: 'text'})`;
  }
  if (operation.op === 'fill_null') {
    const problem = literalProblem(operation.value, type, kind);
    return problem ? `fill_null ${JSON.stringify(operation.value)} does not fit: ${problem}` : null;
  }
  return null;
}

/** The type of a column after a cleanse operation (Postgres's text functions return text). */
function cleansedType(operation: CleanseOperation, type: string): string {
  if (operation.op === 'cast') return operation.to;
  if (operation.op === 'fill_null' || operation.op === 'empty_to_null') return type;
  return 'text';
}

const temporalText =
  /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)?)?$|^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Why a literal cannot be a value of a column of `type`, or null when it can. */
function literalProblem(
  value: string | number | boolean,
  type: string,
  kind: ReturnType<typeof columnKind>,
): string | null {
  switch (kind) {
    case 'number':
      if (typeof value !== 'number') return `the column is ${type}, so give a number`;
      if (/^(smallint|integer|bigint)/.test(type) && !Number.isInteger(value))
        return `the column is ${type}, so give a whole number`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : `the column is ${type}, so give true or false`;
    case 'temporal':
      if (typeof value === 'string' && temporalText.test(value)) return null;
      return `the column is ${type}, so write the value as text like 2024-01-31 or 2024-01-31 12:00:00`;
    default:
      return typeof value === 'string' ? null : `the column is ${type}, so give text`;
  }
}

/**
 * Output column names for pivoted values: the value in lower case with anything but letters, digits and _
 * turned into _, made unique against the row keys and each other (`east`, `east_2`).
 */
export function pivotColumnNames(values: (string | number | boolean)[], taken: Set<string>): string[] {
  const used = new Set(taken);
  return values.map((value) => {
    const stem =
      String(value)
        .toLowerCase()
        .replace(/[^a-z0-9_]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, 58) || 'value';
    let name = stem;
    for (let i = 2; used.has(name); i++) name = `${stem}_${i}`;
    used.add(name);
    return name;
  });
}

/** Why a file destination's path is unusable, or null: it stays inside the exports directory and says its format. */
export function exportPathProblem(config: NodeConfig<'destination_file'>): string | null {
  const { path, format } = config;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\')) {
    return `path ${path} must be relative to the exports directory, with / between folders (e.g. spend/monthly.${format})`;
  }
  if (path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    return `path ${path} must stay inside the exports directory: no empty, . or .. parts`;
  }
  if (!path.endsWith(`.${format}`)) return `path ${path} holds ${format}, so end it with .${format}`;
  return null;
}

/** A column the catalog (or its name) says holds personal data: what a mask node with no columns masks. */
export function isPersonal(column: PipelineColumn): boolean {
  return column.sensitivity === 'pii' || columnPiiKind(column) !== null;
}

function duplicates(columns: PipelineColumn[], fail: Fail, fix: string): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) fail(`column \`${c.name}\` appears twice in its output; ${fix}`);
    seen.add(c.name);
  }
}

function checkDestinations(analysis: PipelineAnalysis, graph: PipelineGraph, issues: PipelineIssue[]): void {
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

/** The columns each destination writes, for a version's output schema. */
export function outputSchema(analysis: PipelineAnalysis): Record<string, { name: string; type: string }[]> {
  const out: Record<string, { name: string; type: string }[]> = {};
  for (const [id, a] of analysis.nodes) {
    if (destinationTypes.has(a.type)) out[id] = a.columns.map((c) => ({ name: c.name, type: c.type }));
  }
  return out;
}

/**
 * Where each quarantining validate node keeps its failing rows: the table it names, else beside the first
 * destination table it feeds (`<table>_quarantine`), so the rows left out can be inspected and fixed.
 */
function placeQuarantines(analysis: PipelineAnalysis, graph: PipelineGraph, issues: PipelineIssue[]): void {
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
