/**
 * What a goal in words asks for, read without a model: a time grain ("monthly"), a grouping ("by vendor"),
 * a measure ("spend", "count", "average") or a combination ("combine X with Y"), and the words left over
 * that name the data. Deterministic on purpose: the same goal always proposes the same pipeline.
 */

export type Grain = 'day' | 'week' | 'month' | 'quarter' | 'year';
export type MeasureFn = 'sum' | 'count' | 'avg' | 'min' | 'max';

export interface Goal {
  text: string;
  /** `aggregate` groups and measures; `combine` joins without aggregating; `list` passes one dataset through. */
  mode: 'aggregate' | 'combine' | 'list';
  grain: Grain | null;
  /** The word that set the grain, for the explanation ("monthly"). */
  grainWord: string | null;
  /** The measure and the word that asked for it (empty when none was named and rows are counted). */
  measure: { fn: MeasureFn; word: string } | null;
  /** What follows "by" / "per" (not a grain): the words of the grouping, e.g. ["vendor"] or ["payment", "system"]. */
  groupBy: string[];
  /** The words that name the data (grain, grouping, measure verbs and filler removed), singular. */
  subject: string[];
  /** For `combine`: the words of each thing combined, in the order named. */
  parts: string[][];
}

const grains: Record<string, Grain> = {
  daily: 'day',
  day: 'day',
  days: 'day',
  weekly: 'week',
  week: 'week',
  weeks: 'week',
  monthly: 'month',
  month: 'month',
  months: 'month',
  quarterly: 'quarter',
  quarter: 'quarter',
  quarters: 'quarter',
  yearly: 'year',
  annual: 'year',
  annually: 'year',
  year: 'year',
  years: 'year',
};

/** Words that ask for a measure; nouns among them (spend, cost…) also name the data and stay in the subject. */
const measureWords: Record<string, MeasureFn> = {
  count: 'count',
  number: 'count',
  many: 'count',
  average: 'avg',
  avg: 'avg',
  mean: 'avg',
  minimum: 'min',
  lowest: 'min',
  maximum: 'max',
  highest: 'max',
  sum: 'sum',
  total: 'sum',
  totals: 'sum',
  spend: 'sum',
  spent: 'sum',
  spending: 'sum',
  cost: 'sum',
  costs: 'sum',
  revenue: 'sum',
  value: 'sum',
  amount: 'sum',
  amounts: 'sum',
};
const measureNouns = new Set(['spend', 'spent', 'spending', 'cost', 'costs', 'revenue', 'value', 'amount', 'amounts']);
const combineWords = new Set(['combine', 'combined', 'join', 'joined', 'merge', 'merged', 'enrich', 'enriched']);
const filler = new Set(
  `a an the of for by per each every with and or in on to from all me my our show list get give build make create
  compute calculate pipeline table tables data dataset datasets information info details detail records record
  how what which is are was were that this their its into along alongside together including plus`.split(/\s+/),
);

/**
 * A few families of words that name the same thing in data about money, suppliers and assessments. Deliberately
 * short: a word outside them is matched as it is written (singular and plural alike).
 */
const synonyms: string[][] = [
  ['spend', 'spent', 'spending', 'paid', 'pay', 'payment', 'disbursement', 'expenditure', 'expense'],
  ['obligation', 'obligated', 'commitment'],
  ['vendor', 'supplier', 'contractor'],
  ['rating', 'score', 'scorecard', 'evaluation', 'assessment'],
  ['employee', 'person', 'people', 'personnel', 'staff'],
];

/** A word's singular, as far as English plurals in table and column names go. */
export function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}

