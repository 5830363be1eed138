import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ABBREVIATIONS } from './abbreviations.js';
import { DOMAIN_VOCABULARY } from './domain-vocabulary.js';
import { createEmbedder, EMBEDDING_DIMENSIONS } from './embedder.js';
import { DEFAULT_WORD_VECTORS_PATH, loadWordVectors } from './offline-embedder.js';
import { decodeWordVectors } from './word-vector-file.js';

const embedder = createEmbedder({ provider: 'offline' });

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

/** How much closer `query` is to `near` than to `far`. */
async function margin(query: string, near: string, far: string): Promise<number> {
  const [q, n, f] = await embedder.embed([query, near, far]);
  return cosine(q!, n!) - cosine(q!, f!);
}

describe('offline embedder', () => {
  it('places words by meaning, as a catalog search user would expect', async () => {
    expect(await margin('expenditure', 'vendor spend', 'shipment parts')).toBeGreaterThan(0.05);
    expect(await margin('contract', 'agreement', 'weather')).toBeGreaterThan(0.2);
    expect(await margin('personnel', 'employees staff', 'inventory')).toBeGreaterThan(0.2);
    expect(
      await margin('where is contract spend data?', 'vendor payments by contract', 'weather observations'),
    ).toBeGreaterThan(0.1);
    expect(await margin('troop readiness', 'military unit personnel strength', 'retail sales')).toBeGreaterThan(0.2);
    expect(await margin('budget', 'fiscal appropriations', 'aircraft')).toBeGreaterThan(0.2);
    expect(await margin('film rentals', 'movie rental payments', 'employee territories')).toBeGreaterThan(0.2);
  });

  it('reads column names: snake_case, camelCase, glued words and abbreviations', async () => {
    const [dob, birth, orderDate, glued, qty, quantity] = await embedder.embed([
      'emp_dob',
      'employee birth date',
      'OrderDate',
      'orderdate',
      'order_qty',
      'quantity ordered',
    ]);
    expect(cosine(dob!, birth!)).toBeCloseTo(1, 5);
    expect(cosine(orderDate!, glued!)).toBeCloseTo(1, 5);
    expect(cosine(qty!, quantity!)).toBeGreaterThan(0.7);
    expect(await margin('cust_addr', 'customer address', 'aircraft maintenance')).toBeGreaterThan(0.5);
  });

  it('returns unit vectors of the catalog width, zero-padded past the word vectors', async () => {
    const [vector] = await embedder.embed(['Quarterly procurement obligations by contractor']);
    expect(vector).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(Math.hypot(...vector!)).toBeCloseTo(1, 6);
    expect(vector!.slice(100).every((x) => x === 0)).toBe(true);
  });

  it('returns zeros for text with no known word, and nothing for no text', async () => {
    const [unknown, blank, stopOnly] = await embedder.embed(['zxqv_qwxz 12345', '', 'where is it']);
    expect(unknown).toEqual(new Array(EMBEDDING_DIMENSIONS).fill(0));
    expect(blank).toEqual(new Array(EMBEDDING_DIMENSIONS).fill(0));
    // A text of function words only still means something ("who", "where"), so it keeps their vectors.
    expect(Math.hypot(...stopOnly!)).toBeCloseTo(1, 6);
    expect(await embedder.embed([])).toEqual([]);
  });

  it('treats names of JavaScript built-ins as ordinary words', async () => {
    const [vector] = await embedder.embed(['constructor __proto__ toString hasOwnProperty valueOf']);
    expect(Math.hypot(...vector!)).toBeCloseTo(1, 6);
  });

  it('knows every domain word and every abbreviation expansion', async () => {
    const { table } = await loadWordVectors();
    const expansions = Object.values(ABBREVIATIONS).flatMap((expansion) => expansion.split(' '));
    expect([...DOMAIN_VOCABULARY, ...expansions].filter((word) => !table.index.has(word))).toEqual([]);
    expect(table.header.modelId).toBe(embedder.modelId);
    expect(table.words.length).toBeGreaterThan(40_000);
  });

  it('decodes the shipped file, and loads it once per process', async () => {
    const decoded = decodeWordVectors(await readFile(DEFAULT_WORD_VECTORS_PATH));
    expect(decoded.words.length).toBe((await loadWordVectors()).table.words.length);
    expect(loadWordVectors()).toBe(loadWordVectors());
  });

  it('embeds a thousand catalog descriptions in one call, one vector each', async () => {
    const texts = Array.from({ length: 1000 }, (_, i) => `shipment_line_${i}: parts shipped to depot ${i} by vendor`);
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(1000);
    expect(new Set(vectors.map((v) => v.length))).toEqual(new Set([256]));
  });

  it('says clearly when a vector file is missing', async () => {
    const missing = createEmbedder({ provider: 'offline', vectorsPath: '/nonexistent/word-vectors.bin' });
    await expect(missing.embed(['contract'])).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/^Offline word vectors cannot be read \(ENOENT/),
    });
  });
});
