import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';
import { principals } from './identity.js';
import { classification } from './types.js';

/** A governance policy (retention, masking, access, handling) written for people and applied to assets. */
export const policies = pgTable('policies', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  kind: text('kind').notNull(),
  description: text('description'),
  rules: jsonb('rules').$type<Record<string, unknown>>().notNull().default({}),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const policyLinks = pgTable(
  'policy_links',
  {
    policyId: uuid('policy_id')
      .notNull()
      .references(() => policies.id, { onDelete: 'cascade' }),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('policy_links_pk').on(t.policyId, t.assetId)],
);

export const accessRequests = pgTable(
  'access_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    requesterId: text('requester_id')
      .notNull()
      .references(() => principals.id, { onDelete: 'cascade' }),
    /** The purpose the requester states: what the data is needed for. */
    justification: text('justification').notNull(),
    /** How long the requester needs access; an approval runs this long unless the decider shortens it. */
    requestedDays: integer('requested_days').notNull().default(30),
    status: text('status').$type<'pending' | 'approved' | 'denied' | 'revoked'>().notNull().default('pending'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** The rule that approved the request without a person; null when a person decided. */
    autoRule: text('auto_rule'),
    /** Why it was approved, denied or revoked, in words the requester reads. */
    decisionReason: text('decision_reason'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('access_requests_asset_idx').on(t.assetId),
    index('access_requests_requester_idx').on(t.requesterId, t.createdAt),
    // The visibility predicate looks a grant up by (asset, principal) on every candidate row outside the
    // principal's domains: a small partial index of approved grants answers it.
    index('access_requests_grant_idx').on(t.assetId, t.requesterId, t.expiresAt).where(sql`${t.status} = 'approved'`),
  ],
);

export const certifications = pgTable(
  'certifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    level: text('level').notNull(),
    certifiedBy: text('certified_by').notNull(),
    note: text('note'),
    certifiedAt: timestamp('certified_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('certifications_asset_idx').on(t.assetId)],
);

/** Classification changes with the evidence behind them (suggested, set, downgraded). */
export const classificationEvents = pgTable('classification_events', {
  id: uuid('id').primaryKey().defaultRandom(),
  assetId: uuid('asset_id')
    .notNull()
    .references(() => assets.id, { onDelete: 'cascade' }),
  columnName: text('column_name'),
  from: classification('from_level'),
  to: classification('to_level').notNull(),
  reason: text('reason').notNull(),
  actorId: text('actor_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Append-only audit trail of every change. Each row stores the hash of the previous row, so editing
 * or deleting a past entry breaks the chain that `hash` verifies.
 */
export const auditLog = pgTable('audit_log', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  actorId: text('actor_id').notNull(),
  action: text('action').notNull(),
  targetUrn: text('target_urn'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});
