import { DataOpsError } from '../../../core/errors.js';
import type { ServiceContext } from '../../context.js';
import type { PipelineGraph } from '../graph.js';
import type { PipelineIssue } from '../nodes/node-module.js';
import { createPipeline, type SavedVersion } from '../store.js';
import { analyzePipeline } from '../validate.js';
import { planAggregate } from './suggest-aggregate.js';
import { type Dataset, explicitDatasets, keyEdges, searchDatasets, sourceDatasets } from './suggest-catalog.js';
import { planCombine } from './suggest-combine.js';
import { parseGoal, tableNameFor } from './suggest-goal.js';
import { GraphBuilder } from './suggest-graph.js';
import { best, describeMatch, nothingMatches, type Plan, type Planning, type SourceGraph } from './suggest-planning.js';

export interface SuggestInput {
  goal: string;
  datasets?: string[];
  name?: string;
  create?: boolean;
}

export interface Suggestion {
  pipeline: Pick<SavedVersion, 'id' | 'name' | 'version' | 'semver'> | null;
  graph: PipelineGraph;
  issues: PipelineIssue[];
  /** One plain sentence per choice made: which datasets, how they join, what is filtered, grouped and written. */
  explanation: string[];
  datasets: { urn: string; role: 'main' | 'joined' | 'link' }[];
  destination: { schema: string; table: string };
}

/**
 * Proposes a whole pipeline for a goal in words, from the catalog alone (no model, so the same goal and
 * catalog always give the same graph): the datasets that match, how they join by their keys, the period,
 * grouping and measure the goal asks for, and a destination table. With `create` it is saved as a new
 * pipeline whose first version is the proposal.
 */
export async function suggestPipeline(ctx: ServiceContext, input: SuggestInput): Promise<Suggestion> {
  const goal = parseGoal(input.goal);
  const explicit = input.datasets?.length ? await explicitDatasets(ctx, [...new Set(input.datasets)]) : [];
  if (new Set(explicit.map((d) => d.sourceId)).size > 1) {
    throw new DataOpsError(
      'invalid_input',
      'the datasets named are in different source databases; a pipeline runs inside one database, so name datasets of one source',
    );
  }
  const graphs = new Map<string, Promise<SourceGraph>>();
  const planning: Planning = {
    ctx,
    goal,
    explicit,
    builder: new GraphBuilder(),
    explain: [],
    searched: [],
    search: async (words) => {
      if (words.length) planning.searched.push(words.join(' '));
      return searchDatasets(ctx, words);
    },
    sourceGraph: (sourceId) => {
      if (!graphs.has(sourceId)) {
        graphs.set(
          sourceId,
          sourceDatasets(ctx, sourceId).then(async (datasets) => ({
            datasets,
            edges: await keyEdges(ctx, datasets),
            byId: new Map(datasets.map((d) => [d.id, d])),
          })),
        );
      }
      return graphs.get(sourceId)!;
    },
  };
  const plan =
    goal.mode === 'aggregate'
      ? await planAggregate(planning)
      : goal.mode === 'combine' || explicit.length > 1
        ? await planCombine(planning)
        : await planList(planning);
  const destination = await chooseDestination(planning, plan.main, input.name ?? input.goal);
  planning.builder.add(
    'destination_table',
    'output',
    `Write ${destination.schema}.${destination.table}`,
    { schema: destination.schema, table: destination.table, mode: 'replace', key: [] },
    [{ from: plan.last }],
  );
  const graph = planning.builder.graph();
  const analysis = await analyzePipeline(ctx, graph);
  const datasets = [
    { urn: plan.main.urn, role: 'main' as const },
    ...plan.used.map((u) => ({ urn: u.dataset.urn, role: u.role })),
  ];
  if (input.create === false) {
    return { pipeline: null, graph, issues: analysis.issues, explanation: planning.explain, datasets, destination };
  }
  const saved = await createPipeline(ctx, {
    name: (input.name ?? input.goal).slice(0, 200),
    description: `Suggested for the goal: ${input.goal}`.slice(0, 2000),
    graph,
    note: 'suggested by pipelines_suggest',
  });
  return {
    pipeline: { id: saved.id, name: saved.name, version: saved.version, semver: saved.semver },
    graph,
    issues: saved.issues,
    explanation: planning.explain,
    datasets,
    destination,
  };
}

/** A graph reading one dataset as it is: the goal named no period, grouping, measure or combination. */
async function planList(planning: Planning): Promise<Plan> {
  const { goal, explicit, builder, explain } = planning;
  const main = explicit[0] ?? best(await planning.search(goal.subject), goal.subject);
  if (!main) throw nothingMatches(planning);
  explain.push(
    `Read ${describeMatch(main, goal.subject)}: the goal names no period ("monthly"), grouping ("by vendor"), measure ("total", "count") or combination ("combine X with Y"), so the rows pass through as they are.`,
  );
  const source = builder.add('source_dataset', main.name, `${main.namespace}.${main.name}`, { urn: main.urn });
  if (main.hiddenColumns === 0) return { main, used: [], last: source };
  const visible = builder.add(
    'select',
    `${main.name}_columns`,
    'Keep the columns you may see',
    { columns: main.columns.map((c) => ({ column: c.name })) },
    [{ from: source }],
  );
  return { main, used: [], last: visible };
}

/**
 * Where the output goes: the source's `analytics` schema when the caller can see one there (a schema kept
 * for derived tables), else the main dataset's own schema; the table is named after the goal, made unique
 * among the tables the caller can see there.
 */
async function chooseDestination(planning: Planning, main: Dataset, wording: string) {
  const { datasets } = await planning.sourceGraph(main.sourceId);
  const analytics = datasets.some((d) => d.namespace === 'analytics');
  const schema = analytics ? 'analytics' : main.namespace;
  let table = tableNameFor(wording);
  const taken = (name: string) => datasets.some((d) => d.namespace === schema && d.name === name);
  if (taken(table)) table = `${table.slice(0, 56)}_output`;
  for (let i = 2; taken(table); i++) table = `${table.replace(/_output(_\d+)?$/, '').slice(0, 52)}_output_${i}`;
  planning.explain.push(
    analytics
      ? `Write the result to analytics.${table}: the source has an analytics schema for derived tables. Each run replaces the table as a whole.`
      : `Write the result to ${schema}.${table}, beside ${main.namespace}.${main.name} (the source has no analytics schema). Each run replaces the table as a whole.`,
  );
  return { schema, table };
}
