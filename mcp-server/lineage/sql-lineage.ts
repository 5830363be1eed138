import { DataOpsError } from '../../core/errors.js';
import { type PgNode, parseSql, scanSql } from '../sql/parse.js';
import type { indirectSubtypes } from './store.js';

/**
 * Column lineage of one SELECT, read from the Postgres parse tree: for every output column the base
 * columns it is computed from (IDENTITY, TRANSFORMATION or AGGREGATION), and the base columns that
 * shape the result as a whole (join keys, filters, grouping, sorting, window partitions, CASE conditions).
 * Follows CTEs, joins, subqueries (also correlated and scalar), set operations, window functions and `*`.
 */

export interface RelationName {
  schema: string | null;
  name: string;
}

/** What the caller knows about a relation the query reads: its identity and its columns. */
export interface ResolvedRelation {
  /** The caller's identifier for the relation, e.g. an asset id; sources name it. */
  id: string;
  columns: string[];
}

export type RelationResolver = (relation: RelationName) => ResolvedRelation | undefined;

export type DirectSubtype = 'IDENTITY' | 'TRANSFORMATION' | 'AGGREGATION';
export type IndirectSubtype = (typeof indirectSubtypes)[number];

export interface SourceColumn {
  relation: string;
  column: string;
}

export interface OutputColumn {
  name: string;
  sources: (SourceColumn & { subtype: DirectSubtype })[];
  /** The expression as written, when it is more than a plain column. */
  sql: string | null;
}

export interface QueryLineage {
  columns: OutputColumn[];
  indirect: (SourceColumn & { subtype: IndirectSubtype })[];
  /** Relations read, resolved by the caller. */
  relations: string[];
  /** Relations the caller did not know, as written in the query. */
  unresolved: string[];
}

/** Strength order for composing subtypes: an aggregate of a transformation is an aggregation. */
const strength: Record<DirectSubtype, number> = { IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2 };

/** Aggregates by name; any call with DISTINCT, ORDER BY, FILTER or WITHIN GROUP is one too. */
const aggregateFunctions = new Set([
  'array_agg',
  'avg',
  'bit_and',
  'bit_or',
  'bit_xor',
  'bool_and',
  'bool_or',
  'corr',
  'count',
  'covar_pop',
  'covar_samp',
  'every',
  'group_concat',
  'json_agg',
  'json_object_agg',
  'jsonb_agg',
  'jsonb_object_agg',
  'max',
  'min',
  'mode',
  'percentile_cont',
  'percentile_disc',
  'range_agg',
  'range_intersect_agg',
  'regr_avgx',
  'regr_avgy',
  'regr_count',
  'regr_intercept',
  'regr_r2',
  'regr_slope',
  'regr_sxx',
  'regr_sxy',
  'regr_syy',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'string_agg',
  'sum',
  'var_pop',
  'var_samp',
  'variance',
  'xmlagg',
]);

type Lineage = Map<string, SourceColumn & { subtype: DirectSubtype }>;
type Indirect = Map<string, SourceColumn & { subtype: IndirectSubtype }>;

interface ScopeColumn {
  name: string;
  lineage: Lineage;
}

interface ScopeItem {
  alias: string;
  /** Schema-qualified name of a base relation, for `schema.table.column` references. */
  qualified: string | null;
  columns: ScopeColumn[];
  /** A relation the caller did not know: any column referenced through it is accepted without lineage. */
  open: boolean;
  /** Columns a bare `*` leaves out: those a USING join merged into one. */
  hiddenFromStar?: Set<string>;
}

interface Scope {
  items: ScopeItem[];
  parent: Scope | null;
}

interface Env {
  ctes: Map<string, Analysed>;
  resolve: RelationResolver;
  relations: Set<string>;
  unresolved: Set<string>;
  text: Buffer;
  tokens: ReturnType<typeof scanSql>;
}

interface Analysed {
  columns: { name: string; lineage: Lineage; sql: string | null }[];
  indirect: Indirect;
}

