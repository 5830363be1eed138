import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isDataOpsError } from '../core/errors.js';
import type { Database } from '../db/create-db.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { allTools } from '../mcp-server/registry.js';
import { errorMessage, runTool } from '../mcp-server/run-tool.js';
import type { ToolDefinition } from '../mcp-server/tool.js';
import { createLeakFixture, type LeakFixture, levels } from './helpers/leak-fixture.js';
import { createTestDb } from './helpers/test-db.js';

/**
 * Fuzzing every tool (issue 5 §2): arguments generated from the tool's own input schema, mixed with the names
 * and ids of real assets (so calls get past validation and into the services) and with junk: wrong types, huge
 * and odd strings, SQL metacharacters, unicode, negative and huge numbers, unknown fields. Whatever comes in,
 * a tool answers or refuses with a DataOpsError whose code is not `internal` and whose message is a sentence a
 * person can act on: never a stack trace, SQL error text, `undefined` or `[object Object]`.
 */
const runsPerTool = 60;
const seed = 20261126;

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
};

/** Strings that have broken parsers, SQL and renderers before. */
const nastyStrings = [
  '',
  ' ',
  "'; drop table assets; --",
  '" or 1=1 --',
  '%',
  '_',
  '\\',
  '$1',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder is exactly the junk to send
  '${process.env}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  '[object Object]',
  'NaN',
  '-1',
  '9'.repeat(40),
  'urn:',
  'urn:dataops:',
  'urn:dataops:postgres:matrix:zns.',
  'Ω≈ç√∫˜µ≤≥÷ 田中さんにあげて下さい',
  '👩‍👩‍👧‍👦🇺🇸',
  '\u202eevil',
  '\ud800',
  'a'.repeat(5_000),
  '2026-02-30',
  '0000-00-00T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  '@',
  '@matrix_u @nobody',
  '* * * * *',
  '61 25 * * *',
];

interface Mode {
  real: fc.Arbitrary<string>;
  /** Junk mode breaks the schema on purpose; clean mode stays inside it, so calls reach the services. */
  junk: boolean;
}

function arbitraryFor(schema: JsonSchema, mode: Mode, depth = 0): fc.Arbitrary<unknown> {
  const fitting = fittingArbitrary(schema, mode, depth);
  if (!mode.junk) return fitting;
  const junk = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(...nastyStrings),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  );
  // Mostly well-typed values; sometimes anything at all.
  return fc.oneof({ arbitrary: fitting, weight: 5 }, { arbitrary: junk, weight: 1 });
}

function fittingArbitrary(schema: JsonSchema, mode: Mode, depth: number): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => fittingArbitrary(s, mode, depth + 1)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = schema.maxLength ?? 10_000;
      const fits = (v: string) => mode.junk || (v.length >= min && v.length <= max);
      const options = [
        { arbitrary: mode.real.filter(fits), weight: 4 },
        { arbitrary: fc.constantFrom(...nastyStrings.filter(fits), 'x'.repeat(Math.max(min, 1))), weight: 2 },
        { arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, 300), unit: 'grapheme' }), weight: 2 },
      ];
      // Just past the limit, where off-by-one checks live.
      if (mode.junk) options.push({ arbitrary: fc.constant('x'.repeat(max + 1)), weight: 1 });
      return fc.oneof(...options);
    }
    case 'integer': {
      const lo = Math.max(schema.minimum ?? -1_000_000, -(2 ** 31));
      const hi = Math.min(schema.maximum ?? 1_000_000, 2 ** 31);
      const edges = mode.junk ? [lo - 1, hi + 1, Number.MAX_SAFE_INTEGER, -(2 ** 53), 2 ** 63, 0.5] : [lo, hi];
      return fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(...edges));
    }
    case 'number': {
      const lo = schema.minimum ?? -1e9;
      const hi = schema.maximum ?? 1e9;
      const edges = mode.junk ? [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e308, -1e308] : [lo, hi, 0.1 + 0.2];
      return fc.oneof(fc.double({ min: lo, max: hi, noNaN: true }), fc.constantFrom(...edges));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? arbitraryFor(schema.items, mode, depth + 1) : fc.anything(), {
        minLength: mode.junk ? 0 : Math.min(schema.minItems ?? 0, 4),
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'object':
      return depth > 3 ? fc.constant({}) : inputArbitrary(schema, mode, depth + 1);
    default:
      return fc.anything();
  }
}

