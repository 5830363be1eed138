import { cutIdentifier } from '../identifiers.js';
import type { NodeConfig } from '../nodes/index.js';
import { type Dataset, type DatasetColumn, type KeyEdge, labelColumn, relevance } from './suggest-catalog.js';
import { nameMeasure, pickAmount, pickDate, statusFilter } from './suggest-columns.js';
import { singular, variants, wordsOf } from './suggest-goal.js';
import { ident, literal } from './suggest-graph.js';
import { describeMatch, nothingMatches, type Plan, type Planning, type SourceGraph } from './suggest-planning.js';

/** How rows are grouped for "by <entity>": a column of the main dataset, or a table reached through keys. */
type Grouping =
  | { kind: 'column'; column: DatasetColumn }
  | {
      kind: 'table';
      table: Dataset;
      path: KeyEdge[];
      label: DatasetColumn | undefined;
      /** Other keys of the measured dataset that reach the first table on the way ("destination_depot_id"). */
      alternatives: string[];
    };

interface Candidate {
  fact: Dataset;
  date: DatasetColumn | null;
  amount: DatasetColumn | null;
  grouping: Grouping | null;
  score: number;
}

/**
 * "monthly contract spend by vendor": the dataset holding the measured rows (a date for the period, an
 * amount for the measure, a way to the grouping), reached tables joined along foreign keys towards the
 * grouping's table (each hop many-to-one, so no row is counted twice), the period derived, then grouped.
 */
export async function planAggregate(planning: Planning): Promise<Plan> {
  const { goal, explicit, explain } = planning;
  const measure = goal.measure!;
  const weight = (word: string) => (variants(measure.word).has(singular(word)) ? 2 : 1);
  const facts = explicit.length ? explicit : await planning.search(goal.subject.length ? goal.subject : goal.groupBy);
  const entities = goal.groupBy.length ? await entityTables(planning) : [];
  const needsAmount = measure.fn !== 'count';
  const candidates: Candidate[] = [];
  const missing = new Set<string>();
  for (const fact of facts) {
    const date = goal.grain ? pickDate(fact, goal.subject, measure) : null;
    const amount = needsAmount ? pickAmount(fact, goal.subject, measure.word) : null;
    if (goal.grain && !date) missing.add(`a date column for "${goal.grainWord}"`);
    if (needsAmount && !amount) missing.add(`an amount column to ${measure.fn === 'sum' ? 'add up' : measure.fn}`);
    if ((goal.grain && !date) || (needsAmount && !amount)) continue;
    let grouping: Grouping | null = null;
    if (goal.groupBy.length) {
      grouping = await findGrouping(planning, fact, entities);
      if (!grouping) {
        missing.add(`a way from the data to "${goal.groupBy.join(' ')}"`);
        continue;
      }
    }
    candidates.push({ fact, date, amount, grouping, score: relevance(fact, goal.subject, weight) });
  }
  const chosen = candidates.sort((a, b) => b.score - a.score || a.fact.rank - b.fact.rank)[0];
  if (!chosen) {
    throw nothingMatches(
      planning,
      facts.length ? `none of the ${facts.length} found has ${[...missing].join(' and ')}` : undefined,
    );
  }
  const { fact } = chosen;
  const others = candidates.filter((c) => c !== chosen).map((c) => `${c.fact.namespace}.${c.fact.name}`);
  explain.push(
    `Take the rows to measure from ${describeMatch(fact, goal.subject)}${explicit.length ? ', as named' : ''}` +
      (others.length
        ? `; it fits the goal's words best of those that could (also possible: ${others.join(', ')})`
        : '') +
      '.',
  );
  return build(planning, chosen, await statusFilter(planning, fact, measure.word));
}

