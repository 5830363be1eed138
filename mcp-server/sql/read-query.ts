import { DataOpsError } from '../../core/errors.js';
import { allowedTypes } from './allowed-functions.js';
import { type PgNode, parseSql, scanSql } from './parse.js';

/**
 * User-written SELECTs (a pipeline's source query, a dbt test kept as a quality rule) read by the real Postgres
 * parser: one SELECT that only reads, and what it reads (relations, functions, operators, columns), so the
 * gate (source-query-gate.ts) can hold it to what the caller may see in the catalog.
 */

export interface ReadQueryOptions {
  /**
   * Accept `database.schema.table` (dbt compiles references so); the database part is dropped when the query
   * is written out, as a connection reaches only its own database (Postgres refuses any other).
   */
  allowDatabaseName?: boolean;
}

/** A relation the query reads, with where its name is written (byte offsets, as the parser counts). */
export interface ReadRelation {
  schema: string;
  name: string;
  start: number;
  end: number;
  /** The name the query calls it by (its alias, else its own name), for whole-row references like `t` or `t.*`. */
  calledAs: string;
  /** Whether an alias renames its columns (`from t as x(a, b)`), which reaches every column by position. */
  renamesColumns: boolean;
  /** Whether the query gives it an alias (`from t as x`, `from t x`). */
  aliased: boolean;
  /** Whether it is read with ONLY (without inheritance children or partitions), and where that keyword starts. */
  only: boolean;
  /** Whether it is read by a `TABLE t` statement. */
  tableStatement: boolean;
  /** Where the ONLY or TABLE keyword written before the name starts. */
  keywordStart?: number;
  /**
   * Set by the gate (source-query-gate.ts): the columns the caller may see, in table order. The query is then
   * run with the relation written as a projection of only these (`(select "a", "b" from "s"."t") as t`), so
   * nothing hidden is in scope for a whole row, a join alias or `t.f` function notation.
   */
  visible?: string[];
  /** Set by the gate: read the table without its inheritance children (some are not available to the caller). */
  withoutChildren?: boolean;
}

/** How a query names columns, so a column above the caller's clearance cannot be read by any route. */
export interface ColumnReferences {
  /** Each column reference's parts as written: `t.name` is ['t', 'name'], `t.*` is ['t', '*'], `*` is ['*']. */
  columns: string[][];
  /** Columns named by `join … using (…)`. */
  using: string[];
  /** Whether a NATURAL join matches columns by name (every column the tables share, named or not). */
  natural: boolean;
  /** Aliases of joins (`(a join b on …) as j`): `j` and `j.*` reach every column of both sides. */
  joinAliases: string[];
  /** Names the query itself gives columns (`as x`, `t(a, b)`, CTE column lists). */
  defined: string[];
}

/** A checked query: its text (without a trailing semicolon or comment) and what it reads. */
export interface SourceQuery {
  text: string;
  relations: ReadRelation[];
  functions: string[];
  /** Operators used (`=`, `||`, …): like a function, an operator somebody created runs its own code. */
  operators: string[];
  references: ColumnReferences;
  /**
   * Columns named through their table's schema (`s.t.c`), with the span of `s.t`: once the table runs as a
   * projection called `t`, they are written `"t".c`.
   */
  schemaQualified: { start: number; end: number; schema: string; name: string }[];
}

const invalid = (message: string) => new DataOpsError('invalid_input', message);

/** SQL/JSON syntax nodes of the parser (PG16+), which a PG15 source reads as calls of functions by name. */
const sqlJsonSyntax = new Set([
  'JsonScalarExpr',
  'JsonSerializeExpr',
  'JsonFuncExpr',
  'JsonObjectConstructor',
  'JsonArrayConstructor',
  'JsonArrayQueryConstructor',
  'JsonParseExpr',
  'JsonTable',
  'JsonObjectAgg',
  'JsonArrayAgg',
  'JsonIsPredicate',
  'JsonValueExpr',
  'JsonAggConstructor',
]);

/**
 * Functions that read by name what the relation check cannot see (query text, files, other databases) or
 * that act on the server; volatile functions are refused on the source as well (they may write).
 */
const refusedFunctions =
  /(^pg_|^dblink|_to_xml|^lo_|^lo(read|write|open|close|creat|create|import|export|unlink|put|get|seek|tell|truncate)|^ts_stat$|^ts_rewrite$|^set_config$|^current_setting$|^txid_|^reg(class|collation|config|dictionary|namespace|oper|operator|proc|procedure|role|type)|^binary_upgrade|^getpgusername$|^acl)/;
/**
 * Functions that look up the database's own catalog by name (whether a table exists, its comments, who may
 * read it): they would tell a caller about tables and columns the catalog hides from it.
 */
