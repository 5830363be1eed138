import { DataOpsError } from '../../../core/errors.js';
import type { ServiceContext } from '../../context.js';
import { type Dataset, type KeyEdge, matchedWords, relevance } from './suggest-catalog.js';
import type { Goal } from './suggest-goal.js';
import type { GraphBuilder } from './suggest-graph.js';

/**
 * What `suggest.ts` hands its planners (aggregate, combine) and the helpers they share, apart so the planners
 * need not import the module that calls them.
 */

/** The join graph of one source as the caller may see it, loaded once per proposal. */
export interface SourceGraph {
  datasets: Dataset[];
  edges: KeyEdge[];
  byId: Map<string, Dataset>;
}

/** What planning a mode hands back: the main dataset, the others used, and the node the destination reads. */
export interface Plan {
  main: Dataset;
  used: { dataset: Dataset; role: 'joined' | 'link' }[];
  last: string;
}

/** Everything a planner shares: the goal, the graph being built, the explanation and the catalog look-ups. */
export interface Planning {
  ctx: ServiceContext;
  goal: Goal;
  explicit: Dataset[];
  builder: GraphBuilder;
  explain: string[];
  /** What was searched for, for the error when nothing fits. */
  searched: string[];
  search(words: string[]): Promise<Dataset[]>;
  sourceGraph(sourceId: string): Promise<SourceGraph>;
}

/** The error for a goal whose words find nothing usable: what was searched, and how to name datasets instead. */
export function nothingMatches(planning: Planning, why?: string): DataOpsError {
  const searched = planning.searched.length
    ? `searched the catalog for ${planning.searched.map((s) => `"${s}"`).join(', ')}`
    : 'the goal has no words to search the catalog for';
  return new DataOpsError(
    'not_found',
    `no table or view you may see fits the goal "${planning.goal.text}" (${searched}${why ? `; ${why}` : ''}). ` +
      'Name the datasets to use with `datasets` (their URNs, from catalog_search), or use words from their names, tags or descriptions.',
  );
}

/** The best of `candidates` for `words`: most relevant, then best ranked by the search. */
export function best(candidates: Dataset[], words: string[], weight?: (word: string) => number): Dataset | undefined {
  return [...candidates].sort(
    (a, b) =>
      relevance(b, words, weight) - relevance(a, words, weight) || a.rank - b.rank || a.urn.localeCompare(b.urn),
  )[0];
}

/** "contracts.payments (matches contract, spend)". */
export function describeMatch(d: Dataset, words: string[]): string {
  const matched = matchedWords(d, words);
  const unmatched = words.filter((w) => !matched.includes(w));
  const holds = matched.length
    ? `its name, tags, description or columns hold ${matched.map((w) => `"${w}"`).join(', ')}`
    : '';
  const lacks = unmatched.length ? `none you may see fits ${unmatched.map((w) => `"${w}"`).join(', ')} better` : '';
  return `${d.namespace}.${d.name}${holds || lacks ? ` (${[holds, lacks].filter(Boolean).join('; ')})` : ''}`;
}
