import { bigint, boolean, index, integer, jsonb, pgTable, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';

/** A typed check on an asset (not null, unique, freshness, custom expression, ...). */
export const qualityRules = pgTable(
  'quality_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type').notNull(),
    columnName: text('column_name'),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    dimension: text('dimension').notNull(),
    severity: text('severity').$type<'info' | 'warning' | 'critical'>().notNull().default('warning'),
    /** Share of rows that must pass, 0..1 ("mostly"). */
    threshold: real('threshold').notNull().default(1),
    schedule: text('schedule'),
    enabled: boolean('enabled').notNull().default(true),
    /** Where the rule came from: `user`, `yaml`, `dbt`, `openlineage`. */
    origin: text('origin').notNull().default('user'),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('quality_rules_asset_idx').on(t.assetId)],
);

export const qualityResults = pgTable(
  'quality_results',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ruleId: uuid('rule_id')
      .notNull()
      .references(() => qualityRules.id, { onDelete: 'cascade' }),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    passed: boolean('passed').notNull(),
    checkedRows: integer('checked_rows'),
    failedRows: integer('failed_rows'),
    observedValue: jsonb('observed_value'),
    evidence: jsonb('evidence'),
    ranAt: timestamp('ran_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('quality_results_asset_idx').on(t.assetId, t.ranAt)],
);

/** One profiling run of an asset: table stats and per-column stats. */
export const profiles = pgTable(
  'profiles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    rowCount: bigint('row_count', { mode: 'number' }),
    columnStats: jsonb('column_stats').$type<Record<string, Record<string, unknown>>>().notNull().default({}),
    /** How the run read the data: sample size and method, statements, duration. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    profiledAt: timestamp('profiled_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('profiles_asset_idx').on(t.assetId, t.profiledAt)],
);

/** Score history: overall 0-100 and the six dimensions. */
export const qualityScores = pgTable(
  'quality_scores',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    overall: real('overall').notNull(),
    dimensions: jsonb('dimensions').$type<Record<string, number | null>>().notNull(),
    /** What each dimension was computed from (null rates, rule results, SLA), so a person can recompute it. */
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull().default({}),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('quality_scores_asset_idx').on(t.assetId, t.computedAt)],
);