/** Analyses a single SELECT (a view's or a model's definition). */
export async function analyzeQuery(sqlText: string, resolve: RelationResolver): Promise<QueryLineage> {
  const statements = await parseSql(sqlText);
  if (statements.length !== 1) {
    throw new DataOpsError('invalid_input', `expected one SELECT statement, got ${statements.length} statements`);
  }
  const statement = statements[0]!;
  const select =
    statement.SelectStmt ?? statement.CreateTableAsStmt?.query?.SelectStmt ?? statement.ViewStmt?.query?.SelectStmt;
  if (!select) {
    throw new DataOpsError('invalid_input', `expected a SELECT statement, got ${Object.keys(statement)[0]}`);
  }
  const env: Env = {
    ctes: new Map(),
    resolve,
    relations: new Set(),
    unresolved: new Set(),
    text: Buffer.from(sqlText),
    tokens: scanSql(sqlText),
  };
  const result = analyzeSelect(select, env, null);
  return {
    columns: result.columns.map((c) => ({ name: c.name, sources: [...c.lineage.values()], sql: c.sql })),
    indirect: [...result.indirect.values()],
    relations: [...env.relations],
    unresolved: [...env.unresolved],
  };
}

function analyzeSelect(select: PgNode, env: Env, parent: Scope | null): Analysed {
  const outerCtes = env.ctes;
  if (select.withClause) {
    env.ctes = new Map(outerCtes);
    for (const entry of select.withClause.ctes ?? []) {
      const cte = entry.CommonTableExpr;
      const query = cte.ctequery.SelectStmt;
      if (!query) continue;
      // A recursive CTE reads itself: its non-recursive arm defines the columns the recursive arm sees.
      if (select.withClause.recursive && query.op && query.op !== 'SETOP_NONE') {
        env.ctes.set(cte.ctename, renameColumns(analyzeSelect(query.larg, env, parent), cte.aliascolnames));
      }
      env.ctes.set(cte.ctename, renameColumns(analyzeSelect(query, env, parent), cte.aliascolnames));
    }
  }
  try {
    return analyzeBody(select, env, parent);
  } finally {
    env.ctes = outerCtes;
  }
}

function analyzeBody(select: PgNode, env: Env, parent: Scope | null): Analysed {
  if (select.op && select.op !== 'SETOP_NONE') {
    const left = analyzeSelect(select.larg, env, parent);
    const right = analyzeSelect(select.rarg, env, parent);
    const indirect = new Map([...left.indirect, ...right.indirect]);
    const scope: Scope = { items: [{ alias: '', qualified: null, columns: left.columns, open: false }], parent };
    addIndirect(indirect, sortSources(select.sortClause, scope, env), 'SORT');
    return {
      columns: left.columns.map((column, i) => ({
        name: column.name,
        lineage: merge(column.lineage, right.columns[i]?.lineage),
        sql: null,
      })),
      indirect,
    };
  }
  if (select.valuesLists) {
    const rows = select.valuesLists.map((row: PgNode) => row.List.items as PgNode[]);
    const scope: Scope = { items: [], parent };
    const indirect: Indirect = new Map();
    return {
      columns: (rows[0] ?? []).map((_: PgNode, i: number) => {
        const lineage: Lineage = new Map();
        for (const row of rows) {
          const found = expressionLineage(row[i], scope, env, indirect);
          for (const [key, source] of found) lineage.set(key, source);
        }
        return { name: `column${i + 1}`, lineage, sql: null };
      }),
      indirect,
    };
  }

  const scope: Scope = { items: [], parent };
  const indirect: Indirect = new Map();
  for (const item of select.fromClause ?? []) scope.items.push(...fromItem(item, env, scope, indirect));

  const columns: Analysed['columns'] = [];
  for (const entry of select.targetList ?? []) {
    const target = entry.ResTarget;
    const star = starOf(target.val);
    if (star) {
      for (const item of star.alias ? [findItem(scope, star.alias, star.schema)] : scope.items) {
        for (const column of item.columns) {
          if (!star.alias && item.hiddenFromStar?.has(column.name)) continue;
          columns.push({ name: column.name, lineage: column.lineage, sql: null });
        }
      }
      continue;
    }
    const lineage = expressionLineage(target.val, scope, env, indirect);
    columns.push({
      name: target.name ?? defaultName(target.val),
      lineage,
      sql: isPlainColumn(target.val) ? null : expressionText(env, target),
    });
  }

  const outputs: Scope = {
    items: [{ alias: '', qualified: null, columns, open: false }],
    parent: scope,
  };
  addIndirect(indirect, expressionSources(select.whereClause, scope, env, indirect), 'FILTER');
  addIndirect(indirect, expressionSources(select.havingClause, scope, env, indirect), 'FILTER');
  for (const group of select.groupClause ?? []) {
    // GROUP BY prefers input columns, ORDER BY output columns, as Postgres resolves them.
    const input = expressionSources(group, scope, env, indirect);
    addIndirect(indirect, input.size > 0 ? input : (outputReference(group, columns) ?? input), 'GROUP_BY');
  }
  for (const sort of select.sortClause ?? []) {
    const node = sort.SortBy.node;
    addIndirect(indirect, outputReference(node, columns) ?? expressionSources(node, outputs, env, indirect), 'SORT');
  }
  for (const distinct of select.distinctClause ?? []) {
    if (Object.keys(distinct).length === 0) continue;
    addIndirect(
      indirect,
      outputReference(distinct, columns) ?? expressionSources(distinct, scope, env, indirect),
      'GROUP_BY',
    );
  }
  for (const window of select.windowClause ?? []) {
    windowLineage(window.WindowDef, scope, env, indirect);
  }
  return { columns, indirect };
}

