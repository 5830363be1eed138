import { describe, expect, it } from 'vitest';
import type { AnalyzedNode, PipelineAnalysis } from '../analysis.js';
import type { PipelineColumn } from '../expressions.js';
import { type NodeType, parseNodeConfig } from '../nodes/index.js';
import { pipelineRuleValues } from './publish-rules.js';

const column = (name: string): PipelineColumn => ({
  name,
  type: 'integer',
  sensitivity: null,
  classification: null,
  tags: [],
});

/** An analysis as validation leaves it, for a graph given node by node (in dependency order). */
function analysis(nodes: [string, NodeType, Record<string, unknown>, string[], string[], number?][]): PipelineAnalysis {
  const analyzed = new Map<string, AnalyzedNode>();
  for (const [id, type, config, inputs, columns, leftWidth] of nodes) {
    analyzed.set(id, {
      node: { id, type, position: { x: 0, y: 0 }, data: { label: id, config } },
      type,
      config: parseNodeConfig(type, config),
      inputs,
      columns: columns.map(column),
      expressions: new Map(),
      ...(leftWidth === undefined ? {} : { leftWidth }),
    });
  }
  return { issues: [], nodes: analyzed, sourceId: null, unfinished: new Set() };
}

const checks = {
  rules: [
    { check: 'not_null', column: 'id' },
    { check: 'unique', column: 'id' },
    { check: 'accepted_values', column: 'kind', values: ['a', 'b'] },
  ],
};

describe('the quality rules a data product inherits from validate nodes', () => {
  it('carries rules through renames, and stops where a column is computed anew', () => {
    const a = analysis([
      ['src', 'source_dataset', { urn: 'urn:x' }, [], ['id', 'kind']],
      ['check', 'validate', checks, ['src'], ['id', 'kind']],
      [
        'rename',
        'select',
        { columns: [{ column: 'id', as: 'order_id' }, { column: 'kind' }] },
        ['check'],
        ['order_id', 'kind'],
      ],
      [
        'recode',
        'derive',
        { columns: [{ name: 'kind', expression: 'upper(kind)' }] },
        ['rename'],
        ['order_id', 'kind'],
      ],
      ['out', 'destination_table', { table: 't' }, ['recode'], ['order_id', 'kind']],
    ]);
    expect(pipelineRuleValues(a, 'out', 'p').map((r) => [r.type, r.columnName])).toEqual([
      ['not_null', 'order_id'],
      ['unique', 'order_id'],
    ]);
  });

  it('drops unique after a join (rows may repeat) and not null on the side a left join may leave empty', () => {
    const a = analysis([
      ['orders', 'source_dataset', { urn: 'urn:o' }, [], ['id', 'kind']],
      ['check_orders', 'validate', checks, ['orders'], ['id', 'kind']],
      ['people', 'source_dataset', { urn: 'urn:p' }, [], ['person', 'team']],
      ['check_people', 'validate', { rules: [{ check: 'not_null', column: 'team' }] }, ['people'], ['person', 'team']],
      [
        'joined',
        'join',
        { kind: 'left', on: [{ left: 'id', right: 'person' }] },
        ['check_orders', 'check_people'],
        ['id', 'kind', 'person', 'team'],
        2,
      ],
      ['out', 'destination_table', { table: 't' }, ['joined'], ['id', 'kind', 'person', 'team']],
    ]);
    expect(pipelineRuleValues(a, 'out', 'p').map((r) => [r.name, r.type, r.columnName])).toEqual([
      ['check_orders: id is not null', 'not_null', 'id'],
      ['check_orders: kind in (a, b)', 'accepted_values', 'kind'],
    ]);
  });

  it('keeps the rules of the input side of a lookup, and none of a union', () => {
    const lookup = analysis([
      ['orders', 'source_dataset', { urn: 'urn:o' }, [], ['id', 'kind']],
      ['check', 'validate', checks, ['orders'], ['id', 'kind']],
      ['names', 'source_dataset', { urn: 'urn:n' }, [], ['kind', 'label']],
      [
        'named',
        'enrich',
        { on: [{ left: 'kind', right: 'kind' }], columns: [{ column: 'label' }] },
        ['check', 'names'],
        ['id', 'kind', 'label'],
      ],
      ['out', 'destination_table', { table: 't' }, ['named'], ['id', 'kind', 'label']],
    ]);
    expect(pipelineRuleValues(lookup, 'out', 'p')).toHaveLength(3);
    const union = analysis([
      ['a', 'source_dataset', { urn: 'urn:a' }, [], ['id', 'kind']],
      ['check', 'validate', checks, ['a'], ['id', 'kind']],
      ['b', 'source_dataset', { urn: 'urn:b' }, [], ['id', 'kind']],
      ['both', 'union', {}, ['check', 'b'], ['id', 'kind']],
      ['out', 'destination_table', { table: 't' }, ['both'], ['id', 'kind']],
    ]);
    expect(pipelineRuleValues(union, 'out', 'p')).toEqual([]);
  });
});
