import { z } from 'zod';
import { columnKind } from '../../quality/profile-sql.js';
import type { SqlDialect } from '../dialect.js';
import { columnName, literal } from './fields.js';
import { defineNode } from './node-module.js';
import { literalProblem } from './shared.js';

/** The types a cleanse node may cast to: plain Postgres types, so a cast never names anything the user made up. */
export const castTargets = [
  'text',
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'boolean',
  'date',
  'timestamp without time zone',
  'timestamp with time zone',
  'time without time zone',
  'uuid',
] as const;

const cleanseOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('trim') }).strict(),
  z.object({ op: z.literal('lower') }).strict(),
  z.object({ op: z.literal('upper') }).strict(),
  z.object({ op: z.literal('empty_to_null') }).strict(),
  z.object({ op: z.literal('collapse_whitespace') }).strict(),
  z.object({ op: z.literal('replace'), from: z.string().min(1).max(1000), to: z.string().max(1000) }).strict(),
  z.object({ op: z.literal('cast'), to: z.enum(castTargets) }).strict(),
  z.object({ op: z.literal('fill_null'), value: literal }).strict(),
]);
export type CleanseOperation = z.infer<typeof cleanseOperation>;

const textOps = new Set(['trim', 'lower', 'upper', 'empty_to_null', 'collapse_whitespace', 'replace']);

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
      // `to` is one of castTargets, never free text.
      return `cast(${e} as ${operation.to})`;
    case 'fill_null':
      // Written as a quoted (untyped) literal whatever the value, so Postgres casts it to the column's type:
      // a bare 5 would make coalesce over a smallint an integer, unlike the output schema says.
      return `coalesce(${e}, ${d.literal(String(operation.value))})`;
  }
}

export const cleanse = defineNode({
  type: 'cleanse',
  config: z
    .object({
      columns: z
        .array(
          z
            .object({
              column: columnName,
              operations: z.array(cleanseOperation).min(1).describe('Applied in order, each to the result of the last'),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
  label: 'Cleanse',
  category: 'quality',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Trims, recases, replaces, casts or fills values of columns.',
  docs: {
    summary:
      'Applies operations to columns in place, in order: trim, lower, upper, empty_to_null, collapse_whitespace, replace (`from`, `to`) on text; cast (`to` a plain Postgres type); fill_null (`value`). Output types follow each operation.',
    fields: { columns: 'Per column, the `operations` applied in order, each to the result of the last.' },
    example: {
      columns: [
        { column: 'email', operations: [{ op: 'trim' }, { op: 'lower' }] },
        { column: 'amount', operations: [{ op: 'fill_null', value: 0 }] },
      ],
    },
  },
  analyze(a, _upstream, { input, need, fail }) {
    const config = a.config;
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
    return undefined;
  },
  compile(node, { d, input }) {
    const list = node.columns.map((c) => {
      const operations = node.config.columns.find((x) => x.column === c.name)?.operations;
      const q = d.quote(c.name);
      return operations ? `${operations.reduce((e, o) => cleansed(e, o, d), q)} as ${q}` : q;
    });
    return `select ${list.join(', ')} from ${input}`;
  },
  trace(node, column, { next }) {
    const entry = node.config.columns.find((c) => c.column === column);
    if (!entry) return next(node.inputs[0]!, column);
    return { origin: 'derived', node: node.node.id, expression: entry.operations.map((o) => o.op).join(', then ') };
  },
});