/** The scope items a FROM entry brings in; join conditions go to `indirect`. */
function fromItem(node: PgNode, env: Env, scope: Scope, indirect: Indirect): ScopeItem[] {
  if (node.RangeVar) return [rangeVar(node.RangeVar, env, indirect)];
  if (node.RangeSubselect) {
    const sub = node.RangeSubselect;
    // LATERAL subqueries see the items before them; plain ones only the enclosing query's scope.
    const analysed = analyzeSelect(sub.subquery.SelectStmt, env, sub.lateral ? scope : scope.parent);
    for (const [key, source] of analysed.indirect) indirect.set(key, source);
    const renamed = renameColumns(analysed, sub.alias?.colnames);
    return [{ alias: sub.alias?.aliasname ?? '', qualified: null, columns: renamed.columns, open: false }];
  }
  if (node.JoinExpr) {
    const join = node.JoinExpr;
    const left = fromItem(join.larg, env, scope, indirect);
    const right = fromItem(join.rarg, env, scope, indirect);
    const joined: Scope = { items: [...left, ...right], parent: scope.parent };
    addIndirect(indirect, expressionSources(join.quals, joined, env, indirect), 'JOIN');
    // USING merges the join columns into one output column, read unqualified, fed by both sides.
    const merged: ScopeColumn[] = [];
    for (const using of join.usingClause ?? []) {
      const name = using.String.sval;
      let lineage: Lineage = new Map();
      for (const item of [...left, ...right]) {
        const column = item.columns.find((c) => c.name === name);
        if (!column) continue;
        addIndirect(indirect, column.lineage, 'JOIN');
        lineage = merge(lineage, column.lineage);
      }
      merged.push({ name, lineage });
    }
    if (merged.length > 0) {
      const names = new Set(merged.map((c) => c.name));
      const sides = [...left, ...right].map((item) => ({
        ...item,
        hiddenFromStar: new Set([...(item.hiddenFromStar ?? []), ...names]),
      }));
      if (!join.alias) return [{ alias: '', qualified: null, columns: merged, open: false }, ...sides];
      const columns = [...merged, ...sides.flatMap((item) => item.columns.filter((c) => !names.has(c.name)))];
      return [
        { alias: join.alias.aliasname, qualified: null, columns: rename(columns, join.alias.colnames), open: false },
      ];
    }
    if (!join.alias) return [...left, ...right];
    const columns = [...left, ...right].flatMap((item) => item.columns);
    return [
      { alias: join.alias.aliasname, qualified: null, columns: rename(columns, join.alias.colnames), open: false },
    ];
  }
  if (node.RangeFunction) {
    // A set-returning function (unnest, generate_series, ...): its columns are computed from its arguments.
    const lineage: Lineage = new Map();
    for (const fn of node.RangeFunction.functions ?? []) {
      for (const part of fn.List?.items ?? []) {
        for (const [key, source] of expressionLineage(part, scope, env, indirect)) {
          lineage.set(key, { ...source, subtype: stronger(source.subtype, 'TRANSFORMATION') });
        }
      }
    }
    const alias = node.RangeFunction.alias;
    const names: string[] = (alias?.colnames ?? []).map((c: PgNode) => c.String.sval);
    const columns = (names.length > 0 ? names : [alias?.aliasname ?? 'value']).map((name) => ({ name, lineage }));
    return [{ alias: alias?.aliasname ?? '', qualified: null, columns, open: false }];
  }
  return [];
}

