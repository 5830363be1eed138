import { z } from 'zod';
import { columnPiiKind } from '../../governance/masking.js';
import { redacted } from '../../governance/pii-masks.js';
import type { PipelineColumn } from '../expressions.js';
import { columnName } from './fields.js';
import { defineNode } from './node-module.js';

/** A column the catalog (or its name) says holds personal data: what a mask node with no columns masks. */
export function isPersonal(column: PipelineColumn): boolean {
  return column.sensitivity === 'pii' || columnPiiKind(column) !== null;
}

export const mask = defineNode({
  type: 'mask',
  config: z
    .object({
      columns: z
        .array(columnName)
        .default([])
        .describe('Columns to mask; empty means every column the catalog marks as PII'),
      method: z.enum(['redact', 'hash', 'last4']).default('redact'),
    })
    .strict(),
  label: 'Mask',
  category: 'governance',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Redacts, hashes or truncates personal data.',
  docs: {
    summary:
      'Replaces the values of personal columns: by a redaction mark, a salted hash (joinable, not reversible) or the last four characters. Masked columns become text.',
    fields: {
      columns: 'The columns to mask; empty means every column the catalog (or its name) marks as personal data.',
      method: '`redact` (the default), `hash` or `last4`.',
    },
    example: { columns: ['email'], method: 'hash' },
  },
  analyze(a, _upstream, { input, need }) {
    const chosen = a.config.columns.length ? a.config.columns : input.filter(isPersonal).map((c) => c.name);
    for (const c of a.config.columns) need(c);
    a.columns = input.map((c) =>
      chosen.includes(c.name)
        ? { name: c.name, type: 'text', sensitivity: null, classification: c.classification, tags: ['masked'] }
        : c,
    );
    return undefined;
  },
  compile(node, { d, input, options }) {
    const masked = new Set(node.columns.filter((c) => c.tags.includes('masked')).map((c) => c.name));
    const method = node.config.method;
    const list = node.columns.map((c) => {
      const value = d.quote(c.name);
      if (!masked.has(c.name)) return value;
      const out =
        method === 'hash'
          ? d.hash(value, options.salt)
          : method === 'last4'
            ? `('***' || right(${d.asText(value)}, 4))`
            : `case when ${value} is null then null else ${d.literal(redacted)} end`;
      return `${out} as ${value}`;
    });
    return `select ${list.join(', ')} from ${input}`;
  },
  trace(node, column, { next }) {
    const masked = node.columns.find((c) => c.name === column)?.tags.includes('masked');
    if (masked) return { origin: 'masked', node: node.node.id, expression: node.config.method };
    return next(node.inputs[0]!, column);
  },
});