async function build(
  planning: Planning,
  { fact, date, amount, grouping }: Candidate,
  status: { column: string; value: string } | null,
): Promise<Plan> {
  const { goal, builder, explain } = planning;
  const measure = goal.measure!;
  let last = builder.add('source_dataset', fact.name, `${fact.namespace}.${fact.name}`, { urn: fact.urn });
  if (status) {
    last = builder.add(
      'filter',
      `${singular(status.value.toLowerCase()).replace(/\W+/g, '_')}_only`,
      `Only ${status.column} ${status.value}`,
      { condition: `${ident(status.column)} = ${literal(status.value)}` },
      [{ from: last }],
    );
  }
  const names = new Set(fact.columns.map((c) => c.name));
  let period: string | null = null;
  if (goal.grain && date) {
    period = names.has(goal.grain) ? `${goal.grain}_start` : goal.grain;
    last = builder.add(
      'derive',
      'period',
      `${goal.grain} of ${date.name}`,
      { columns: [{ name: period, expression: `cast(date_trunc('${goal.grain}', ${ident(date.name)}) as date)` }] },
      [{ from: last }],
    );
    explain.push(
      `"${goal.grainWord}" → derive \`${period}\`, the first day of the ${goal.grain} of \`${date.name}\` (date_trunc), and group by it.`,
    );
  }
  // Only what the rest needs travels on: the keys to join, the period, the amount, the grouping column.
  const path = grouping?.kind === 'table' ? grouping.path : [];
  const keep = [
    ...(path[0]?.fromColumns ?? []),
    ...(grouping?.kind === 'column' ? [grouping.column.name] : []),
    ...(period ? [period] : []),
    ...(amount ? [amount.name] : []),
  ];
  const flowing = new Set(keep);
  if (flowing.size > 0) {
    last = builder.add(
      'select',
      `${fact.name}_columns`,
      `Keep ${[...flowing].join(', ')}`,
      { columns: [...flowing].map((column) => ({ column })) },
      [{ from: last }],
    );
  }
  let groupKeys: string[] = grouping?.kind === 'column' ? [grouping.column.name] : [];
  let label: string | null = null;
  const graph = grouping?.kind === 'table' ? await planning.sourceGraph(fact.sourceId) : null;
  // The columns of the table last joined, by the name they flow under (a right key takes its left key's name).
  let flowName = new Map<string, string>();
  for (const [i, hop] of path.entries()) {
    const table = graph!.byId.get(hop.to)!;
    const from = i === 0 ? fact : graph!.byId.get(hop.from)!;
    const leftNames = hop.fromColumns.map((c) => flowName.get(c) ?? c);
    const names = new Map(hop.toColumns.map((c, k) => [c, leftNames[k]!]));
    const columns: { column: string; as: string }[] = hop.toColumns.map((c, k) => ({ column: c, as: leftNames[k]! }));
    // Anything else this table brings gets its own name when one like it already flows.
    const bring = (column: string) => {
      if (names.has(column)) return names.get(column)!;
      const as = flowing.has(column) ? cutIdentifier(`${singular(table.name)}_${column}`) : column;
      names.set(column, as);
      columns.push({ column, as });
      return as;
    };
    for (const c of path[i + 1]?.fromColumns ?? []) bring(c);
    const isEntity = i === path.length - 1;
    if (isEntity && grouping?.kind === 'table' && grouping.label) label = bring(grouping.label.name);
    const source = builder.add('source_dataset', table.name, `${table.namespace}.${table.name}`, { urn: table.urn });
    const slim = builder.add(
      'select',
      `${table.name}_columns`,
      `Keep ${columns.map((c) => c.as).join(', ')}`,
      { columns: columns.map((c) => (c.as !== c.column ? c : { column: c.column })) },
      [{ from: source }],
    );
    last = builder.add(
      'join',
      `join_${table.name}`,
      `Join ${table.name}`,
      { kind: 'inner', on: leftNames.map((c) => ({ left: c, right: c })) },
      [
        { from: last, handle: 'left' },
        { from: slim, handle: 'right' },
      ],
    );
    for (const c of columns) flowing.add(c.as);
    explain.push(
      `Join ${table.namespace}.${table.name} on ${hop.fromColumns.map((c, k) => `${from.name}.${c} = ${table.name}.${hop.toColumns[k]}`).join(' and ')} ` +
        `(${hop.how === 'foreign key' ? `foreign key ${hop.name}` : `the view's ${hop.fromColumns.join(', ')} is ${table.name}'s key, by its lineage`}); ` +
        'each row finds at most one match, so nothing is counted twice.',
    );
    if (isEntity) groupKeys = leftNames;
    if (i === 0 && grouping?.kind === 'table' && grouping.alternatives.length) {
      explain.push(
        `${fact.name} also reaches ${table.name} through ${grouping.alternatives.join('; ')}: ${hop.fromColumns.join(', ')} is used, ` +
          'so change the select and join nodes to go through another.',
      );
    }
    flowName = names;
  }
  const groupBy = [...groupKeys, ...(label ? [label] : []), ...(period ? [period] : [])];
  const measureName = nameMeasure(measure, amount, fact, new Set(groupBy));
  const measureConfig: NodeConfig<'aggregate'>['measures'][number] =
    measure.fn === 'count'
      ? { name: measureName, fn: 'count' }
      : { name: measureName, fn: measure.fn, column: amount!.name };
  last = builder.add(
    'aggregate',
    'aggregate',
    `${measure.fn} by ${groupBy.join(', ') || 'everything'}`,
    { groupBy, measures: [measureConfig] },
    [{ from: last }],
  );
  const by = groupBy.length ? ` per ${groupBy.map((g) => `\`${g}\``).join(', ')}` : ' over all rows';
  explain.push(
    measure.fn === 'count'
      ? `${measure.word ? `"${measure.word}" →` : 'No measure is named, so'} count the rows${by} as \`${measureName}\`.`
      : `"${measure.word}" → ${measure.fn} of \`${amount!.name}\`${by} as \`${measureName}\`.`,
  );
  if (grouping?.kind === 'table') {
    explain.push(
      `"by ${goal.groupBy.join(' ')}" → group by the key of ${grouping.table.name}, \`${groupKeys.join(', ')}\`` +
        (label
          ? ` and its name \`${label}\`, so each row says who it is.`
          : ' (it has no name column to show beside it).'),
    );
  } else if (grouping?.kind === 'column') {
    explain.push(`"by ${goal.groupBy.join(' ')}" → group by the column \`${grouping.column.name}\`.`);
  }
  const order = [...(period ? [period] : []), ...(label ? [label] : groupKeys)];
  if (order.length) {
    last = builder.add(
      'sort',
      'sort',
      `Order by ${order.join(', ')}`,
      { by: order.map((column) => ({ column, direction: 'asc' as const })) },
      [{ from: last }],
    );
  }
  const used = path.map((hop, i) => ({
    dataset: graph!.byId.get(hop.to)!,
    role: i === path.length - 1 ? ('joined' as const) : ('link' as const),
  }));
  return { main: fact, used, last };
}

