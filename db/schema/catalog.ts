import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  vector,
} from 'drizzle-orm/pg-core';
import { domains } from './identity.js';
import { classification, tsvector } from './types.js';

/** Vector width of `assets.embedding`; every embedder produces this many dimensions. */
export const EMBEDDING_DIMENSIONS = 256;

export const assetKinds = ['table', 'view', 'materialized_view', 'file', 'data_product', 'job', 'dashboard'] as const;
export type AssetKind = (typeof assetKinds)[number];

/** A system the catalog reads: a database, a directory of files, an OpenLineage producer. */
export const sources = pgTable(
  'sources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    /** Where it is read from, without secrets. */
    location: text('location').notNull(),
    /** Domain and marking given to the source's new assets until a steward says otherwise. */
    domainId: text('domain_id').references(() => domains.id, { onDelete: 'restrict' }),
    classification: classification('classification').notNull().default('U'),
    /** Namespaces the last sync covered (e.g. the schemas asked for); empty means the whole source. */
    scope: text('scope').array().notNull().default(sql`'{}'::text[]`),
    lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }),
    lastSyncErrors: jsonb('last_sync_errors').$type<{ object: string; message: string }[]>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('sources_kind_name_idx').on(t.kind, t.name)],
);

/**
 * How to reach a source again (profiling, sampling, previews): its connection target, encrypted with the
 * workspace's secret key (AES-256-GCM), so a copy of the catalog alone does not hand out database passwords.
 */
