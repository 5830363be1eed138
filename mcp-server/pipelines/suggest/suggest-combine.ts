import { DataOpsError } from '../../../core/errors.js';
import { cutIdentifier } from '../identifiers.js';
import type { Dataset, KeyEdge } from './suggest-catalog.js';
import { singular } from './suggest-goal.js';
import { best, describeMatch, nothingMatches, type Plan, type Planning, type SourceGraph } from './suggest-planning.js';

/** One join along the way from what already flows to a dataset: `at` is in the flow, `next` joins it. */
interface Step {
  at: Dataset;
  next: Dataset;
  atColumns: string[];
  nextColumns: string[];
  /** Why these columns join: a foreign key or a view column carrying a key, or two keys pointing at one table. */
  because: string;
  /** `next` holds the key of `at` (one `at` row may meet many `next` rows). */
  fanOut: boolean;
}

/**
 * "combine contract data with vendor performance ratings": the dataset that fits each part of the goal, the
 * first one kept whole and every other joined to it (a left join, so no row of the first is lost) along the
 * shortest chain of keys; a table met on the way brings only its keys, and a column name met twice is
 * prefixed with its table's name.
 */
export async function planCombine(planning: Planning): Promise<Plan> {
  const { goal, explicit, builder, explain } = planning;
  const chosen: { dataset: Dataset; words: string[] }[] = explicit.map((dataset) => ({ dataset, words: [] }));
  if (chosen.length === 0) {
    for (const words of goal.parts.length ? goal.parts : [goal.subject]) {
      const first = chosen[0]?.dataset;
      const found = (await planning.search(words)).filter(
        (d) => !chosen.some((c) => c.dataset.id === d.id) && (!first || d.sourceId === first.sourceId),
      );
      const pick = best(found, words);
      if (pick) chosen.push({ dataset: pick, words });
      else if (!first) throw nothingMatches(planning, `nothing fits "${words.join(' ')}"`);
      else
        explain.push(
          `Nothing you may see in the database of ${first.name} fits "${words.join(' ')}", so it is left out.`,
        );
    }
  }
  const main = chosen[0]!.dataset;
  const graph = await planning.sourceGraph(main.sourceId);
  explain.push(
    explicit.length
      ? `Start from ${main.namespace}.${main.name}, the first dataset named, and keep all its rows.`
      : `"${chosen[0]!.words.join(' ')}" → start from ${describeMatch(main, chosen[0]!.words)} and keep all its rows.`,
  );
  let last = builder.add('source_dataset', main.name, `${main.namespace}.${main.name}`, { urn: main.urn });
  if (main.hiddenColumns > 0) {
    last = builder.add(
      'select',
      `${main.name}_columns`,
      `Keep the columns you may see`,
      { columns: main.columns.map((c) => ({ column: c.name })) },
      [{ from: last }],
    );
  }
  const flowing = new Set(main.columns.map((c) => c.name));
  const flowNames = new Map([[main.id, new Map(main.columns.map((c) => [c.name, c.name]))]]);
  const used: Plan['used'] = [];
  for (const { dataset: target, words } of chosen.slice(1)) {
    const steps = stepsTo(graph, [...flowNames.keys()], target);
    if (!steps) {
      throw new DataOpsError(
        'invalid_input',
        `${main.namespace}.${main.name} and ${target.namespace}.${target.name} share no key: no foreign key or view column carrying a key links them ` +
          'through tables you may see. Name datasets that are linked with `datasets`, or join them by hand with pipelines_add_node.',
      );
    }
    if (!explicit.length) explain.push(`"${words.join(' ')}" → ${describeMatch(target, words)}.`);
    for (const [i, step] of steps.entries()) {
      const whole = step.next.id === target.id;
      const leftNames = step.atColumns.map((c) => flowNames.get(step.at.id)!.get(c)!);
      const names = new Map(step.nextColumns.map((c, k) => [c, leftNames[k]!]));
      const columns = step.nextColumns.map((c, k) => ({ column: c, as: leftNames[k]! }));
      // The target brings every column you may see; a table on the way brings the keys of the next step only.
      const wanted = whole ? step.next.columns.map((c) => c.name) : steps[i + 1]!.atColumns;
      for (const column of wanted) {
        if (names.has(column)) continue;
        const as = flowing.has(column) ? cutIdentifier(`${singular(step.next.name)}_${column}`) : column;
        names.set(column, as);
        columns.push({ column, as });
      }
      const source = builder.add('source_dataset', step.next.name, `${step.next.namespace}.${step.next.name}`, {
        urn: step.next.urn,
      });
      const slim = builder.add(
        'select',
        `${step.next.name}_columns`,
        whole ? `Columns of ${step.next.name}` : `Keys of ${step.next.name}`,
        { columns: columns.map((c) => (c.as !== c.column ? c : { column: c.column })) },
        [{ from: source }],
      );
      last = builder.add(
        'join',
        `join_${step.next.name}`,
        `Add ${step.next.name}`,
        { kind: 'left', on: leftNames.map((c) => ({ left: c, right: c })) },
        [
          { from: last, handle: 'left' },
          { from: slim, handle: 'right' },
        ],
      );
      for (const c of columns) flowing.add(c.as);
      flowNames.set(step.next.id, names);
      used.push({ dataset: step.next, role: whole ? 'joined' : 'link' });
      const renamed = columns.filter((c) => c.as !== c.column && !step.nextColumns.includes(c.column));
      explain.push(
        `Left join ${step.next.namespace}.${step.next.name} on ${step.atColumns.map((c, k) => `${step.at.name}.${c} = ${step.next.name}.${step.nextColumns[k]}`).join(' and ')} ` +
          `(${step.because}): every ${main.name} row stays, with empty ${step.next.name} columns where nothing matches` +
          (step.fanOut ? `, and a row appears once for each ${step.next.name} row that matches` : '') +
          (whole ? '' : `; ${step.next.name} only links the two and brings its keys`) +
          (renamed.length
            ? `; ${renamed.map((c) => `${c.column} becomes ${c.as}`).join(', ')}, since a column of that name is already there`
            : '') +
          '.',
      );
    }
  }
  return { main, used, last };
}

