import { expandAbbreviation } from './abbreviations.js';
import { STOP_WORDS } from './tokenize.js';

/** Maps one token to the vocabulary words that stand for it; an empty list when none do. */
export type WordLookup = (token: string) => readonly string[];

const NONE: readonly string[] = [];
// Names rarely glue more than three words ("unitsinstock", "shiptoaddress").
const MAX_COMPOUND_PARTS = 3;
// Short or rare content words split unknown names into noise ("chowder" -> chow + der, "preparadas" -> prep +
// arad + as), so a glued piece must have four letters and be among the most frequent words.
const MIN_COMPOUND_WORD = 4;
const MAX_COMPOUND_RANK = 25_000;
// Longer unknown tokens are hashes or encoded values, and the number of splits grows with the square of length.
const MAX_COMPOUND_LENGTH = 32;
// Unique tokens are bounded in practice (catalog names repeat), but a bound keeps a long-lived process flat.
const MAX_CACHED_TOKENS = 100_000;

/**
 * Builds the fallback chain for tokens: abbreviation expansion, the word itself, then its base form without
 * a plural, -ed or -ing ending, then a split of glued words ("orderdate" -> order, date). Results are cached.
 */
export function createWordLookup(rankOf: (word: string) => number | undefined): WordLookup {
  const isKnown = (word: string) => rankOf(word) !== undefined;
  const cache = new Map<string, readonly string[]>();

  const single = (token: string): readonly string[] => {
    const expansion = expandAbbreviation(token);
    if (expansion !== undefined) return expansion;
    if (isKnown(token)) return [token];
    const base = baseForms(token).find(isKnown);
    return base === undefined ? NONE : [base];
  };

  // A piece of a glued name: an abbreviation, a function word ("by" in "updatedby"), or a common word.
  const piece = (text: string): readonly string[] => {
    if (expandAbbreviation(text) !== undefined || STOP_WORDS.has(text)) return single(text);
    if (text.length < MIN_COMPOUND_WORD) return NONE;
    const words = single(text);
    const common = (word: string) =>
      word.length >= MIN_COMPOUND_WORD && (rankOf(word) ?? Number.POSITIVE_INFINITY) < MAX_COMPOUND_RANK;
    return words.every(common) ? words : NONE;
  };

  /** All ways to cut `token` into known pieces, each as its list of pieces. */
  const segmentations = (token: string, parts: number): string[][] => {
    const whole = piece(token).length > 0 ? [[token]] : [];
    if (parts < 2) return whole;
    const cuts: string[][] = [];
    for (let cut = 2; cut <= token.length - 2; cut++) {
      const left = token.slice(0, cut);
      if (piece(left).length === 0) continue;
      for (const rest of segmentations(token.slice(cut), parts - 1)) cuts.push([left, ...rest]);
    }
    return [...whole, ...cuts];
  };

  // Fewest pieces first, then the split whose shortest content piece is longest ("tablespace" -> table + space,
  // not tables + pace); a split made only of function words means nothing.
  const compound = (token: string): readonly string[] => {
    let best: { pieces: string[]; shortest: number } | undefined;
    for (const pieces of segmentations(token, MAX_COMPOUND_PARTS)) {
      const content = pieces.filter((p) => !STOP_WORDS.has(p));
      if (content.length === 0) continue;
      const shortest = Math.min(...content.map((p) => p.length));
      if (
        best === undefined ||
        pieces.length < best.pieces.length ||
        (pieces.length === best.pieces.length && shortest > best.shortest)
      ) {
        best = { pieces, shortest };
      }
    }
    return best === undefined ? NONE : best.pieces.flatMap(single);
  };

  return (token) => {
    const cached = cache.get(token);
    if (cached !== undefined) return cached;
    let words = single(token);
    const gluable = token.length >= 6 && token.length <= MAX_COMPOUND_LENGTH && /^\p{L}+$/u.test(token);
    if (words.length === 0 && gluable) words = compound(token);
    if (cache.size >= MAX_CACHED_TOKENS) cache.clear();
    cache.set(token, words);
    return words;
  };
}

/** Candidate base forms of an inflected word, most likely first. */
export function baseForms(token: string): string[] {
  const forms: string[] = [];
  const undouble = (stem: string) => (/([b-df-hj-np-tv-z])\1$/.test(stem) ? stem.slice(0, -1) : undefined);
  if (token.length > 4 && token.endsWith('ies')) forms.push(`${token.slice(0, -3)}y`);
  if (token.length > 4 && token.endsWith('es')) forms.push(token.slice(0, -2));
  if (token.length > 3 && token.endsWith('s') && !token.endsWith('ss')) forms.push(token.slice(0, -1));
  if (token.length > 4 && token.endsWith('ied')) forms.push(`${token.slice(0, -3)}y`);
  if (token.length > 4 && token.endsWith('ed')) {
    const stem = token.slice(0, -2);
    forms.push(stem, `${stem}e`);
    const single = undouble(stem);
    if (single) forms.push(single);
  }
  if (token.length > 5 && token.endsWith('ing')) {
    const stem = token.slice(0, -3);
    forms.push(stem, `${stem}e`);
    const single = undouble(stem);
    if (single) forms.push(single);
  }
  return forms;
}
