import type { SearchFilters } from '../../../mcp-server/catalog/schemas.js';
import { identifierWords } from '../../../mcp-server/catalog/words.js';
import type { Estate } from './generate-estate.js';
import { createRng, type Rng } from './prng.js';
import { domains, splitSpec } from './vocabulary.js';

export type QueryCategory = 'exact' | 'qualified' | 'partial' | 'typo' | 'semantic' | 'filtered' | 'question';

export interface BenchQuery {
  category: QueryCategory;
  query: string;
  filters?: SearchFilters;
  /** For exact-name queries: the name that should come back first. */
  expectName?: string;
}

const semantic = [
  'expenditure',
  'spending on suppliers',
  'troop readiness',
  'aircraft repairs',
  'soldier pay',
  'weapons training scores',
  'hospital visits',
  'software vulnerabilities',
  'building energy use',
  'fuel consumption',
  'enemy forces',
  'hiring',
  'program cost overruns',
  'vaccinations',
  'warehouse stock',
];

const questions = [
  'where is contract spend data?',
  'which tables hold security clearance status for civilian employees',
  'how many vehicles are deadlined waiting for parts',
  'what data do we have on vendor invoices paid late',
  'show me unit readiness ratings by month',
  'top vendors by obligated dollars this fiscal year',
  'which units are not deployable because of medical readiness',
  'open critical vulnerabilities on network hosts',
  'fuel issued to aviation units overseas',
  'contract modifications that increased the ceiling value',
  'backorders for class IX repair parts at the depot',
  'personnel with expiring security clearances',
];

/** Misspells a word the way people do: a dropped, doubled or swapped letter. */
function typo(rng: Rng, text: string): string {
  const letters = [...text];
  const positions = letters.map((c, i) => (/[a-z]/.test(c) && i > 0 ? i : -1)).filter((i) => i >= 0);
  if (positions.length < 3) return text;
  const i = rng.pick(positions);
  switch (rng.int(0, 2)) {
    case 0:
      letters.splice(i, 1);
      break;
    case 1:
      letters.splice(i, 0, letters[i]!);
      break;
    default:
      if (i + 1 < letters.length) [letters[i], letters[i + 1]] = [letters[i + 1]!, letters[i]!];
  }
  return letters.join('');
}

/** A deterministic query set drawn from the estate and its vocabulary: ~90 queries in seven categories. */
export function buildQueries(estate: Estate, seed: number): BenchQuery[] {
  const rng = createRng(seed);
  const all = estate.sources.flatMap((s) => s.assets.map((a) => ({ source: s.name, asset: a })));
  const entities = domains.flatMap((d) => d.entities.map((e) => splitSpec(e)[0]));
  const queries: BenchQuery[] = [];
  for (const { asset } of rng.sample(all, 12)) {
    queries.push({ category: 'exact', query: asset.name, expectName: asset.name });
  }
  for (const { asset } of rng.sample(all, 4)) {
    queries.push({ category: 'qualified', query: `${asset.namespace}.${asset.name}`, expectName: asset.name });
  }
  for (const entity of rng.sample(entities, 12)) {
    const words = identifierWords(entity).split(' ');
    // Half the time a single word of a multi-word name ("inventory"), otherwise the words spelt out.
    queries.push({ category: 'partial', query: rng.chance(0.5) ? rng.pick(words) : words.join(' ') });
  }
  for (const entity of rng.sample(entities, 8)) queries.push({ category: 'typo', query: typo(rng, entity) });
  for (const { asset } of rng.sample(all, 4)) queries.push({ category: 'typo', query: typo(rng, asset.name) });
  for (const q of semantic) queries.push({ category: 'semantic', query: q });
  const owners = [...new Set(domains.flatMap((d) => d.systems.map((s) => s.owner)))];
  const sourceNames = estate.sources.map((s) => s.name);
  for (let i = 0; i < 12; i++) {
    const query = rng.chance(0.5) ? rng.pick(semantic) : identifierWords(rng.pick(entities));
    const filters: SearchFilters[] = [
      { source: rng.pick(sourceNames) },
      { kind: 'view' },
      { owner: rng.pick(owners) },
      { source: rng.pick(sourceNames), kind: 'table' },
    ];
    queries.push({ category: 'filtered', query, filters: filters[i % filters.length] });
  }
  for (const q of questions) queries.push({ category: 'question', query: q });
  return queries;
}
