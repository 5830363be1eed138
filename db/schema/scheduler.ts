import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';
import { pipelines } from './pipelines.js';
import { qualityRules } from './quality.js';

/**
 * Work the scheduler runs: an asset's profile and checks on the default cadence, a rule on its own
 * cron, or a pipeline deployment on its schedule. Due times live here, so a restart neither loses nor repeats work; a lease (owner and expiry)
 * claimed with `for update skip locked` keeps two server instances from running a job at once.
 */
export const scheduledJobs = pgTable(
  'scheduled_jobs',
  {
    /** `asset:<asset id>`, `rule:<rule id>` or `pipeline:<pipeline id>:<environment>`. */
    key: text('key').primaryKey(),
    kind: text('kind').$type<'asset' | 'rule' | 'pipeline'>().notNull(),
    /** The asset checked; null for a pipeline job. */
    assetId: uuid('asset_id').references(() => assets.id, { onDelete: 'cascade' }),
    ruleId: uuid('rule_id').references(() => qualityRules.id, { onDelete: 'cascade' }),
    pipelineId: uuid('pipeline_id').references(() => pipelines.id, { onDelete: 'cascade' }),
    /** The cron the due times follow; null: the default cadence. */
    schedule: text('schedule'),
    /** The IANA zone the cron is read in; null: the scheduler's own. */
    timeZone: text('time_zone'),
    nextRunAt: timestamp('next_run_at', { withTimezone: true }).notNull(),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    lastStartedAt: timestamp('last_started_at', { withTimezone: true }),
    lastFinishedAt: timestamp('last_finished_at', { withTimezone: true }),
    lastError: text('last_error'),
    runs: integer('runs').notNull().default(0),
  },
  (t) => [index('scheduled_jobs_due_idx').on(t.nextRunAt)],
);
