import { DataOpsError } from '../../core/errors.js';
import { type PgNode, parseSql } from '../sql/parse.js';

/**
 * Custom rule expressions (`amount >= 0 and currency in ('USD', 'EUR')`) and row filters. The text is
 * parsed with the real Postgres parser and accepted only when it is one scalar expression over the
 * table's own columns, built from the operators and functions below. The accepted tree is then
 * written out again for the source's dialect, with every constant as a bound parameter, so nothing
 * the user typed is ever pasted into SQL.
 */

export type Dialect = 'postgres' | 'mysql';

/** An accepted expression, ready to be written for a dialect. */
export interface CheckedExpression {
  text: string;
  tree: PgNode;
  columns: string[];
}

/** Functions an expression may call: scalar, deterministic apart from the clock, and without side effects. */
const functions: Record<string, { postgres: string; mysql: string }> = {
  lower: { postgres: 'lower', mysql: 'lower' },
  upper: { postgres: 'upper', mysql: 'upper' },
  length: { postgres: 'char_length', mysql: 'char_length' },
  char_length: { postgres: 'char_length', mysql: 'char_length' },
  character_length: { postgres: 'char_length', mysql: 'char_length' },
  btrim: { postgres: 'btrim', mysql: 'trim' },
  ltrim: { postgres: 'ltrim', mysql: 'ltrim' },
  rtrim: { postgres: 'rtrim', mysql: 'rtrim' },
  abs: { postgres: 'abs', mysql: 'abs' },
  round: { postgres: 'round', mysql: 'round' },
  floor: { postgres: 'floor', mysql: 'floor' },
  ceil: { postgres: 'ceil', mysql: 'ceil' },
  ceiling: { postgres: 'ceiling', mysql: 'ceiling' },
  sign: { postgres: 'sign', mysql: 'sign' },
  sqrt: { postgres: 'sqrt', mysql: 'sqrt' },
  power: { postgres: 'power', mysql: 'power' },
  mod: { postgres: 'mod', mysql: 'mod' },
  substring: { postgres: 'substring', mysql: 'substring' },
  substr: { postgres: 'substr', mysql: 'substr' },
  replace: { postgres: 'replace', mysql: 'replace' },
  concat: { postgres: 'concat', mysql: 'concat' },
  now: { postgres: 'now', mysql: 'now' },
};

const comparison = new Set(['=', '<>', '<', '>', '<=', '>=']);
const arithmetic = new Set(['+', '-', '*', '/', '%']);
const regex: Record<string, { postgres: string; mysql: string }> = {
  '~': { postgres: '~', mysql: 'regexp' },
  '!~': { postgres: '!~', mysql: 'not regexp' },
};

/** Casts an expression may make, and how each dialect spells them. */
const casts: Record<string, { postgres: string; mysql: string }> = {
  int2: { postgres: 'smallint', mysql: 'signed' },
  int4: { postgres: 'integer', mysql: 'signed' },
  int8: { postgres: 'bigint', mysql: 'signed' },
  numeric: { postgres: 'numeric', mysql: 'decimal(65,30)' },
  float4: { postgres: 'real', mysql: 'double' },
  float8: { postgres: 'double precision', mysql: 'double' },
  text: { postgres: 'text', mysql: 'char' },
  varchar: { postgres: 'text', mysql: 'char' },
  date: { postgres: 'date', mysql: 'date' },
  timestamp: { postgres: 'timestamp', mysql: 'datetime' },
  timestamptz: { postgres: 'timestamptz', mysql: 'datetime' },
};

const extractFields = new Set(['year', 'month', 'day', 'hour', 'minute', 'second', 'quarter', 'week']);

/**
 * Periods `date_trunc` may cut a date or time to, and the MySQL that starts the same period (MySQL has no
 * date_trunc; `%s` stands for the argument). Weeks start on Monday, as Postgres's do.
 */
const truncFields: Record<string, string> = {
  year: "cast(date_format(%s, '%Y-01-01') as datetime)",
  quarter: 'cast(makedate(year(%s), 1) + interval (quarter(%s) - 1) quarter as datetime)',
  month: "cast(date_format(%s, '%Y-%m-01') as datetime)",
  week: 'cast(date(%s) - interval weekday(%s) day as datetime)',
  day: 'cast(date(%s) as datetime)',
  hour: "cast(date_format(%s, '%Y-%m-%d %H:00:00') as datetime)",
  minute: "cast(date_format(%s, '%Y-%m-%d %H:%i:00') as datetime)",
};

