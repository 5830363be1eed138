import { describe, expect, it } from 'vitest';
import { tokenize } from './tokenize.js';
import { baseForms, createWordLookup } from './word-lookup.js';

describe('tokenize', () => {
  it('splits the ways catalog names are written', () => {
    expect(tokenize('customer_id')).toEqual(['customer', 'id']);
    expect(tokenize('unitsInStock')).toEqual(['units', 'in', 'stock']);
    expect(tokenize('HTTPServerLog')).toEqual(['http', 'server', 'log']);
    expect(tokenize('address2 line10')).toEqual(['address', 'line', '10']);
    expect(tokenize('FY2024-budget.csv')).toEqual(['fy', '2024', 'budget', 'csv']);
    expect(tokenize('Where is contract spend data?')).toEqual(['where', 'is', 'contract', 'spend', 'data']);
  });

  it('folds accents and drops single letters', () => {
    expect(tokenize('Café in México, a B')).toEqual(['cafe', 'in', 'mexico']);
    expect(tokenize('   ')).toEqual([]);
  });
});

describe('word lookup', () => {
  // Frequency ranks of a tiny vocabulary; "pace" is rare so that glued names do not split into it.
  const ranks = new Map(
    ['order', 'date', 'customer', 'identifier', 'quantity', 'category', 'ship', 'archive', 'plan', 'price']
      .concat(['table', 'tables', 'space', 'active', 'unit', 'stock', 'in', 'is', 'social', 'security', 'number'])
      .map((word, rank) => [word, rank] as const),
  );
  ranks.set('pace', 90_000);
  const lookup = createWordLookup((word) => ranks.get(word));

  it('expands data abbreviations even when the token is itself a word', () => {
    expect(lookup('qty')).toEqual(['quantity']);
    expect(lookup('ssn')).toEqual(['social', 'security', 'number']);
    expect(lookup('id')).toEqual(['identifier']);
  });

  it('falls back from plural, -ed and -ing forms to a known base', () => {
    expect(lookup('categories')).toEqual(['category']);
    expect(lookup('orders')).toEqual(['order']);
    expect(lookup('shipped')).toEqual(['ship']);
    expect(lookup('archived')).toEqual(['archive']);
    expect(lookup('planning')).toEqual(['plan']);
    expect(lookup('pricing')).toEqual(['price']);
  });

  it('splits glued words into common pieces, preferring the most even split', () => {
    expect(lookup('orderdate')).toEqual(['order', 'date']);
    expect(lookup('customerid')).toEqual(['customer', 'identifier']);
    expect(lookup('isactive')).toEqual(['is', 'active']);
    expect(lookup('unitsinstock')).toEqual(['unit', 'in', 'stock']);
    expect(lookup('tablespace')).toEqual(['table', 'space']);
  });

  it('leaves unknown names unknown rather than splitting them into noise', () => {
    expect(lookup('zyxwvut')).toEqual([]);
    expect(lookup('tablepace')).toEqual([]);
    expect(lookup('2024')).toEqual([]);
    // Words that happen to name Object.prototype members are plain unknown words.
    for (const token of ['constructor', 'tostring', '__proto__', 'hasownproperty', 'valueof']) {
      expect(lookup(token)).toEqual([]);
    }
  });

  it('offers base forms most likely first', () => {
    expect(baseForms('addresses')).toEqual(['address', 'addresse']);
    expect(baseForms('class')).toEqual([]);
  });
});
