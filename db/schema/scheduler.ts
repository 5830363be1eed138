import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';
import { qualityRules } from './quality.js';

/**
 * Work the scheduler runs: an asset's profile and checks on the default cadence, or a rule on its own
 * cron. Due times live here, so a restart neither loses nor repeats work; a lease (owner and expiry)
 * claimed with `for update skip locked` keeps two server instances from running a job at once.
 */
export const scheduledJobs = pgTable(
  'scheduled_jobs',
  {
    /** `asset:<asset id>` or `rule:<rule id>`. */
    key: text('key').primaryKey(),
    kind: text('kind').$type<'asset' | 'rule'>().notNull(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    ruleId: uuid('rule_id').references(() => qualityRules.id, { onDelete: 'cascade' }),
    /** The cron the due times follow; null: the default cadence. */
    schedule: text('schedule'),
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