/** An object per the schema: required keys mostly present, optional ones sometimes, now and then a stranger. */
function inputArbitrary(schema: JsonSchema, mode: Mode, depth = 0): fc.Arbitrary<unknown> {
  const entries = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const fields = entries.map(([key, s]) =>
    fc
      .tuple(fc.nat(9), arbitraryFor(s, mode, depth))
      .map(([dice, value]) => [key, value, required.has(key) ? !mode.junk || dice > 0 : dice > 5] as const),
  );
  return fc
    .tuple(
      fc.tuple(...fields),
      mode.junk ? fc.option(fc.tuple(fc.string({ maxLength: 12 }), fc.anything()), { freq: 4 }) : fc.constant(null),
    )
    .map(([values, extra]) => {
      const input: Record<string, unknown> = {};
      for (const [key, value, present] of values) if (present) input[key] = value;
      if (extra) input[extra[0] || 'unexpected'] = extra[1];
      return input;
    });
}

const internalText = [
  /\n\s+at .+:\d+/, // a stack frame
  /syntax error at or near/i,
  /violates (foreign key|unique|not-null|check) constraint/i,
  /relation ".*" does not exist/i,
  /column ".*" does not exist/i,
  /invalid input syntax for/i,
  /out of range for type/i,
  /Failed query:/,
  /\bundefined\b/,
  /\[object Object\]/,
  /internal error/i,
  /\bTypeError\b|\bReferenceError\b|\bRangeError\b/,
];

describe('fuzzing every tool', () => {
  let database: Database;
  let fixture: LeakFixture;
  let callers: ServiceContext[];
  let real: fc.Arbitrary<string>;

  beforeAll(async () => {
    database = await createTestDb();
    fixture = await createLeakFixture(database);
    // An unclassified viewer-like caller, a TS steward in the restricted domain, and an administrator.
    callers = [fixture.principals[0]!.ctx, fixture.principals[3]!.ctx, fixture.admin];
    const assets = levels.map((l) => fixture.assets[l]);
    real = fc.constantFrom(
      ...assets.flatMap((a) => [a.urn, a.name, a.qualifiedName, a.column, a.tag, a.id, ...Object.values(a.ids).flat()]),
      'zrd',
      'matrix',
      fixture.policy,
      '2026-01-01T00:00:00Z',
      'matrix_u',
    );
  });
  afterAll(() => database.close());

  it.each(allTools.map((t) => [t.name, t] as const))('%s never crashes or shows internals', async (name, tool) => {
    const schema = z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    const problems: string[] = [];
    await fc
      .assert(
        fc.asyncProperty(
          fc.oneof(
            { arbitrary: inputArbitrary(schema, { real, junk: false }), weight: 6 },
            { arbitrary: inputArbitrary(schema, { real, junk: true }), weight: 3 },
            { arbitrary: fc.anything(), weight: 1 },
          ),
          fc.nat(callers.length - 1),
          async (input, who) => {
            const ctx = callers[who]!;
            const problem = await check(tool as ToolDefinition, input, ctx);
            if (problem)
              problems.push(`${name} as ${ctx.principal.id} with ${preview(input).slice(0, 300)}: ${problem}`);
            return problem === null;
          },
        ),
        { numRuns: runsPerTool, seed, endOnFailure: true },
      )
      .catch(() => undefined);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

async function check(tool: ToolDefinition, input: unknown, ctx: ServiceContext): Promise<string | null> {
  let output: unknown;
  try {
    output = await runTool(tool, input, ctx);
  } catch (error) {
    const message = errorMessage(error, ctx);
    if (!isDataOpsError(error))
      return `threw a ${(error as Error)?.name ?? typeof error}, not a DataOpsError: ${message}`;
    if (error.code === 'internal') return `internal error: ${message}`;
    if (message.trim().length < 10) return `a message too short to act on: "${message}"`;
    // A message may quote what the caller typed ("no asset undefined"): only text the input did not hold counts.
    const typed = serialise(input);
    const leak = internalText.find((pattern) => pattern.test(message) && !pattern.test(typed));
    if (leak) return `internal text (${leak}) in "${message.slice(0, 300)}"`;
    return null;
  }
  const parsed = tool.output.safeParse(output);
  if (!parsed.success) return `output does not match the output schema: ${parsed.error.message.slice(0, 300)}`;
  try {
    tool.render(output as never);
  } catch (error) {
    return `render failed: ${String(error)}`;
  }
  return null;
}

function serialise(input: unknown): string {
  try {
    return JSON.stringify(input) ?? String(input);
  } catch {
    return String(input);
  }
}

function preview(input: unknown): string {
  const text = serialise(input);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