const introspectionFunctions =
  /(^to_reg|_description$|^has_\w+_privilege$|^row_security_active$|^format_type$|^current_(schemas?|database|query|role|user)$|^session_user$|^version$|^inet_(client|server)_)/;
/** Casts to these types look a name up in the database's catalog (`'x.secret'::regclass`). */
const introspectionTypes = /^reg(class|collation|config|dictionary|namespace|oper|operator|proc|procedure|role|type)$/;
/** SQL's own value functions that only read the clock (not `current_user`, `current_catalog`, …). */
const clockValues = /^SVFOP_(CURRENT_DATE|CURRENT_TIME|CURRENT_TIMESTAMP|LOCALTIME|LOCALTIMESTAMP)(_N)?$/;

/** Parses a query and checks it is one read-only SELECT; returns what it reads. Throws `invalid_input`. */
export async function readSourceQuery(query: string, options: ReadQueryOptions = {}): Promise<SourceQuery> {
  const statements = await parseSql(query);
  if (statements.length !== 1) {
    throw invalid(`the query holds ${statements.length} statements; write exactly one SELECT`);
  }
  const select = statements[0]!.SelectStmt as PgNode | undefined;
  if (!select) {
    const kind = Object.keys(statements[0]!)[0]!.replace(/Stmt$/, '').toUpperCase();
    throw invalid(`the query is a ${kind} statement; a source query is one SELECT, which only reads`);
  }
  const relations: {
    schema: string;
    name: string;
    location: number;
    calledAs: string;
    renamesColumns: boolean;
    aliased: boolean;
    only: boolean;
  }[] = [];
  const functions = new Set<string>();
  const operators = new Set<string>();
  const references: ColumnReferences = { columns: [], using: [], natural: false, joinAliases: [], defined: [] };
  const sval = (p: PgNode) => String(p.String?.sval);
  /** Operators named by the query (`a op b`, `x op any (…)`, `order by x using op`), checked like A_Expr's. */
  const operator = (name: PgNode[]) => {
    const parts = name.map(sval);
    if (parts.length > 1 && parts.at(-2) !== 'pg_catalog') {
      throw invalid(
        `the query uses operator ${parts.join('.')}, which is not a built-in operator; a source query uses only Postgres's own operators`,
      );
    }
    operators.add(parts.at(-1)!);
  };
  const types: string[][] = [];
  const qualified: { location: number; names: number; schema: string; name: string }[] = [];
  const visit = (node: unknown, ctes: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, ctes);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as PgNode;
    for (const kind of ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']) {
      if (n[kind])
        throw invalid(
          `the query writes (a ${kind.replace(/Stmt$/, '').toUpperCase()} inside it); a source query only reads`,
        );
    }
    if (n.intoClause) throw invalid('SELECT … INTO creates a table; a source query only reads');
    if (n.lockingClause?.length) throw invalid('FOR UPDATE/SHARE locks rows; a source query only reads');
    if (n.RangeVar) {
      const r = n.RangeVar as PgNode;
      if (r.catalogname && !options.allowDatabaseName)
        throw invalid(`name \`${r.catalogname}.${r.schemaname}.${r.relname}\` as schema.table, without the database`);
      // A name without a schema that a WITH in scope defines is that CTE, not a table.
      if (!r.schemaname && ctes.has(r.relname)) return;
      // An unqualified name is read from `public`, as Postgres's default search_path does; the query is
      // compiled with every name qualified, so no search_path or node name can make it read another table.
      relations.push({
        schema: r.schemaname ?? 'public',
        name: r.relname,
        location: r.location ?? -1,
        calledAs: r.alias?.aliasname ?? r.relname,
        renamesColumns: Boolean(r.alias?.colnames?.length),
        aliased: Boolean(r.alias?.aliasname),
        only: r.inh !== true,
      });
      return;
    }
    if (n.RangeTableSample) throw invalid('TABLESAMPLE is not available in a source query; use a WHERE or a LIMIT');
    const json = Object.keys(n).find((k) => sqlJsonSyntax.has(k));
    if (json) {
      // PG16+ parse these as syntax; an older source resolves the same words as ordinary functions through the
      // search_path, where somebody may have created one.
      throw invalid(
        "the query uses SQL/JSON syntax (JSON_OBJECT, JSON_ARRAY, JSON_VALUE, JSON_TABLE, IS JSON…), which a source query may not use; use Postgres's json functions (json_build_object, jsonb_path_query…)",
      );
    }
    if (n.SubLink?.operName) operator(n.SubLink.operName as PgNode[]);
    if (n.SortBy?.useOp) operator(n.SortBy.useOp as PgNode[]);
    if (n.JoinExpr?.alias?.aliasname) references.joinAliases.push(String(n.JoinExpr.alias.aliasname));
    if (n.ResTarget?.name) references.defined.push(String(n.ResTarget.name));
    if (n.Alias?.colnames) references.defined.push(...(n.Alias.colnames as PgNode[]).map(sval));
    if (n.alias?.colnames) references.defined.push(...(n.alias.colnames as PgNode[]).map(sval));
    if (n.CommonTableExpr?.aliascolnames)
      references.defined.push(...(n.CommonTableExpr.aliascolnames as PgNode[]).map(sval));
    if (n.ColumnDef?.colname) references.defined.push(String(n.ColumnDef.colname));
    if (n.ColumnRef) {
      const parts = ((n.ColumnRef.fields ?? []) as PgNode[]).map((f) =>
        f.A_Star ? '*' : String(f.String?.sval ?? ''),
      );
      references.columns.push(parts);
      if (parts.length >= 3 && typeof n.ColumnRef.location === 'number' && n.ColumnRef.location >= 0) {
        qualified.push({
          location: n.ColumnRef.location,
          names: parts.length - 2,
          schema: parts.at(-3)!,
          name: parts.at(-2)!,
        });
      }
    }
    if (n.JoinExpr) {
      if (n.JoinExpr.isNatural) references.natural = true;
      for (const u of (n.JoinExpr.usingClause ?? []) as PgNode[]) references.using.push(String(u.String?.sval));
    }
    // BETWEEN is written as an A_Expr named by its keywords; it stands for the built-in >= and <=.
    if (n.A_Expr?.name && !String(n.A_Expr.kind).includes('BETWEEN')) operator(n.A_Expr.name as PgNode[]);
    // Any type the query names (a cast, a column definition list), checked once the whole query is read.
    if (n.typeName?.names) types.push((n.typeName.names as PgNode[]).map((p) => String(p.String?.sval)));
    if (n.SQLValueFunction && !clockValues.test(String(n.SQLValueFunction.op))) {
      throw invalid(
        'the query reads a session value (the user, role, catalog or schema); a source query may read only the date and time',
      );
    }
    if (n.FuncCall) {
      const parts = ((n.FuncCall.funcname ?? []) as PgNode[]).map((p) => String(p.String?.sval));
      const name = parts.at(-1);
      if (name) {
        if (refusedFunctions.test(name) || introspectionFunctions.test(name)) {
          throw invalid(`the query calls ${name}(), which a source query may not use`);
        }
        // Postgres writes some SQL syntax (trim(both …), extract(…)) as pg_catalog functions; any other
        // schema holds functions somebody created, which may read what the caller may not.
        if (parts.length > 1 && parts.at(-2) !== 'pg_catalog') {
          throw invalid(
            `the query calls ${parts.join('.')}(), which is not a built-in function; a source query calls only Postgres's own functions`,
          );
        }
        functions.add(name);
      }
    }
    if (n.withClause?.ctes) {
      const entries = (n.withClause.ctes as PgNode[]).map((c) => c.CommonTableExpr as PgNode);
      const all = new Set([...ctes, ...entries.map((c) => c.ctename as string)]);
      // Without RECURSIVE, a CTE sees only those before it; a later name in its body is a table.
      let seen = new Set(ctes);
      for (const cte of entries) {
        visit(cte.ctequery, n.withClause.recursive ? all : seen);
        seen = new Set([...seen, cte.ctename]);
      }
      for (const [key, value] of Object.entries(n)) if (key !== 'withClause') visit(value, all);
      return;
    }
    for (const value of Object.values(n)) visit(value, ctes);
  };
  visit(select, new Set());
  refuseTypes(types);
  const { text, spans, schemaQualified } = statementText(
    query,
    relations.map((r) => r.location),
    qualified,
  );
  const unplaced = relations.find((_, i) => spans[i]!.end <= spans[i]!.start);
  if (unplaced) {
    // Every name is rewritten as "schema"."name" when the query is compiled; one that cannot be is refused.
    throw invalid(`write the table ${unplaced.schema}.${unplaced.name} as schema.table (optionally quoted)`);
  }
  const misplaced = relations.find((r, i) => r.only && spans[i]!.before !== 'only');
  if (misplaced) throw invalid(`write ONLY ${misplaced.schema}.${misplaced.name} without parentheses`);
  return {
    text,
    relations: relations.map((r, i) => ({
      schema: r.schema,
      name: r.name,
      start: spans[i]!.start,
      end: spans[i]!.end,
      ...(spans[i]!.keywordStart !== undefined ? { keywordStart: spans[i]!.keywordStart } : {}),
      tableStatement: spans[i]!.before === 'table',
      calledAs: r.calledAs,
      renamesColumns: r.renamesColumns,
      aliased: r.aliased,
      only: r.only,
    })),
    functions: [...functions],
    operators: [...operators],
    references,
    schemaQualified,
  };
}

