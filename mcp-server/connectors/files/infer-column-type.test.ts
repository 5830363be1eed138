import { describe, expect, it } from 'vitest';
import { classifyJsonValue, classifyText, resolveColumnType, type ValueKind } from './infer-column-type.js';

const resolve = (kinds: ValueKind[], nestedWins = false) => resolveColumnType(new Set(kinds), nestedWins);

describe('classifyText', () => {
  it.each([
    ['0', 'integer'],
    ['-42', 'integer'],
    ['2147483647', 'integer'],
    ['2147483648', 'bigint'],
    ['-9223372036854775808', 'bigint'],
    ['9223372036854775808', 'numeric'],
    ['3.14', 'double'],
    ['.097', 'double'],
    ['-1.5e-3', 'double'],
    ['1469.250000', 'double'],
  ])('reads %s as %s', (value, kind) => {
    expect(classifyText(value)).toBe(kind);
  });

  it('keeps numbers with leading zeros as text, since they are codes (zip, FIPS) whose zeros matter', () => {
    expect(classifyText('00501')).toBe('text');
    expect(classifyText('01001')).toBe('text');
    expect(classifyText('00.5')).toBe('text');
  });

  it('reads money and thousands-grouped amounts as numeric, and malformed grouping as text', () => {
    expect(classifyText('-566,000')).toBe('numeric');
    expect(classifyText('$1,234.56')).toBe('numeric');
    expect(classifyText('€12')).toBe('numeric');
    expect(classifyText('1,23')).toBe('text');
    expect(classifyText('12,5%')).toBe('text');
  });

  it.each([
    ['2012-01-31', 'date'],
    ['2000-02-29', 'date'],
    ['2001/01/14', 'date'],
    ['Jun 12 1998', 'date'],
    ['January 5, 2020', 'date'],
    ['05-Sep-2021', 'date'],
    ['12/25/2020', 'date'],
    ['25/12/2020', 'date'],
    ['2010-01-01T01:00:00', 'timestamp'],
    ['2015/01/01 01:00:00', 'timestamp'],
    ['2001/01/14 21:55', 'timestamp'],
    ['2000-01-01T08:00:00.000Z', 'timestamptz'],
    ['2020-06-01 12:00:00+02:00', 'timestamptz'],
    ['23:59:59', 'time'],
  ])('reads %s as %s', (value, kind) => {
    expect(classifyText(value)).toBe(kind);
  });

  it('rejects dates and times that do not exist', () => {
    for (const value of [
      '2012-02-30',
      '1900-02-29',
      '2021-13-01',
      '13/25/2020',
      'Foo 12 1998',
      '24:00',
      '2020-01-01T25:00',
    ]) {
      expect(classifyText(value), value).toBe('text');
    }
  });

  it('reads booleans, JSON containers and everything else', () => {
    expect(classifyText('TRUE')).toBe('boolean');
    expect(classifyText('false')).toBe('boolean');
    expect(classifyText('yes')).toBe('text');
    expect(classifyText('{"a": [1, 2]}')).toBe('json');
    expect(classifyText('[citation needed]')).toBe('text');
    expect(classifyText('None')).toBe('text');
  });
});

describe('classifyJsonValue', () => {
  it('types JSON values by what they hold', () => {
    expect(classifyJsonValue(7)).toBe('integer');
    expect(classifyJsonValue(2_700_000_000)).toBe('bigint');
    expect(classifyJsonValue(1e20)).toBe('numeric');
    expect(classifyJsonValue(0.25)).toBe('double');
    expect(classifyJsonValue(true)).toBe('boolean');
    expect(classifyJsonValue('1970-01-01')).toBe('date');
    expect(classifyJsonValue('1565')).toBe('integer');
    expect(classifyJsonValue({ high: 62 })).toBe('json');
    expect(classifyJsonValue([1, 2])).toBe('json');
  });

  it('treats null and blank strings as missing', () => {
    expect(classifyJsonValue(null)).toBeUndefined();
    expect(classifyJsonValue('  ')).toBeUndefined();
  });
});

describe('resolveColumnType', () => {
  it('widens numbers: integer+bigint -> bigint, integer+decimal -> double precision', () => {
    expect(resolve(['integer'])).toBe('integer');
    expect(resolve(['integer', 'bigint'])).toBe('bigint');
    expect(resolve(['integer', 'double'])).toBe('double precision');
    expect(resolve(['integer', 'numeric'])).toBe('numeric');
  });

  it('degrades incompatible mixes to text', () => {
    expect(resolve(['integer', 'text'])).toBe('text');
    expect(resolve(['boolean', 'integer'])).toBe('text');
    expect(resolve(['date', 'integer'])).toBe('text');
    expect(resolve(['time', 'date'])).toBe('text');
  });

  it('widens dates to timestamps, and to timestamp with time zone when any value has a zone', () => {
    expect(resolve(['date'])).toBe('date');
    expect(resolve(['date', 'timestamp'])).toBe('timestamp');
    expect(resolve(['timestamp', 'timestamptz'])).toBe('timestamp with time zone');
  });

  it('keeps json in JSON files, but not when a CSV column also holds plain text', () => {
    expect(resolve(['json', 'text'], true)).toBe('json');
    expect(resolve(['json', 'integer'], false)).toBe('json');
    expect(resolve(['json', 'text'], false)).toBe('text');
  });

  it('calls a column with no values text', () => {
    expect(resolve([])).toBe('text');
  });
});
