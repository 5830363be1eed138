import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';
import { type Classification, classification } from './types.js';

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

/** What a data product's documentation says of one output column: its type, marking and where it comes from. */
export interface DataDictionaryEntry {
  column: string;
  type: string;
  classification: Classification | null;
  sensitivity: string | null;
  /** `source` (a column carried through), `derived`, `aggregate`, `masked` or `computed` (another node type). */
  origin: string;
  /** The derive expression, the aggregate (`sum(amount)`) or the mask method; null for a carried column. */
  expression: string | null;
  /** The node that computed the column; null for a carried column. */
  node: string | null;
  /** Source columns it is computed from (catalog asset ids, resolved for each reader). */
  sources: { assetId: string; column: string }[];
}

/** One version of the pipeline in a data product's changelog. */
export interface ChangelogEntry {
  version: number;
  semver: string;
  note: string | null;
  by: string;
  at: string;
  /** Whether a run of this version published the product. */
  published: boolean;
  /** Output columns added, removed or retyped by this version (`column` null: the whole output). */
  changes: { column: string | null; change: 'added' | 'removed' | 'retyped'; from?: string; to?: string }[];
}

/**
 * A pipeline output registered in the catalog as a data product: which pipeline and version published it,
 * and its generated documentation. A sync of the source never touches this table, so a re-sync keeps it.
 */
export const dataProducts = pgTable(
  'data_products',
  {
    assetId: uuid('asset_id')
      .primaryKey()
      .references(() => assets.id, { onDelete: 'cascade' }),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id, { onDelete: 'cascade' }),
    /** The destination node that writes the table. */
    nodeId: text('node_id').notNull(),
    version: integer('version').notNull(),
    semver: text('semver').notNull(),
    dictionary: jsonb('dictionary').$type<DataDictionaryEntry[]>().notNull(),
    changelog: jsonb('changelog').$type<ChangelogEntry[]>().notNull(),
    publishedBy: text('published_by').notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('data_products_pipeline_idx').on(t.pipelineId)],
);

/**
 * A file uploaded for a pipeline's source_upload nodes (CSV, JSON or Parquet, size-capped): read once when
 * uploaded, with the files connector's readers, and kept as its columns and rows so runs need no file.
 */
export const pipelineUploads = pgTable(
  'pipeline_uploads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pipelineId: uuid('pipeline_id')
      .notNull()
      .references(() => pipelines.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    format: text('format').notNull(),
    byteSize: integer('byte_size').notNull(),
    /** The marking the uploader gave the data; only those cleared for it see it. */
    classification: classification('classification').notNull().default('U'),
    columns: jsonb('columns').$type<{ name: string; type: string }[]>().notNull(),
    /** Values as JSON, one array per row in column order (text, numbers, booleans, nested JSON or null). */
    rows: jsonb('rows').$type<unknown[][]>().notNull(),
    uploadedBy: text('uploaded_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('pipeline_uploads_pipeline_idx').on(t.pipelineId)],
);