/**
 * Only plain built-in types: a `reg*` type looks a name up in the database's catalog, and a table's row type
 * spells out its columns. A lookup is named first, wherever it sits in a chain of casts.
 */
function refuseTypes(types: string[][]): void {
  const lookup = types.find((names) => introspectionTypes.test(names.at(-1)!));
  if (lookup) {
    throw invalid(
      `the query casts to ${lookup.at(-1)}, which looks names up in the database's catalog; a source query may not`,
    );
  }
  const other = types.find(
    (names) => (names.length > 1 && names.at(-2) !== 'pg_catalog') || !allowedTypes.has(names.at(-1)!),
  );
  if (other) {
    throw invalid(
      `the query names the type ${other.join('.')}, which a source query may not use; cast only to plain types (text, numeric, integer, date, timestamp, boolean, json…)`,
    );
  }
}

/**
 * The statement without what trails it (a semicolon, comments), and the byte span of each relation name
 * written at `locations` (`schema.table`, quoted or not), so an export can name the tables its own way.
 */
function statementText(
  query: string,
  locations: number[],
  qualified: { location: number; names: number; schema: string; name: string }[],
) {
  const tokens = scanSql(query);
  const meaningful = tokens.filter((t) => !t.text.startsWith('--') && !t.text.startsWith('/*'));
  const last = meaningful.at(-1);
  const bytes = Buffer.from(query);
  const end = last?.text === ';' ? last.start : (last?.end ?? bytes.length);
  const spans = locations.map((location): { start: number; end: number; before?: string; keywordStart?: number } => {
    let at = meaningful.findIndex((t) => t.start === location);
    if (at < 0) return { start: location, end: location };
    const start = meaningful[at]!.start;
    const previous = meaningful[at - 1];
    const before = previous?.text.toLowerCase();
    while (meaningful[at + 1]?.text === '.' && meaningful[at + 2]) at += 2;
    return {
      start,
      end: meaningful[at]!.end,
      before,
      ...(before === 'only' || before === 'table' ? { keywordStart: previous!.start } : {}),
    };
  });
  const schemaQualified = qualified.flatMap((c) => {
    const at = meaningful.findIndex((t) => t.start === c.location);
    const last = meaningful[at + 2 * c.names];
    return at < 0 || !last ? [] : [{ start: c.location, end: last.end, schema: c.schema, name: c.name }];
  });
  return { text: bytes.subarray(0, end).toString(), spans, schemaQualified };
}