/**
 * The shortest chain of keys from any dataset already joined to `target`. Two keys that point at the same
 * table's key (contracts.vendor_id and a scorecard's vendor_id both hold vendors.vendor_id) join directly,
 * without that table.
 */
function stepsTo(graph: SourceGraph, start: string[], target: Dataset): Step[] | null {
  const reached = new Map<string, Step[]>(start.map((id) => [id, []]));
  const queue = [...start];
  while (queue.length) {
    const at = queue.shift()!;
    const path = reached.get(at)!;
    if (at === target.id) return shortcut(path, graph);
    for (const edge of graph.edges) {
      const step = stepAlong(graph, edge, at);
      if (!step || reached.has(step.next.id)) continue;
      reached.set(step.next.id, [...path, step]);
      queue.push(step.next.id);
    }
  }
  return null;
}

function stepAlong(graph: SourceGraph, edge: KeyEdge, at: string): Step | null {
  const because =
    edge.how === 'foreign key'
      ? `foreign key ${edge.name}`
      : `the view's ${edge.fromColumns.join(', ')} is its table's key, by lineage`;
  if (edge.from === at) {
    return {
      at: graph.byId.get(edge.from)!,
      next: graph.byId.get(edge.to)!,
      atColumns: edge.fromColumns,
      nextColumns: edge.toColumns,
      because,
      fanOut: false,
    };
  }
  if (edge.to === at) {
    return {
      at: graph.byId.get(edge.to)!,
      next: graph.byId.get(edge.from)!,
      atColumns: edge.toColumns,
      nextColumns: edge.fromColumns,
      because,
      fanOut: true,
    };
  }
  return null;
}

/** A → T ← B where both hold T's same key columns: A joins B directly, T is not needed. */
function shortcut(path: Step[], graph: SourceGraph): Step[] {
  const out: Step[] = [];
  for (let i = 0; i < path.length; i++) {
    const [one, two] = [path[i]!, path[i + 1]];
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((c, k) => c === b[k]);
    if (two && !one.fanOut && two.fanOut && same(one.nextColumns, two.atColumns)) {
      const through = graph.byId.get(one.next.id)!;
      out.push({
        at: one.at,
        next: two.next,
        atColumns: one.atColumns,
        nextColumns: two.nextColumns,
        because: `both hold ${through.name}.${one.nextColumns.join(', ')}: ${one.because}; ${two.because}; so ${through.name} itself is not needed`,
        fanOut: true,
      });
      i++;
      continue;
    }
    out.push(one);
  }
  return out;
}