function rangeVar(node: PgNode, env: Env, indirect: Indirect): ScopeItem {
  const schema: string | null = node.schemaname ?? null;
  const name: string = node.relname;
  const alias: string = node.alias?.aliasname ?? name;
  const cte = schema === null ? env.ctes.get(name) : undefined;
  if (cte) {
    // What shaped the CTE's rows (its joins and filters) shapes the rows of every query that reads it.
    for (const [key, source] of cte.indirect) indirect.set(key, source);
    return { alias, qualified: null, columns: rename(cte.columns, node.alias?.colnames), open: false };
  }
  const resolved = env.resolve({ schema, name });
  const written = schema ? `${schema}.${name}` : name;
  if (!resolved) {
    env.unresolved.add(written);
    return { alias, qualified: written, columns: [], open: true };
  }
  env.relations.add(resolved.id);
  const columns = resolved.columns.map((column) => ({
    name: column,
    lineage: new Map([
      [`${resolved.id}\u0000${column}`, { relation: resolved.id, column, subtype: 'IDENTITY' as DirectSubtype }],
    ]),
  }));
  return { alias, qualified: written, columns: rename(columns, node.alias?.colnames), open: false };
}

/**
 * The base columns an expression computes its value from. A plain column (or a cast of one) keeps its
 * lineage; anything else transforms it; inside an aggregate it is aggregated. Columns that only decide
 * which value is taken (CASE conditions, window partitions, aggregate filters) go to `indirect`.
 */
function expressionLineage(
  node: PgNode | undefined,
  scope: Scope,
  env: Env,
  indirect: Indirect,
  within: DirectSubtype = 'IDENTITY',
): Lineage {
  const found: Lineage = new Map();
  const add = (lineage: Lineage, subtype: DirectSubtype) => {
    for (const [key, source] of lineage) {
      const composed = stronger(source.subtype, subtype);
      const existing = found.get(key);
      found.set(key, { ...source, subtype: existing ? stronger(existing.subtype, composed) : composed });
    }
  };
  if (!node || typeof node !== 'object') return found;
  if (Array.isArray(node)) {
    for (const part of node) add(expressionLineage(part, scope, env, indirect, within), 'IDENTITY');
    return found;
  }
  const [type] = Object.keys(node);
  const body = node[type!];
  const transformed = stronger(within, 'TRANSFORMATION');
  switch (type) {
    case 'ColumnRef':
      add(columnLineage(body.fields, scope), within);
      return found;
    case 'TypeCast':
      // pg_get_viewdef casts freely (varchar to text); a cast keeps the value.
      add(expressionLineage(body.arg, scope, env, indirect, within), 'IDENTITY');
      return found;
    case 'FuncCall': {
      const name = body.funcname.at(-1).String.sval as string;
      const aggregate =
        Boolean(body.over) ||
        aggregateFunctions.has(name) ||
        body.agg_distinct ||
        body.agg_order ||
        body.agg_filter ||
        body.agg_within_group ||
        body.agg_star;
      const inner: DirectSubtype = aggregate ? 'AGGREGATION' : transformed;
      for (const arg of body.args ?? []) add(expressionLineage(arg, scope, env, indirect, inner), 'IDENTITY');
      for (const sort of body.agg_order ?? [])
        addIndirect(indirect, expressionSources(sort.SortBy.node, scope, env, indirect), 'SORT');
      addIndirect(indirect, expressionSources(body.agg_filter, scope, env, indirect), 'FILTER');
      if (body.over) windowLineage(body.over, scope, env, indirect);
      return found;
    }
    case 'CaseExpr':
      addIndirect(indirect, expressionSources(body.arg, scope, env, indirect), 'CONDITIONAL');
      for (const when of body.args ?? []) {
        addIndirect(indirect, expressionSources(when.CaseWhen.expr, scope, env, indirect), 'CONDITIONAL');
        add(expressionLineage(when.CaseWhen.result, scope, env, indirect, transformed), 'IDENTITY');
      }
      add(expressionLineage(body.defresult, scope, env, indirect, transformed), 'IDENTITY');
      return found;
    case 'SubLink': {
      const analysed = analyzeSelect(body.subselect.SelectStmt, env, scope);
      for (const [key, source] of analysed.indirect) indirect.set(key, source);
      const sources = analysed.columns[0]?.lineage ?? new Map();
      if (body.subLinkType === 'EXPR_SUBLINK' || body.subLinkType === 'ARRAY_SUBLINK') add(sources, transformed);
      else {
        // EXISTS, IN, ANY, ALL: a test, not a value.
        addIndirect(indirect, sources, 'FILTER');
        add(expressionLineage(body.testexpr, scope, env, indirect, transformed), 'IDENTITY');
      }
      return found;
    }
    default:
      for (const value of Object.values(body ?? {})) {
        if (value && typeof value === 'object') {
          add(expressionLineage(value as PgNode, scope, env, indirect, transformed), 'IDENTITY');
        }
      }
      return found;
  }
}