function refusal(text: string, reason: string): DataOpsError {
  return new DataOpsError('invalid_input', `the expression «${text}» is refused: ${reason}`);
}

function refuse(text: string, reason: string): never {
  throw refusal(text, reason);
}

/**
 * Parses `text` and checks it against the table's columns (names compared as Postgres does, so
 * unquoted names are lower-case). Throws `invalid_input` with the reason for anything else.
 */
export async function checkExpression(text: string, tableColumns: string[]): Promise<CheckedExpression> {
  if (text.trim() === '') refuse(text, 'it is empty');
  const statements = await parseSql(`select ${text}`).catch((error: DataOpsError) =>
    refuse(text, error.message.replace(/ at character \d+/, '')),
  );
  if (statements.length !== 1) refuse(text, 'it holds more than one statement; write a single boolean expression');
  const select = statements[0]!.SelectStmt as PgNode | undefined;
  if (select?.targetList?.length !== 1) {
    refuse(text, 'it is not a single expression; write one boolean condition over the table’s columns');
  }
  // `select <expression>` has only these; anything else was written after the expression (FROM, WINDOW,
  // INTO, FOR UPDATE, LIMIT, DISTINCT…) and would be dropped when the tree is written out: refused, not lost.
  const trailing = Object.keys(select!).find((key) => !['targetList', 'limitOption', 'op'].includes(key));
  if (trailing || select!.limitOption !== 'LIMIT_OPTION_DEFAULT' || select!.op !== 'SETOP_NONE') {
    refuse(
      text,
      `it has a clause after the expression (${clauseName(trailing)}); write one boolean condition over the table’s columns`,
    );
  }
  const target = select!.targetList[0].ResTarget as PgNode;
  if (target.name) refuse(text, 'an expression takes no alias');
  const known = new Map(tableColumns.map((c) => [c, c]));
  const used = new Set<string>();
  const visit = (node: PgNode): void => {
    const [kind, body] = Object.entries(node)[0] as [string, PgNode];
    switch (kind) {
      case 'A_Const':
        return;
      case 'ColumnRef': {
        const fields = body.fields as PgNode[];
        if (fields.length !== 1 || !fields[0]!.String) {
          refuse(text, 'columns are named alone (no table or schema prefix, no *)');
        }
        const name = fields[0]!.String.sval as string;
        if (!known.has(name)) refuse(text, `"${name}" is not a column of this table`);
        used.add(name);
        return;
      }
      case 'A_Expr': {
        const op = body.name?.[0]?.String?.sval as string;
        const allowed =
          (body.kind === 'AEXPR_OP' && (comparison.has(op) || arithmetic.has(op) || op in regex || op === '||')) ||
          body.kind === 'AEXPR_IN' ||
          body.kind === 'AEXPR_LIKE' ||
          body.kind === 'AEXPR_ILIKE' ||
          body.kind === 'AEXPR_BETWEEN' ||
          body.kind === 'AEXPR_NOT_BETWEEN' ||
          body.kind === 'AEXPR_NULLIF' ||
          body.kind === 'AEXPR_DISTINCT' ||
          body.kind === 'AEXPR_NOT_DISTINCT';
        if (!allowed) refuse(text, `the operator ${op ?? body.kind} is not allowed`);
        if (body.lexpr) visit(body.lexpr);
        if (body.rexpr?.List) for (const item of body.rexpr.List.items) visit(item);
        else if (body.rexpr) visit(body.rexpr);
        return;
      }
      case 'BoolExpr':
        for (const arg of body.args) visit(arg);
        return;
      case 'NullTest':
      case 'BooleanTest':
        visit(body.arg);
        return;
      case 'CoalesceExpr':
      case 'MinMaxExpr':
        for (const arg of body.args) visit(arg);
        return;
      case 'CaseExpr':
        if (body.arg) visit(body.arg);
        for (const when of body.args) {
          visit(when.CaseWhen.expr);
          visit(when.CaseWhen.result);
        }
        if (body.defresult) visit(body.defresult);
        return;
      case 'TypeCast': {
        const type = (body.typeName.names as PgNode[]).at(-1)?.String?.sval as string;
        if (!(type in casts) || body.typeName.arrayBounds) refuse(text, `a cast to ${type} is not allowed`);
        visit(body.arg);
        return;
      }
      case 'SQLValueFunction':
        if (!['SVFOP_CURRENT_DATE', 'SVFOP_CURRENT_TIMESTAMP'].includes(body.op)) {
          refuse(text, 'only current_date and current_timestamp may be read');
        }
        return;
      case 'FuncCall': {
        const names = (body.funcname as PgNode[]).map((n) => n.String?.sval as string);
        const name = names.at(-1)!;
        const qualified = names.length === 2 && names[0] === 'pg_catalog';
        if ((names.length !== 1 && !qualified) || !(name in functions || name === 'extract' || name === 'date_trunc')) {
          refuse(text, `the function ${names.join('.')}() is not allowed (allowed: ${allowedFunctions().join(', ')})`);
        }
        if (body.agg_star || body.agg_distinct || body.over || body.agg_filter || body.agg_order) {
          refuse(text, 'aggregates and window functions are not allowed; the expression is checked row by row');
        }
        const args = (body.args ?? []) as PgNode[];
        if (name === 'extract') {
          const field = args[0]?.A_Const?.sval?.sval as string | undefined;
          if (!field || !extractFields.has(field)) refuse(text, `extract(${field ?? '?'} …) is not allowed`);
          visit(args[1]!);
          return;
        }
        if (name === 'date_trunc') {
          // The period must be a constant this checker knows, so each dialect can write it (and MySQL has no date_trunc).
          const field = args[0]?.A_Const?.sval?.sval as string | undefined;
          if (args.length !== 2 || !field || !(field in truncFields)) {
            refuse(text, `date_trunc takes a period (${Object.keys(truncFields).join(', ')}) and a date or time`);
          }
          visit(args[1]!);
          return;
        }
        for (const arg of args) visit(arg);
        return;
      }
      case 'SubLink':
        throw refusal(text, 'subqueries are not allowed; an expression reads only the row being checked');
      case 'ParamRef':
        throw refusal(text, 'parameters ($1) are not allowed');
      default:
        refuse(text, `${kind} is not allowed in a rule expression`);
    }
  };
  visit(target.val);
  return { text, tree: target.val, columns: [...used] };
}

