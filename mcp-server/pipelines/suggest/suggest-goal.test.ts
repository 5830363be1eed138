import { describe, expect, it } from 'vitest';
import { parseGoal, tableNameFor } from './suggest-goal.js';

describe('reading a goal in words', () => {
  it('finds the grain, the grouping, the measure and the words that name the data', () => {
    expect(parseGoal('monthly contract spend by vendor')).toMatchObject({
      mode: 'aggregate',
      grain: 'month',
      grainWord: 'monthly',
      measure: { fn: 'sum', word: 'spend' },
      groupBy: ['vendor'],
      subject: ['contract', 'spend'],
    });
    expect(parseGoal('Number of shipments by depot per month')).toMatchObject({
      grain: 'month',
      measure: { fn: 'count' },
      groupBy: ['depot'],
      subject: ['shipment'],
    });
    expect(parseGoal('average invoice amount by payment system')).toMatchObject({
      grain: null,
      measure: { fn: 'avg', word: 'average' },
      groupBy: ['payment', 'system'],
      subject: ['invoice', 'amount'],
    });
    expect(parseGoal('quarterly obligations per program').grain).toBe('quarter');
    expect(parseGoal('annual cost').measure).toEqual({ fn: 'sum', word: 'cost' });
  });

  it('counts rows when the goal groups but names no measure, and reads "fiscal year" as data, not a grain', () => {
    expect(parseGoal('weekly requisitions by depot').measure).toEqual({ fn: 'count', word: '' });
    expect(parseGoal('spend by fiscal year')).toMatchObject({ grain: null, groupBy: ['fiscal', 'year'] });
  });

  it('splits a combination into its parts, dropping filler words', () => {
    expect(parseGoal('combine contract data with vendor performance ratings')).toMatchObject({
      mode: 'combine',
      measure: null,
      parts: [['contract'], ['vendor', 'performance', 'rating']],
    });
    expect(parseGoal('join shipments and depots').parts).toEqual([['shipment'], ['depot']]);
  });

  it('passes a dataset through when the goal asks for nothing more', () => {
    expect(parseGoal('acquisition programs')).toMatchObject({ mode: 'list', subject: ['acquisition', 'program'] });
  });

  it('names the output table after the goal, in snake_case of at most 63 characters', () => {
    expect(tableNameFor('monthly contract spend by vendor')).toBe('monthly_contract_spend_by_vendor');
    expect(tableNameFor('Combine contract data with vendor performance ratings')).toBe(
      'contract_with_vendor_performance_ratings',
    );
    expect(tableNameFor('2024 spend')).toBe('t_2024_spend');
    expect(tableNameFor('x'.repeat(100))).toHaveLength(63);
    expect(tableNameFor('!!!')).toBe('suggested_output');
  });
});