/** Every base column an expression reads, whatever its role (for filters, join keys, grouping). */
function expressionSources(node: PgNode | undefined, scope: Scope, env: Env, indirect: Indirect): Lineage {
  return expressionLineage(node, scope, env, indirect);
}

function windowLineage(window: PgNode, scope: Scope, env: Env, indirect: Indirect): void {
  for (const part of window.partitionClause ?? []) {
    addIndirect(indirect, expressionSources(part, scope, env, indirect), 'WINDOW');
  }
  for (const sort of window.orderClause ?? []) {
    addIndirect(indirect, expressionSources(sort.SortBy.node, scope, env, indirect), 'WINDOW');
  }
}

/** `ORDER BY 2` or `GROUP BY alias`: a reference to an output column rather than an input one. */
function outputReference(node: PgNode, columns: Analysed['columns']): Lineage | undefined {
  const position = node.A_Const?.ival;
  if (position !== undefined) return columns[(position.ival ?? 0) - 1]?.lineage;
  const fields = node.ColumnRef?.fields;
  if (fields?.length === 1 && fields[0].String) {
    const output = columns.find((c) => c.name === fields[0].String.sval);
    return output?.lineage;
  }
  return undefined;
}

function sortSources(sorts: PgNode[] | undefined, scope: Scope, env: Env): Lineage {
  const found: Lineage = new Map();
  for (const sort of sorts ?? []) {
    for (const [key, source] of expressionSources(sort.SortBy.node, scope, env, new Map())) found.set(key, source);
  }
  return found;
}

/** Resolves a column reference through the scope and its parents (correlated subqueries). */
function columnLineage(fields: PgNode[], scope: Scope): Lineage {
  const names = fields.map((f) => f.String?.sval as string | undefined);
  if (names.some((n) => n === undefined)) return new Map();
  const column = names.at(-1)!;
  const qualifier = names.slice(0, -1).join('.');
  for (let current: Scope | null = scope; current; current = current.parent) {
    const candidates = qualifier
      ? current.items.filter((item) => item.alias === qualifier || item.qualified === qualifier)
      : current.items;
    for (const item of candidates) {
      const found = item.columns.find((c) => c.name === column);
      if (found) return found.lineage;
    }
    if (qualifier && candidates.some((item) => item.open)) return new Map();
  }
  return new Map();
}