/** Lower-case words of a name, description or tag, split on anything not a letter or digit (and on `_`). */
export function wordsOf(text: string | null | undefined): string[] {
  return (text ?? '').toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** The word and the words of its synonym family, all singular. */
export function variants(word: string): Set<string> {
  const base = singular(word);
  const family = synonyms.find((f) => f.some((w) => singular(w) === base));
  return new Set([base, ...(family ?? []).map(singular)]);
}

/** Whether a text's words hold `word` or one of its synonyms. */
export function mentions(words: string[], word: string): boolean {
  const wanted = variants(word);
  return words.some((w) => wanted.has(singular(w)));
}

export function parseGoal(text: string): Goal {
  const words = wordsOf(text);
  let grain: Grain | null = null;
  let grainWord: string | null = null;
  const groupBy: string[] = [];
  const skip = new Set<number>();
  for (const [i, word] of words.entries()) {
    if (!grain && grains[word] && words[i - 1] !== 'fiscal') {
      grain = grains[word];
      grainWord = word;
      skip.add(i);
    }
    // "by vendor", "per payment system": the grouping runs to the next filler word or the end.
    if ((word === 'by' || word === 'per' || (word === 'each' && words[i - 1] === 'for')) && groupBy.length === 0) {
      let j = i + 1;
      if (words[j] && grains[words[j]!]) continue;
      const isGrain = (k: number) => grains[words[k]!] !== undefined && words[k - 1] !== 'fiscal';
      while (words[j] && !filler.has(words[j]!) && !isGrain(j) && !measureWords[words[j]!]) {
        groupBy.push(singular(words[j]!));
        skip.add(j);
        j++;
      }
    }
  }
  const combine = words.some((w) => combineWords.has(w));
  let measure: Goal['measure'] = null;
  for (const [i, word] of words.entries()) {
    if (skip.has(i) || !measureWords[word]) continue;
    // "number of", "how many": a count; "number" alone is a column name as likely as a request.
    if (word === 'number' && words[i + 1] !== 'of') continue;
    if (word === 'many' && words[i - 1] !== 'how') continue;
    measure = { fn: measureWords[word]!, word };
    // A verb-like measure ("total", "average") wins over a noun seen first ("amount"): keep looking for one.
    if (!measureNouns.has(word)) break;
  }
  const subject = words
    .filter((w, i) => !skip.has(i) && !filler.has(w) && !combineWords.has(w))
    .filter((w) => !measureWords[w] || measureNouns.has(w))
    .map(singular);
  const mode = combine ? 'combine' : grain || groupBy.length || measure ? 'aggregate' : 'list';
  return {
    text,
    mode,
    grain,
    grainWord,
    // A grouping with no measure named counts rows; `word` stays empty, since the goal did not say "count".
    measure: mode === 'aggregate' ? (measure ?? (grain || groupBy.length ? { fn: 'count', word: '' } : null)) : null,
    groupBy,
    subject: [...new Set(subject)],
    parts: mode === 'combine' ? combineParts(words) : [],
  };
}

/** "combine contract data with vendor performance ratings" → [["contract"], ["vendor", "performance", "rating"]]. */
function combineParts(words: string[]): string[][] {
  const parts: string[][] = [[]];
  for (const word of words) {
    if (combineWords.has(word)) continue;
    if (['with', 'and', 'to', 'plus', 'alongside', 'including'].includes(word)) {
      if (parts.at(-1)!.length) parts.push([]);
      continue;
    }
    if (!filler.has(word)) parts.at(-1)!.push(singular(word));
  }
  return parts.filter((p) => p.length > 0);
}

/** A snake_case table name from a goal: its words minus verbs of asking, at most 63 characters. */
export function tableNameFor(text: string): string {
  const drop = new Set([...combineWords, 'show', 'list', 'get', 'give', 'me', 'build', 'make', 'create', 'compute']);
  const words = wordsOf(text).filter((w) => !drop.has(w) && w !== 'data' && w !== 'the' && w !== 'a');
  let name = words.join('_').slice(0, 63).replace(/_+$/, '');
  if (!name) return 'suggested_output';
  if (!/^[a-z]/.test(name)) name = `t_${name}`.slice(0, 63).replace(/_+$/, '');
  return name;
}