/** A clause of a SELECT as a person writes it: `lockingClause` → "FOR UPDATE/SHARE". */
function clauseName(key: string | undefined): string {
  const names: Record<string, string> = {
    intoClause: 'INTO',
    lockingClause: 'FOR UPDATE/SHARE',
    windowClause: 'WINDOW',
    distinctClause: 'DISTINCT',
    fromClause: 'FROM',
    whereClause: 'WHERE',
    groupClause: 'GROUP BY',
    havingClause: 'HAVING',
    sortClause: 'ORDER BY',
    withClause: 'WITH',
    valuesLists: 'VALUES',
  };
  return key ? (names[key] ?? key) : 'LIMIT, FETCH or a set operation';
}

export function allowedFunctions(): string[] {
  return [...Object.keys(functions), 'coalesce', 'nullif', 'greatest', 'least', 'extract', 'date_trunc', 'trim'].sort();
}

/** Quotes an identifier for the dialect, doubling the quote character. */
export function quoteName(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/** Writes an accepted expression for `dialect`; constants go through `param`, which returns a placeholder. */
export function renderExpression(expression: CheckedExpression, dialect: Dialect, param: (v: unknown) => string) {
  const r = (node: PgNode): string => {
    const [kind, body] = Object.entries(node)[0] as [string, PgNode];
    switch (kind) {
      case 'A_Const':
        if (body.isnull) return 'null';
        if (body.boolval) return body.boolval.boolval ? 'true' : 'false';
        // Numbers come from the parser's own tokens, so they are written as they are: typed, not `unknown`.
        if (body.ival) return String(Number(body.ival.ival ?? 0));
        if (body.fval)
          return Number.isFinite(Number(body.fval.fval)) ? String(Number(body.fval.fval)) : param(body.fval.fval);
        return param(body.sval?.sval ?? '');
      case 'ColumnRef':
        return quoteName(dialect, body.fields[0].String.sval);
      case 'A_Expr': {
        const op = body.name[0].String.sval as string;
        const left = body.lexpr ? r(body.lexpr) : '';
        const list = () => (body.rexpr.List.items as PgNode[]).map(r);
        switch (body.kind) {
          case 'AEXPR_IN':
            return `(${left} ${op === '=' ? 'in' : 'not in'} (${list().join(', ')}))`;
          case 'AEXPR_LIKE':
            return `(${left} ${op === '~~' ? 'like' : 'not like'} ${r(body.rexpr)})`;
          case 'AEXPR_ILIKE':
            return `(lower(${left}) ${op === '~~*' ? 'like' : 'not like'} lower(${r(body.rexpr)}))`;
          case 'AEXPR_BETWEEN':
          case 'AEXPR_NOT_BETWEEN': {
            const [low, high] = list();
            return `(${left} ${body.kind === 'AEXPR_BETWEEN' ? 'between' : 'not between'} ${low} and ${high})`;
          }
          case 'AEXPR_NULLIF':
            return `nullif(${left}, ${r(body.rexpr)})`;
          case 'AEXPR_DISTINCT':
            return dialect === 'mysql'
              ? `(not (${left} <=> ${r(body.rexpr)}))`
              : `(${left} is distinct from ${r(body.rexpr)})`;
          case 'AEXPR_NOT_DISTINCT':
            return dialect === 'mysql'
              ? `(${left} <=> ${r(body.rexpr)})`
              : `(${left} is not distinct from ${r(body.rexpr)})`;
        }
        if (op in regex) {
          // MySQL matches by the column's collation, usually case-insensitive; a binary one matches as Postgres does.
          const subject = dialect === 'mysql' ? `cast(${left} as char) collate utf8mb4_bin` : left;
          return `(${subject} ${regex[op]![dialect]} ${r(body.rexpr)})`;
        }
        if (op === '||')
          return dialect === 'mysql' ? `concat(${left}, ${r(body.rexpr)})` : `(${left} || ${r(body.rexpr)})`;
        return body.lexpr ? `(${left} ${op} ${r(body.rexpr)})` : `(${op}${r(body.rexpr)})`;
      }
      case 'BoolExpr': {
        const args = (body.args as PgNode[]).map(r);
        if (body.boolop === 'NOT_EXPR') return `(not ${args[0]})`;
        return `(${args.join(body.boolop === 'AND_EXPR' ? ' and ' : ' or ')})`;
      }
      case 'NullTest':
        return `(${r(body.arg)} is ${body.nulltesttype === 'IS_NULL' ? '' : 'not '}null)`;
      case 'BooleanTest': {
        const [, negated, value] = /^IS_(NOT_)?(TRUE|FALSE|UNKNOWN)$/.exec(body.booltesttype)!;
        return `(${r(body.arg)} is ${negated ? 'not ' : ''}${value!.toLowerCase()})`;
      }
      case 'CoalesceExpr':
        return `coalesce(${(body.args as PgNode[]).map(r).join(', ')})`;
      case 'MinMaxExpr':
        return `${body.op === 'IS_GREATEST' ? 'greatest' : 'least'}(${(body.args as PgNode[]).map(r).join(', ')})`;
      case 'CaseExpr': {
        const whens = (body.args as PgNode[]).map((w) => `when ${r(w.CaseWhen.expr)} then ${r(w.CaseWhen.result)}`);
        const otherwise = body.defresult ? ` else ${r(body.defresult)}` : '';
        return `(case ${body.arg ? `${r(body.arg)} ` : ''}${whens.join(' ')}${otherwise} end)`;
      }
      case 'TypeCast': {
        const type = (body.typeName.names as PgNode[]).at(-1)!.String.sval as string;
        return `cast(${r(body.arg)} as ${casts[type]![dialect]})`;
      }
      case 'SQLValueFunction':
        return body.op === 'SVFOP_CURRENT_DATE' ? 'current_date' : 'current_timestamp';
      case 'FuncCall': {
        const name = (body.funcname as PgNode[]).at(-1)!.String.sval as string;
        const args = (body.args ?? []) as PgNode[];
        if (name === 'extract') return `extract(${args[0]!.A_Const.sval.sval} from ${r(args[1]!)})`;
        if (name === 'date_trunc') {
          // The period is one of truncFields' keys (checked above), so it is written as it is, not bound.
          const field = args[0]!.A_Const.sval.sval as string;
          if (dialect === 'postgres') return `date_trunc('${field}', ${r(args[1]!)})`;
          // Written afresh at each place the template names it, so a bound constant gets a placeholder per use.
          return truncFields[field]!.split('%s').reduce((out, part) => `${out}${r(args[1]!)}${part}`);
        }
        return `${functions[name]![dialect]}(${args.map(r).join(', ')})`;
      }
    }
    throw new DataOpsError('internal', `unexpected ${kind} in a checked expression`);
  };
  return r(expression.tree);
}
