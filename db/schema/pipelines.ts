import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';

export const pipelines = pgTable('pipelines', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  description: text('description'),
  owner: text('owner').notNull(),
  /** The data product asset the pipeline publishes, once deployed. */
  outputAssetId: uuid('output_asset_id').references(() => assets.id, { onDelete: 'set null' }),
  currentVersion: integer('current_version').notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Immutable versions of a pipeline graph (nodes and edges in @xyflow/react's shape). */
export const pipelineVersions = pgTable(
  'pipeline_versions',
  {
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    graph: jsonb('graph').$type<{ nodes: unknown[]; edges: unknown[] }>().notNull(),
    /** Semantic version: major for a column removed or retyped in an output, minor for one added, else patch. */
    semver: text('semver').notNull().default('0.1.0'),
    /** Columns each destination node writes (`{ nodeId: [{ name, type }] }`), as validated when saved. */
    outputSchema: jsonb('output_schema')
      .$type<Record<string, { name: string; type: string }[]>>()
      .notNull()
      .default({}),
    note: text('note'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('pipeline_versions_pk').on(t.pipelineId, t.version)],
);

export const pipelineRuns = pgTable(
  'pipeline_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    status: text('status').$type<'queued' | 'running' | 'succeeded' | 'failed'>().notNull(),
    trigger: text('trigger').notNull(),
    /** Where the run wrote: `prod` writes the configured tables, `dev` the same names suffixed `_dev`. */
    environment: text('environment').$type<'dev' | 'prod'>().notNull().default('dev'),
    stats: jsonb('stats').$type<Record<string, unknown>>().notNull().default({}),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('pipeline_runs_pipeline_idx').on(t.pipelineId, t.startedAt)],
);

/**
 * Expected rows for given input rows: `inputs` replaces each source node's data, `expect` holds the rows chosen
 * nodes must then produce. Kept per pipeline (not per version), so the same tests judge every version.
 */
export const pipelineTests = pgTable(
  'pipeline_tests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    inputs: jsonb('inputs').$type<Record<string, Record<string, unknown>[]>>().notNull(),
    expect: jsonb('expect').$type<Record<string, Record<string, unknown>[]>>().notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('pipeline_tests_name_idx').on(t.pipelineId, t.name)],
);

/**
 * The version of a pipeline deployed to an environment, and the schedule it runs on there. One row per
 * pipeline and environment; earlier deployments are in the audit log (every deploy is a tool call).
 */
export const pipelineDeployments = pgTable(
  'pipeline_deployments',
  {
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id, { onDelete: 'cascade' }),
    environment: text('environment').$type<'dev' | 'prod'>().notNull(),
    version: integer('version').notNull(),
    /** Cron the scheduler runs the deployed version on; null: it runs only when asked. */
    schedule: text('schedule'),
    /** IANA time zone the cron is read in. */
    timeZone: text('time_zone'),
    deployedBy: text('deployed_by').notNull(),
    deployedAt: timestamp('deployed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('pipeline_deployments_pk').on(t.pipelineId, t.environment)],
);
