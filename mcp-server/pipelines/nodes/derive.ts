import { z } from 'zod';
import { derivedMetadata, inferType, type PipelineColumn } from '../expressions.js';
import { columnName, expression } from './fields.js';
import { defineNode } from './node-module.js';

export const derive = defineNode({
  type: 'derive',
  config: z.object({ columns: z.array(z.object({ name: columnName, expression }).strict()).min(1) }).strict(),
  label: 'Derive columns',
  category: 'transform',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Adds or replaces columns computed by expressions.',
  docs: {
    summary:
      'Adds a column per expression (or replaces one of the same name). Each expression may use the columns derived before it; a derived column carries the markings of the columns it is computed from.',
    fields: { columns: 'The columns computed: `name` and a Postgres `expression`, in order.' },
    example: { columns: [{ name: 'amount_eur', expression: 'amount * 0.92' }] },
  },
  async analyze(a, _upstream, tools) {
    a.columns = [...tools.input];
    for (const { name, expression: text } of a.config.columns) {
      const checked = await tools.expression(`column:${name}`, text, a.columns);
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
    return undefined;
  },
  compile(node, { d, input, expr }) {
    const derived = new Set(node.config.columns.map((c) => c.name));
    const list = node.columns.map((c) =>
      derived.has(c.name) ? `${expr(`column:${c.name}`)} as ${d.quote(c.name)}` : d.quote(c.name),
    );
    return `select ${list.join(', ')} from ${input}`;
  },
  trace(node, column, { next }) {
    const derived = node.config.columns.find((c) => c.name === column);
    if (derived) return { origin: 'derived', node: node.node.id, expression: derived.expression };
    return next(node.inputs[0]!, column);
  },
});
