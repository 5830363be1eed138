import { DataOpsError } from '../../core/errors.js';
import type { Classification } from '../../db/schema/types.js';
import { classificationLevels } from '../../db/schema/types.js';
import { type CheckedExpression, checkExpression } from '../quality/rules-expression.js';
import { type PgNode, parseSql } from '../sql/parse.js';

/** A column flowing between nodes, with what masking needs to know of it (carried from the catalog). */
export interface PipelineColumn {
  name: string;
  /** A Postgres type name, e.g. `integer`, `numeric(5,2)`, `timestamp with time zone`. */
  type: string;
  sensitivity: string | null;
  classification: Classification | null;
  tags: string[];
}

/**
 * Checks a pipeline expression against the columns that reach its node. Unknown columns are named with the
 * closest existing one; everything else (one scalar expression, allowed operators and functions, no
 * subqueries or statements) is the quality rules' checker, so both features accept the same language.
 * Throws `invalid_input` with a sentence that stands after "node `x` (type): ".
 */
export async function checkPipelineExpression(text: string, columns: PipelineColumn[]): Promise<CheckedExpression> {
  const names = columns.map((c) => c.name);
  let tree: PgNode[] | undefined;
  try {
    tree = await parseSql(`select ${text}`);
  } catch {
    // The checker below reports the syntax error in its own words.
  }
  for (const ref of tree ? columnRefs(tree) : []) {
    if (!names.includes(ref)) throw new DataOpsError('invalid_input', unknownColumn(ref, names));
  }
  return checkExpression(text, names);
}

/** "column `amout` does not exist; did you mean `amount`?" (or the columns there are, when none is close). */
export function unknownColumn(name: string, available: string[]): string {
  const close = closest(name, available);
  if (close) return `column \`${name}\` does not exist; did you mean \`${close}\`?`;
  return `column \`${name}\` does not exist; the columns here are ${available.map((c) => `\`${c}\``).join(', ') || 'none'}`;
}

function columnRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) columnRefs(item, found);
  else if (node && typeof node === 'object') {
    const ref = (node as PgNode).ColumnRef;
    if (ref?.fields?.length === 1 && ref.fields[0].String) found.push(ref.fields[0].String.sval as string);
    for (const value of Object.values(node)) columnRefs(value, found);
  }
  return found;
}

/** The name nearest to `name` within two edits (or differing only in case), if any. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (distance <= 2 && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const numericRank = ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'];

/** The numeric family a type belongs to (`numeric(5,2)` → `numeric`), or null for a non-number. */
export function numericKind(type: string): string | null {
  const base = type.replace(/\(.*\)$/, '').trim();
  if (base === 'decimal') return 'numeric';
  if (base === 'int' || base === 'int4') return 'integer';
  return numericRank.includes(base) ? base : null;
}

const castTypes: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  numeric: 'numeric',
  float4: 'real',
  float8: 'double precision',
  text: 'text',
  varchar: 'text',
  date: 'date',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
};

/**
 * The type Postgres gives an accepted expression, worked out from the parse tree and the input columns'
 * types, so an output schema (and a version's semantic bump) is known without running anything.
 */
export function inferType(expression: CheckedExpression, columns: PipelineColumn[]): string {
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const infer = (node: PgNode): string => {
    const [kind, body] = Object.entries(node)[0] as [string, PgNode];
    switch (kind) {
      case 'A_Const':
        if (body.ival) return 'integer';
        if (body.fval) return 'numeric';
        if (body.boolval) return 'boolean';
        return 'text';
      case 'ColumnRef':
        return typeOf.get(body.fields[0].String.sval) ?? 'text';
      case 'A_Expr': {
        if (body.kind === 'AEXPR_NULLIF') return infer(body.lexpr);
        if (body.kind !== 'AEXPR_OP') return 'boolean';
        const op = body.name[0].String.sval as string;
        if (op === '||') return 'text';
        if (!['+', '-', '*', '/', '%'].includes(op)) return 'boolean';
        const right = infer(body.rexpr);
        if (!body.lexpr) return right;
        const left = infer(body.lexpr);
        if (left === 'date' && right === 'date' && op === '-') return 'integer';
        return widerNumber(left, right);
      }
      case 'BoolExpr':
      case 'NullTest':
      case 'BooleanTest':
        return 'boolean';
      case 'CoalesceExpr':
      case 'MinMaxExpr':
        return infer(body.args[0]);
      case 'CaseExpr':
        return infer(body.args[0].CaseWhen.result);
      case 'TypeCast':
        return castTypes[(body.typeName.names as PgNode[]).at(-1)!.String.sval as string] ?? 'text';
      case 'SQLValueFunction':
        return body.op === 'SVFOP_CURRENT_DATE' ? 'date' : 'timestamp with time zone';
      case 'FuncCall': {
        const fn = (body.funcname as PgNode[]).at(-1)!.String.sval as string;
        const args = (body.args ?? []) as PgNode[];
        if (fn === 'extract' || fn === 'round') return 'numeric';
        if (['length', 'char_length', 'character_length', 'sign'].includes(fn)) return 'integer';
        if (fn === 'sqrt' || fn === 'power') return 'double precision';
        if (fn === 'now') return 'timestamp with time zone';
        // Postgres truncates a date as a timestamp with time zone; a timestamp keeps its kind.
        if (fn === 'date_trunc' && args[1]) {
          const input = infer(args[1]);
          return input.startsWith('timestamp without') || input === 'timestamp' ? input : 'timestamp with time zone';
        }
        if (['abs', 'floor', 'ceil', 'ceiling', 'mod'].includes(fn) && args[0]) return infer(args[0]);
        return 'text';
      }
    }
    return 'text';
  };
  return infer(expression.tree);
}

function widerNumber(left: string, right: string): string {
  const l = numericKind(left);
  const r = numericKind(right);
  // Dates and times keep their type under + and - (a date plus days, a timestamp minus an interval).
  if (!l || !r) return left;
  return numericRank.indexOf(l) >= numericRank.indexOf(r) ? l : r;
}

/** The result type of an aggregate, as Postgres gives it. */
export function aggregateType(fn: string, input: string | undefined): string {
  if (fn === 'count' || fn === 'count_distinct') return 'bigint';
  const kind = input ? numericKind(input) : null;
  if (fn === 'sum') {
    if (kind === 'smallint' || kind === 'integer') return 'bigint';
    if (kind === 'real' || kind === 'double precision') return kind;
    return 'numeric';
  }
  if (fn === 'avg') return kind === 'real' || kind === 'double precision' ? 'double precision' : 'numeric';
  return input ?? 'text';
}

/** What a value computed from `sources` inherits for masking: the most sensitive of them. */
export function derivedMetadata(
  sources: PipelineColumn[],
): Pick<PipelineColumn, 'sensitivity' | 'classification' | 'tags'> {
  const marking = sources
    .map((c) => c.classification)
    .filter((c): c is Classification => c !== null)
    .sort((a, b) => classificationLevels.indexOf(b) - classificationLevels.indexOf(a))[0];
  const pii = sources.find((c) => c.sensitivity === 'pii');
  return {
    sensitivity: pii ? 'pii' : (sources.find((c) => c.sensitivity)?.sensitivity ?? null),
    classification: marking ?? null,
    tags: [...new Set(sources.flatMap((c) => c.tags.filter((t) => t.startsWith('pii:'))))],
  };
}
