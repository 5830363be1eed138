import { describe, expect, it } from 'vitest';
import { describeChanges } from './product-docs.js';

describe('a data product changelog', () => {
  it('names the columns a reader may see and counts the others', () => {
    const changes = [
      { column: 'spend', change: 'added' as const, to: 'numeric' },
      { column: 'ssn', change: 'removed' as const },
      { column: 'dod_id', change: 'removed' as const },
      { column: 'year', change: 'retyped' as const, from: 'double precision', to: 'integer' },
      { column: null, change: 'added' as const },
    ];
    expect(describeChanges(changes, (column) => !['ssn', 'dod_id'].includes(column))).toEqual([
      'spend added (numeric)',
      'year retyped from double precision to integer',
      'output added',
      '2 marked columns removed',
    ]);
  });
});