/** Tables whose name is the grouping ("vendor" → vendors), with a primary key to group by. */
async function entityTables(planning: Planning): Promise<Dataset[]> {
  const { goal, explicit } = planning;
  const wanted = goal.groupBy.join('_');
  const named = (d: Dataset) =>
    d.columns.some((c) => c.isPrimaryKey) &&
    [singular(d.name), d.name].some((n) => n === wanted || singular(n) === singular(goal.groupBy.at(-1)!));
  const fromExplicit = explicit.filter(named);
  if (fromExplicit.length) return fromExplicit;
  return (await planning.search(goal.groupBy)).filter(named);
}

/** A column of the fact named like the grouping ("payment system" → payment_system), or a path to its table. */
async function findGrouping(planning: Planning, fact: Dataset, entities: Dataset[]): Promise<Grouping | null> {
  const words = planning.goal.groupBy;
  const graph = await planning.sourceGraph(fact.sourceId);
  let shortest: { table: Dataset; path: KeyEdge[] } | null = null;
  for (const table of entities.filter((e) => e.sourceId === fact.sourceId && e.id !== fact.id)) {
    const path = manyToOnePath(graph, fact.id, table.id);
    if (path && (!shortest || path.length < shortest.path.length)) shortest = { table, path };
  }
  if (shortest) {
    const first = shortest.path[0]!;
    const alternatives = graph.edges
      .filter((e) => e.from === fact.id && e.to === first.to && e !== first)
      .map((e) => e.fromColumns.join(', '));
    return { kind: 'table', ...shortest, label: labelColumn(shortest.table, words.join('_')), alternatives };
  }
  const snake = words.join('_');
  const column =
    fact.columns.find((c) => c.name === snake || c.name === `${snake}_name` || c.name === `${snake}_id`) ??
    fact.columns.find((c) => {
      const own = wordsOf(c.name).map(singular);
      return own.length >= words.length && own.slice(-words.length).join('_') === snake;
    });
  return column ? { kind: 'column', column } : null;
}

/** The shortest way from `from` to `to` along foreign keys, each hop from the referencing to the referenced table. */
function manyToOnePath(graph: SourceGraph, from: string, to: string): KeyEdge[] | null {
  const reached = new Map<string, KeyEdge[]>([[from, []]]);
  const queue = [from];
  while (queue.length) {
    const at = queue.shift()!;
    if (at === to) return reached.get(at)!;
    for (const edge of graph.edges.filter((e) => e.from === at && !reached.has(e.to))) {
      reached.set(edge.to, [...reached.get(at)!, edge]);
      queue.push(edge.to);
    }
  }
  return null;
}