function findItem(scope: Scope, alias: string, schema: string | null): ScopeItem {
  const qualified = schema ? `${schema}.${alias}` : alias;
  for (let current: Scope | null = scope; current; current = current.parent) {
    const item = current.items.find((i) => i.alias === alias || i.qualified === qualified);
    if (item) return item;
  }
  throw new DataOpsError('invalid_input', `the query selects ${qualified}.* but reads no relation called ${alias}`);
}

function starOf(node: PgNode): { alias: string | null; schema: string | null } | undefined {
  const fields = node?.ColumnRef?.fields as PgNode[] | undefined;
  if (!fields?.at(-1)?.A_Star) return undefined;
  const names = fields.slice(0, -1).map((f) => f.String.sval as string);
  return { alias: names.at(-1) ?? null, schema: names.length > 1 ? names.at(-2)! : null };
}

function isPlainColumn(node: PgNode): boolean {
  if (node?.ColumnRef) return true;
  return node?.TypeCast ? isPlainColumn(node.TypeCast.arg) : false;
}

/** The name Postgres gives an unnamed output column. */
function defaultName(node: PgNode): string {
  if (node?.ColumnRef) return node.ColumnRef.fields.at(-1).String?.sval ?? '?column?';
  if (node?.TypeCast) {
    const inner = defaultName(node.TypeCast.arg);
    return inner === '?column?' ? node.TypeCast.typeName.names.at(-1).String.sval : inner;
  }
  if (node?.FuncCall) return node.FuncCall.funcname.at(-1).String.sval;
  if (node?.CaseExpr) return 'case';
  return '?column?';
}

/** Ends of a select-list entry: a comma or a clause keyword at the entry's own nesting level. */
const clauseKeywords = new Set([
  'from',
  'into',
  'where',
  'group',
  'having',
  'window',
  'order',
  'limit',
  'offset',
  'union',
  'intersect',
  'except',
  'fetch',
  'for',
]);

/** The text of a select-list entry's expression, without its alias. */
function expressionText(env: Env, target: PgNode): string | null {
  const start: number | undefined = target.location;
  if (start === undefined || start < 0) return null;
  let depth = 0;
  let end = start;
  const tokens = env.tokens.filter((t) => t.start >= start);
  let last = -1;
  for (const [i, token] of tokens.entries()) {
    if (token.text === '(' || token.text === '[') depth++;
    else if (token.text === ')' || token.text === ']') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && (token.text === ',' || (token.keyword && clauseKeywords.has(token.text.toLowerCase())))) {
      break;
    }
    last = i;
  }
  if (last < 0) return null;
  // Drop the alias: `expr AS name` or `expr name`.
  if (target.name) {
    if (tokens[last - 1]?.text.toLowerCase() === 'as') last -= 2;
    else if (last > 0 && tokens[last]!.text.replaceAll('"', '') === target.name) last -= 1;
  }
  end = tokens[last]!.end;
  return env.text.subarray(start, end).toString('utf8').replace(/\s+/g, ' ').trim();
}

function renameColumns(analysed: Analysed, aliases: PgNode[] | undefined): Analysed {
  return { ...analysed, columns: rename(analysed.columns, aliases) };
}

function rename<T extends { name: string }>(columns: T[], aliases: PgNode[] | undefined): T[] {
  if (!aliases?.length) return columns;
  return columns.map((column, i) => (aliases[i] ? { ...column, name: aliases[i].String.sval } : column));
}

function merge(a: Lineage, b: Lineage | undefined): Lineage {
  const merged = new Map(a);
  for (const [key, source] of b ?? []) {
    const existing = merged.get(key);
    merged.set(key, existing ? { ...source, subtype: stronger(existing.subtype, source.subtype) } : source);
  }
  return merged;
}

function addIndirect(indirect: Indirect, lineage: Lineage, subtype: IndirectSubtype): void {
  for (const source of lineage.values()) {
    indirect.set(`${source.relation}\u0000${source.column}\u0000${subtype}`, {
      relation: source.relation,
      column: source.column,
      subtype,
    });
  }
}

function stronger(a: DirectSubtype, b: DirectSubtype): DirectSubtype {
  return strength[a] >= strength[b] ? a : b;
}
