import { gunzipSync, gzipSync } from 'node:zlib';
import { DataOpsError } from '../../../core/errors.js';

/**
 * The shipped word-vector file: gzip over
 *   "DOWV" | u32 format version | u32 n + n bytes of JSON header | u32 n + n bytes of words joined by "\n"
 *   | padding to 4 bytes | f32 scale per word | i8 vector per word (dimensions bytes each)
 * All integers and floats little-endian. A word's vector is its int8 entries times its scale; the scale also
 * carries the word's frequency weight, so the embedder only has to add vectors up.
 */
const MAGIC = 'DOWV';
const FORMAT_VERSION = 1;

export interface WordVectorHeader {
  readonly modelId: string;
  readonly dimensions: number;
  readonly count: number;
  /** Where the vectors came from and under which licence; kept in the file so it travels with the data. */
  readonly source: string;
  /** How the source vectors were transformed, for whoever rebuilds or compares. */
  readonly processing: string;
}

export interface WordVectorTable {
  readonly header: WordVectorHeader;
  /** Most frequent first, so a word's row doubles as its frequency rank within the file. */
  readonly words: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly scales: Float32Array;
  readonly vectors: Int8Array;
}

/** Quantises float vectors (count x dimensions, row-major) to int8 with one scale per word, and gzips the result. */
export function encodeWordVectors(
  header: Omit<WordVectorHeader, 'count'>,
  words: readonly string[],
  vectors: Float32Array,
): Buffer {
  const { dimensions } = header;
  if (vectors.length !== words.length * dimensions) {
    throw new DataOpsError(
      'invalid_input',
      `Expected ${words.length * dimensions} vector entries, got ${vectors.length}`,
    );
  }
  const scales = new Float32Array(words.length);
  const quantised = new Int8Array(vectors.length);
  for (let w = 0; w < words.length; w++) {
    let maxAbs = 0;
    for (let d = 0; d < dimensions; d++) maxAbs = Math.max(maxAbs, Math.abs(vectors[w * dimensions + d]!));
    const scale = maxAbs / 127;
    scales[w] = scale;
    if (scale === 0) continue;
    for (let d = 0; d < dimensions; d++)
      quantised[w * dimensions + d] = Math.round(vectors[w * dimensions + d]! / scale);
  }
  const headerBytes = Buffer.from(JSON.stringify({ ...header, count: words.length }), 'utf8');
  const wordBytes = Buffer.from(words.join('\n'), 'utf8');
  const prefixLength = 4 + 4 + 4 + headerBytes.length + 4 + wordBytes.length;
  const padding = (4 - (prefixLength % 4)) % 4;
  const out = Buffer.alloc(prefixLength + padding + scales.byteLength + quantised.byteLength);
  let offset = out.write(MAGIC, 0, 'latin1');
  offset = out.writeUInt32LE(FORMAT_VERSION, offset);
  offset = out.writeUInt32LE(headerBytes.length, offset);
  offset += headerBytes.copy(out, offset);
  offset = out.writeUInt32LE(wordBytes.length, offset);
  offset += wordBytes.copy(out, offset) + padding;
  for (const scale of scales) offset = out.writeFloatLE(scale, offset);
  Buffer.from(quantised.buffer).copy(out, offset);
  // Level 9 costs only build time; the file is read far more often than it is written.
  return gzipSync(out, { level: 9 });
}

/** Reads a file written by encodeWordVectors. */
export function decodeWordVectors(file: Uint8Array): WordVectorTable {
  let data: Buffer;
  try {
    data = gunzipSync(file);
  } catch (error) {
    throw new DataOpsError(
      'internal',
      'The word-vector file is not gzip data; rebuild it with scripts/build-embeddings.ts',
      {
        cause: error,
      },
    );
  }
  if (data.length < 12 || data.toString('latin1', 0, 4) !== MAGIC) {
    throw new DataOpsError(
      'internal',
      'The word-vector file has an unknown format; rebuild it with scripts/build-embeddings.ts',
    );
  }
  const version = data.readUInt32LE(4);
  if (version !== FORMAT_VERSION) {
    throw new DataOpsError(
      'internal',
      `The word-vector file has format version ${version}; this code reads ${FORMAT_VERSION}`,
    );
  }
  let offset = 8;
  const headerLength = data.readUInt32LE(offset);
  offset += 4;
  const header = JSON.parse(data.toString('utf8', offset, offset + headerLength)) as WordVectorHeader;
  offset += headerLength;
  const wordLength = data.readUInt32LE(offset);
  offset += 4;
  const words = data.toString('utf8', offset, offset + wordLength).split('\n');
  offset += wordLength;
  offset += (4 - (offset % 4)) % 4;
  const { count, dimensions } = header;
  if (words.length !== count || data.length !== offset + count * 4 + count * dimensions) {
    throw new DataOpsError('internal', 'The word-vector file is truncated or inconsistent; rebuild it');
  }
  const scales = new Float32Array(count);
  for (let w = 0; w < count; w++) scales[w] = data.readFloatLE(offset + w * 4);
  offset += count * 4;
  // Copy so the table does not pin the decompressed buffer, and so the typed array owns aligned memory.
  const vectors = new Int8Array(
    data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + count * dimensions),
  );
  const index = new Map<string, number>();
  for (let w = 0; w < count; w++) index.set(words[w]!, w);
  return { header, words, index, scales, vectors };
}
