import { DataOpsError } from '../core/errors.js';

/**
 * How deeply JSON from outside may nest. Real payloads (tool arguments, OpenLineage events with nested
 * schema fields, dbt artifacts) stay far below it; far beyond it, the recursive code that validates,
 * hashes and stores values (zod, the audit digest, Postgres' jsonb) runs out of stack.
 */
export const maxJsonDepth = 200;

/** Where JSON text breaks: 1-based line and column, and what was expected there. */
export interface JsonProblem {
  line: number;
  column: number;
  problem: string;
  /** The text is valid so far but nests deeper than allowed. */
  tooDeep?: boolean;
}

/**
 * Parses JSON text; a syntax error becomes `invalid_input` saying `line L, column C: problem`, after
 * `what` (e.g. "the request body"). With `checkDepth`, text nested deeper than `maxJsonDepth` is refused
 * before it is parsed, so nothing downstream recurses through it.
 */
export function parseJsonText(text: string, what: string, options: { checkDepth?: boolean } = {}): unknown {
  const body = text.replace(/^\uFEFF/, '');
  if (options.checkDepth) {
    const problem = findJsonProblem(body, maxJsonDepth);
    if (problem) throw jsonError(what, problem);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    // Found again by our scanner, because V8's messages give an offset for some errors and none for others.
    const problem = findJsonProblem(body, Number.POSITIVE_INFINITY);
    throw jsonError(what, problem, error);
  }
}

function jsonError(what: string, problem: JsonProblem | null, cause?: unknown): DataOpsError {
  if (problem?.tooDeep) {
    return new DataOpsError(
      'invalid_input',
      `${what} nests arrays and objects deeper than ${maxJsonDepth} levels (at line ${problem.line}, column ${problem.column}): send flatter JSON`,
    );
  }
  const where = problem ? `line ${problem.line}, column ${problem.column}: ${problem.problem}` : 'invalid JSON';
  return new DataOpsError('invalid_input', `${what} is not valid JSON: ${where}`, { cause });
}

/**
 * Parses NDJSON (JSON Lines): one value per non-empty line. An error names the line of the whole text,
 * e.g. `the request body is not valid JSON: line 3, column 18: expected ',' or '}'`.
 */
export function parseJsonLines(text: string, what: string, options: { checkDepth?: boolean } = {}): unknown[] {
  const values: unknown[] = [];
  for (const [i, line] of text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .entries()) {
    if (!line.trim()) continue;
    try {
      values.push(parseJsonText(line, what, options));
    } catch (error) {
      const problem = findJsonProblem(line, options.checkDepth ? maxJsonDepth : Number.POSITIVE_INFINITY);
      throw jsonError(what, problem && { ...problem, line: i + 1 }, error);
    }
  }
  return values;
}

/** Whether a parsed value nests deeper than `limit` arrays and objects; iterative, so any depth is safe. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (!item || typeof item !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(item)) if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const space = new Set([' ', '\t', '\n', '\r']);

/**
 * The first place where `text` is not JSON (RFC 8259) or nests deeper than `maxDepth`, or null.
 * A loop with an explicit stack, not recursion: 100,000 levels must not overflow the call stack.
 */
export function findJsonProblem(text: string, maxDepth: number): JsonProblem | null {
  const open: string[] = [];
  let i = 0;
  let mode: 'value' | 'key' | 'after' = 'value';
  const at = (offset: number, problem: string) => ({ ...lineAndColumn(text, offset), problem });
  for (;;) {
    while (i < text.length && space.has(text[i]!)) i++;
    const c = text[i];
    if (mode === 'value') {
      if (c === undefined) return at(i, 'the text ends where a value should be');
      if (c === '{' || c === '[') {
        if (open.length >= maxDepth) return { ...at(i, `nested deeper than ${maxDepth} levels`), tooDeep: true };
        i++;
        while (i < text.length && space.has(text[i]!)) i++;
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          mode = 'after';
        } else {
          open.push(c);
          mode = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      const end = c === '"' ? stringEnd(text, i) : scalarEnd(text, i);
      if (typeof end !== 'number') return at(end.at, end.problem);
      i = end;
      mode = 'after';
      continue;
    }
    if (mode === 'key') {
      if (c !== '"') return at(i, 'expected a property name in double quotes');
      const end = stringEnd(text, i);
      if (typeof end !== 'number') return at(end.at, end.problem);
      i = end;
      while (i < text.length && space.has(text[i]!)) i++;
      if (text[i] !== ':') return at(i, "expected ':' after the property name");
      i++;
      mode = 'value';
      continue;
    }
    const top = open[open.length - 1];
    if (top === undefined) return c === undefined ? null : at(i, 'unexpected text after the end of the JSON value');
    const close = top === '{' ? '}' : ']';
    if (c === ',') {
      i++;
      mode = top === '{' ? 'key' : 'value';
    } else if (c === close) {
      open.pop();
      i++;
    } else {
      return at(i, c === undefined ? `the text ends before this ${close} is closed` : `expected ',' or '${close}'`);
    }
  }
}

type End = number | { at: number; problem: string };

function stringEnd(text: string, start: number): End {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return { at: i, problem: 'a control character (such as a line break) inside a string' };
    if (c === 0x5c) {
      const next = text[i + 1];
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 5;
      else if (next !== undefined && '"\\/bfnrt'.includes(next)) i++;
      else return { at: i, problem: 'an invalid escape sequence in a string' };
    }
  }
  return { at: start, problem: 'a string that is never closed' };
}

function scalarEnd(text: string, start: number): End {
  for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, start)) return start + literal.length;
  number.lastIndex = start;
  if (number.test(text)) return number.lastIndex;
  const token = /^[^\s,:[\]{}"]{1,20}/.exec(text.slice(start, start + 20))?.[0] ?? text[start];
  return { at: start, problem: `unexpected ${JSON.stringify(token)}` };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
