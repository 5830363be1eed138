import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataOpsError } from '../../../core/errors.js';
import { decodeWordVectors, encodeWordVectors } from './word-vector-file.js';

const header = { modelId: 'test-3d-q8', dimensions: 3, source: 'made up', processing: 'none' };

describe('word-vector file', () => {
  it('round-trips words, and vectors to within half an int8 step of each word', () => {
    const vectors = new Float32Array([0.5, -1, 0.25, 0, 0, 0, 10, 20, -30]);
    const table = decodeWordVectors(encodeWordVectors(header, ['alpha', 'blank', 'γάμμα'], vectors));
    expect(table.header).toEqual({ ...header, count: 3 });
    expect(table.words).toEqual(['alpha', 'blank', 'γάμμα']);
    expect(table.index.get('γάμμα')).toBe(2);
    const decoded = Array.from(table.vectors, (q, i) => q * table.scales[Math.floor(i / 3)]!);
    const maxAbs = [1, 0, 30];
    decoded.forEach((value, i) => {
      expect(Math.abs(value - vectors[i]!)).toBeLessThanOrEqual(maxAbs[Math.floor(i / 3)]! / 254 + 1e-6);
    });
    expect(table.scales[1]).toBe(0);
  });

  it('refuses files that are not word vectors, saying how to fix them', () => {
    expect(() => decodeWordVectors(Buffer.from('plain text'))).toThrow(/rebuild it with scripts\/build-embeddings/);
    expect(() => decodeWordVectors(gzipSync(Buffer.from('JUNKJUNKJUNKJUNK')))).toThrow(DataOpsError);
    const file = encodeWordVectors(header, ['alpha'], new Float32Array([1, 2, 3]));
    const truncated = gzipSync(gunzipSync(file).subarray(0, -1));
    expect(() => decodeWordVectors(truncated)).toThrow(/truncated/);
  });
});