/** The query with every relation it reads named by `table` (an export's own way of naming source tables). */
export function renameRelations(query: SourceQuery, table: (schema: string, name: string) => string): string {
  const bytes = Buffer.from(query.text);
  const parts: Buffer[] = [];
  let at = 0;
  for (const r of [...query.relations].sort((a, b) => a.start - b.start)) {
    if (r.end <= r.start) continue;
    parts.push(bytes.subarray(at, r.start), Buffer.from(table(r.schema, r.name)));
    at = r.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString();
}

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The query as it is sent to the database: every table it reads written "schema"."name", so neither the
 * database's search_path nor a pipeline node's CTE of the same name can make it read something else.
 */
export function qualifiedQueryText(query: SourceQuery): string {
  const bytes = Buffer.from(query.text);
  const parts: Buffer[] = [];
  let at = 0;
  const projected = (c: { schema: string; name: string }) =>
    query.relations.some((r) => r.visible && !r.aliased && r.schema === c.schema && r.name === c.name);
  const edits = [
    ...query.relations.map((r) => ({ start: r.keywordStart ?? r.start, relation: r })),
    ...query.schemaQualified.filter(projected).map((c) => ({ start: c.start, column: c })),
  ].sort((a, b) => a.start - b.start);
  for (const edit of edits) {
    if ('column' in edit) {
      const c = edit.column!;
      if (c.start < at) continue;
      parts.push(bytes.subarray(at, c.start), Buffer.from(quoteName(c.name)));
      at = c.end;
      continue;
    }
    const r = edit.relation!;
    if (r.end <= r.start) continue;
    const table = `${quoteName(r.schema)}.${quoteName(r.name)}`;
    if (!r.visible) {
      parts.push(bytes.subarray(at, r.start), Buffer.from(table));
      at = r.end;
      continue;
    }
    const start = r.keywordStart ?? r.start;
    const only = r.only || r.withoutChildren ? 'only ' : '';
    const projection = `(select ${r.visible.map(quoteName).join(', ')} from ${only}${table})`;
    const written = r.tableStatement
      ? `select * from ${projection} as ${quoteName(r.name)}`
      : `${projection}${r.aliased ? '' : ` as ${quoteName(r.name)}`}`;
    parts.push(bytes.subarray(at, start), Buffer.from(written));
    at = r.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString();
}
