import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';
import { domains, principals } from './identity.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertState = 'open' | 'acknowledged' | 'resolved';

/** Service-level targets of an asset: how fresh it must be and the lowest quality score it may have. */
export const qualitySlas = pgTable('quality_slas', {
  assetId: uuid('asset_id')
    .primaryKey()
    .references(() => assets.id, { onDelete: 'cascade' }),
  /** Hours since the last change after which the asset is stale; null: no freshness target. */
  freshnessHours: real('freshness_hours'),
  /** Lowest acceptable overall quality score (0-100); null: no quality target. */
  minScore: real('min_score'),
  severity: text('severity').$type<AlertSeverity>().notNull().default('warning'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A problem on an asset (SLA breach, failing rule, anomaly). `dedupKey` names the problem, so seeing it
 * again updates the open alert instead of opening another; only one unresolved alert per key exists.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    dedupKey: text('dedup_key').notNull(),
    /** `sla_freshness`, `sla_score`, `rule`, `anomaly`, `schema_drift`. */
    kind: text('kind').notNull(),
    severity: text('severity').$type<AlertSeverity>().notNull(),
    title: text('title').notNull(),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull().default({}),
    state: text('state').$type<AlertState>().notNull().default('open'),
    assignee: text('assignee').references(() => principals.id, { onDelete: 'set null' }),
    occurrences: integer('occurrences').notNull().default(1),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    resolvedBy: text('resolved_by'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    note: text('note'),
  },
  (t) => [
    uniqueIndex('alerts_unresolved_key_idx').on(t.dedupKey).where(sql`${t.state} <> 'resolved'`),
    index('alerts_asset_idx').on(t.assetId, t.state),
    index('alerts_state_idx').on(t.state, t.lastSeenAt),
  ],
);

/** Who gets which alerts: an asset, a domain or everything they may see, from a severity up, on a channel. */
export const alertSubscriptions = pgTable(
  'alert_subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    principalId: text('principal_id')
      .notNull()
      .references(() => principals.id, { onDelete: 'cascade' }),
    assetId: uuid('asset_id').references(() => assets.id, { onDelete: 'cascade' }),
    domainId: text('domain_id').references(() => domains.id, { onDelete: 'cascade' }),
    minSeverity: text('min_severity').$type<AlertSeverity>().notNull().default('warning'),
    /** `inbox` (read with `dataops alerts inbox`), `webhook`; chat channels register their own names. */
    channel: text('channel').notNull(),
    /** Where the channel delivers: a webhook URL, a Slack channel id; null for the inbox. */
    target: text('target'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('alert_subscriptions_principal_idx').on(t.principalId)],
);

/** The outbox: one row per alert event and subscriber, delivered by the dispatcher and kept as a record. */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    alertId: uuid('alert_id')
      .notNull()
      .references(() => alerts.id, { onDelete: 'cascade' }),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
    /** `opened`, `escalated`, `resolved`. */
    event: text('event').notNull(),
    status: text('status').$type<'pending' | 'sent' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('alert_deliveries_pending_idx').on(t.status, t.id)],
);
