import { z } from 'zod';
import { columnKind } from '../../quality/profile-sql.js';
import { helperPrefix } from '../dialect.js';
import { unknownColumn } from '../expressions.js';
import { keyPairs, pickedColumns } from './fields.js';
import { defineNode } from './node-module.js';
import { duplicates } from './shared.js';

export const enrich = defineNode({
  type: 'enrich',
  config: z
    .object({
      on: keyPairs.describe('input column = lookup column'),
      columns: pickedColumns.describe('Lookup columns added to each input row'),
    })
    .strict(),
  label: 'Enrich (lookup)',
  category: 'transform',
  inputs: [
    { handle: 'input', label: 'Input', arity: 'one' },
    { handle: 'lookup', label: 'Lookup', arity: 'one' },
  ],
  help: 'Adds columns looked up in another input, never multiplying rows.',
  docs: {
    summary:
      'Adds lookup columns to each input row where the keys match. One lookup row per key is used (the first by the looked-up values), so the input keeps its row count; a row without a match gets nulls.',
    fields: {
      on: 'The key pairs: `left` (input column) = `right` (lookup column).',
      columns: 'The lookup columns added: `column`, and `as` to rename it.',
    },
    example: { on: [{ left: 'country_code', right: 'code' }], columns: [{ column: 'name', as: 'country' }] },
  },
  analyze(a, upstream, { input, find, need, fail }) {
    const lookup = upstream[1]!.columns;
    const names = (columns: typeof input) => columns.map((c) => c.name);
    for (const key of a.config.on) {
      if (!find(key.left)) fail(`input key ${unknownColumn(key.left, names(input))}`);
      if (!find(key.right, lookup)) fail(`lookup key ${unknownColumn(key.right, names(lookup))}`);
    }
    a.columns = [...input];
    for (const { column, as } of a.config.columns) {
      const found = need(column, lookup);
      if (found) a.columns.push({ ...found, name: as ?? column });
    }
    duplicates(a.columns, fail, 'name the looked-up column another way with `as`');
    return undefined;
  },
  compile(node, { d, ref }) {
    // One lookup row per key (the first by the looked-up values), so an enrich never multiplies input rows.
    const q = d.quote;
    const { on, columns } = node.config;
    const [inputNode, lookupNode] = node.inputs as [string, string];
    const keys = on.map((k, i) => `${q(k.right)} as ${q(`${helperPrefix}k${i}`)}`);
    const values = columns.map((c, i) => `${q(c.column)} as ${q(`${helperPrefix}v${i}`)}`);
    const partition = on.map((k) => q(k.right)).join(', ');
    const width = node.columns.length - columns.length;
    // Types without an order (json, xml…) are ordered by their text, so any lookup column can decide.
    const order = columns
      .map((c, i) => {
        const kind = columnKind('postgres', node.columns[width + i]!.type);
        return `${kind === 'skipped' || kind === 'other' ? `cast(${q(c.column)} as text)` : q(c.column)} asc nulls last`;
      })
      .join(', ');
    const row = q(`${helperPrefix}row`);
    const lookup = `select ${[...keys, ...values].join(', ')}, row_number() over (partition by ${partition} order by ${order}) as ${row} from ${ref(lookupNode)}`;
    const list = node.columns.map((c, i) =>
      i < width ? `l.${q(c.name)}` : `k.${q(`${helperPrefix}v${i - width}`)} as ${q(c.name)}`,
    );
    const match = on.map((k, i) => `l.${q(k.left)} = k.${q(`${helperPrefix}k${i}`)}`).join(' and ');
    return `select ${list.join(', ')} from ${ref(inputNode)} as l left join (${lookup}) as k on ${match} and k.${row} = 1`;
  },
  trace(node, column, { next }) {
    // A lookup never repeats input rows; a looked-up value may be missing (null) or shared by many rows.
    const looked = node.config.columns.find((c) => (c.as ?? c.column) === column);
    if (!looked) return next(node.inputs[0]!, column);
    return next(node.inputs[1]!, looked.column, { repeated: true, nullable: true });
  },
});