export const sourceCredentials = pgTable('source_credentials', {
  sourceId: uuid('source_id')
    .primaryKey()
    .references(() => sources.id, { onDelete: 'cascade' }),
  /** `v1:<iv>:<tag>:<ciphertext>`, base64url parts. */
  sealed: text('sealed').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const assets = pgTable(
  'assets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Stable identifier: `urn:dataops:<platform>:<source>:<namespace>.<name>`, never reused. */
    urn: text('urn').notNull(),
    sourceId: uuid('source_id').references(() => sources.id, { onDelete: 'cascade' }),
    // Restrict, not set null: deleting a restricted domain must never make its assets public.
    domainId: text('domain_id').references(() => domains.id, { onDelete: 'restrict' }),
    kind: text('kind').$type<AssetKind>().notNull(),
    namespace: text('namespace').notNull().default(''),
    name: text('name').notNull(),
    qualifiedName: text('qualified_name').notNull(),
    description: text('description'),
    owner: text('owner'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    classification: classification('classification').notNull().default('U'),
    /** Highest current certification level (e.g. `certified`), kept in step with the certifications table. */
    certification: text('certification'),
    status: text('status').$type<'active' | 'deprecated'>().notNull().default('active'),
    definition: text('definition'),
    rowCount: bigint('row_count', { mode: 'number' }),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    lastModified: timestamp('last_modified', { withTimezone: true }),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull().default({}),
    /** Fields a person edited in the catalog (description, owner, ...); re-ingestion leaves them alone. */
    curatedFields: text('curated_fields').array().notNull().default(sql`'{}'::text[]`),
    /** Hash of what the source reported; an unchanged hash means re-ingestion changes nothing. */
    sourceFingerprint: text('source_fingerprint'),
    qualityScore: real('quality_score'),
    usageCount: integer('usage_count').notNull().default(0),
    ratingAverage: real('rating_average'),
    ratingCount: integer('rating_count').notNull().default(0),
    searchDocument: tsvector('search_document'),
    embedding: vector('embedding', { dimensions: EMBEDDING_DIMENSIONS }),
    embeddingModel: text('embedding_model'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('assets_urn_idx').on(t.urn),
    index('assets_source_idx').on(t.sourceId),
    index('assets_domain_idx').on(t.domainId),
    index('assets_search_idx').using('gin', t.searchDocument),
    // GIN, not GiST: over many names GiST's trigram signatures fill up, so a nearest-name (KNN) scan
    // reads the whole index; GIN finds the names sharing enough of the query's trigrams directly.
    index('assets_name_trgm_idx').using('gin', sql`lower(${t.name}) gin_trgm_ops`),
    index('assets_lower_name_idx').on(sql`lower(${t.name})`),
    index('assets_lower_qualified_name_idx').on(sql`lower(${t.qualifiedName})`),
    index('assets_embedding_idx').using('hnsw', t.embedding.op('vector_cosine_ops')),
    // Filters that narrow a search to a small part of the catalog; search compares those assets'
    // vectors one by one instead of walking the HNSW graph past everything the filter rejects.
    index('assets_owner_idx').on(t.owner),
    index('assets_tags_idx').using('gin', t.tags),
  ],
);

export const columns = pgTable(
  'columns',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    position: integer('position').notNull(),
    dataType: text('data_type').notNull(),
    nullable: boolean('nullable').notNull().default(true),
    isPrimaryKey: boolean('is_primary_key').notNull().default(false),
    isForeignKey: boolean('is_foreign_key').notNull().default(false),
    defaultValue: text('default_value'),
    description: text('description'),
    /** e.g. `pii`, `financial`; set by stewards or the classifier. */
    sensitivity: text('sensitivity'),
    classification: classification('classification'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('columns_asset_name_idx').on(t.assetId, t.name)],
);

/** Lineage between assets. Edges are never updated in place: a change closes `validTo` and opens a new row. */
export const lineageEdges = pgTable(
  'lineage_edges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fromAssetId: uuid('from_asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    toAssetId: uuid('to_asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    /** `derives` (data flows from -> to) or `references` (a foreign key: from references to). */
    kind: text('kind').$type<'derives' | 'references'>().notNull(),
    /** Distinguishes parallel edges, e.g. the foreign-key constraint name or the job URN. */
    name: text('name').notNull().default(''),
    /** Where the edge was learned: `postgres`, `mysql`, `sql`, `openlineage`, `dbt`, `manual`. */
    origin: text('origin').notNull(),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull().default({}),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
    validTo: timestamp('valid_to', { withTimezone: true }),
  },
  (t) => [
    // With the kind, a walk over one kind of edge (derives or references) reads only its own entries.
    index('lineage_from_kind_idx').on(t.fromAssetId, t.kind),
    index('lineage_to_kind_idx').on(t.toAssetId, t.kind),
    uniqueIndex('lineage_current_idx')
      .on(t.fromAssetId, t.toAssetId, t.kind, t.name, t.origin)
      .where(sql`${t.validTo} is null`),
  ],
);

/** Column-level detail of a lineage edge, in OpenLineage's transformation vocabulary. */
export const columnLineage = pgTable(
  'column_lineage',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    edgeId: uuid('edge_id')
      .notNull()
      .references(() => lineageEdges.id, { onDelete: 'cascade' }),
    /**
     * The asset `from_column` belongs to when it is not the edge's own source: an edge from a job to the
     * dataset it writes carries the job's column lineage, whose columns belong to the job's input datasets.
     */
    fromAssetId: uuid('from_asset_id').references(() => assets.id, { onDelete: 'cascade' }),
    fromColumn: text('from_column').notNull(),
    /** Null for INDIRECT lineage that affects the whole target (a join key, a filter), as OpenLineage's `dataset` list. */
    toColumn: text('to_column'),
    /** `DIRECT` or `INDIRECT`. */
    transformationType: text('transformation_type'),
    /** IDENTITY, TRANSFORMATION, AGGREGATION (direct); JOIN, GROUP_BY, FILTER, SORT, WINDOW, CONDITIONAL (indirect). */
    transformationSubtype: text('transformation_subtype'),
    sql: text('sql'),
  },
  (t) => [
    index('column_lineage_edge_idx').on(t.edgeId),
    // A column walk downstream finds a job's mappings by the input column they name.
    index('column_lineage_from_asset_idx').on(t.fromAssetId, t.fromColumn),
  ],
);

/**
 * OpenLineage events as received. The key is a hash of the canonical event, so a replayed event is
 * recognised and changes nothing; the payload keeps facets (e.g. data-quality assertions) for later use.
 */
export const lineageEvents = pgTable(
  'lineage_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventKey: text('event_key').notNull(),
    /** `run`, `job` or `dataset` (OpenLineage's RunEvent, JobEvent, DatasetEvent). */
    category: text('category').notNull(),
    eventType: text('event_type'),
    eventTime: timestamp('event_time', { withTimezone: true }).notNull(),
    runId: text('run_id'),
    jobAssetId: uuid('job_asset_id').references(() => assets.id, { onDelete: 'cascade' }),
    producer: text('producer'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('lineage_events_key_idx').on(t.eventKey), index('lineage_events_job_idx').on(t.jobAssetId)],
);

/** One run of a job asset (an OpenLineage run, a dbt invocation): its latest state and timings. */
export const jobRuns = pgTable(
  'job_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobAssetId: uuid('job_asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    runId: text('run_id').notNull(),
    /** Latest state: START, RUNNING, COMPLETE, FAIL, ABORT, OTHER. */
    state: text('state').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    facets: jsonb('facets').$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('job_runs_job_run_idx').on(t.jobAssetId, t.runId)],
);
