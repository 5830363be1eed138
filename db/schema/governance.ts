import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { assets } from './catalog.js';
import { domains, principals } from './identity.js';
import { classification } from './types.js';

/**
 * A governance policy (access, retention, handling, quality): a markdown document for people, the
 * authority it implements (NIST 800-53 AC-3, DoD 8570.01-M, a technical order) and machine-checked rules.
 * The rule shape is validated by mcp-server/governance/policy-rules.ts.
 */
export const policies = pgTable(
  'policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    description: text('description'),
    /** The policy text as people read it (markdown). */
    document: text('document'),
    /** What mandates it, e.g. `NIST SP 800-53 Rev. 5 AC-3`. */
    authority: text('authority'),
    rules: jsonb('rules').$type<unknown[]>().notNull().default([]),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('policies_name_idx').on(t.name)],
);

/** What a policy governs: exactly one of an asset, every asset carrying a tag, or every asset of a domain. */
export const policyLinks = pgTable(
  'policy_links',
  {
    policyId: uuid('policy_id')
      .notNull()
      .references(() => policies.id, { onDelete: 'cascade' }),
    assetId: uuid('asset_id').references(() => assets.id, { onDelete: 'cascade' }),
    tag: text('tag'),
    domainId: text('domain_id').references(() => domains.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('policy_links_target').on(t.policyId, t.assetId, t.tag, t.domainId).nullsNotDistinct(),
    check('policy_links_one_target', sql`num_nonnulls(${t.assetId}, ${t.tag}, ${t.domainId}) = 1`),
    index('policy_links_asset_idx').on(t.assetId),
  ],
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

/**
 * A certification's whole workflow: requested, then approved (with an expiry) or rejected (with a reason)
 * by an owner or steward; approved ones lapse at `expires_at` or are superseded by a newer approval of the
 * same label. `assets.certification` holds the labels currently in force, for search and profiles.
 */
export const certifications = pgTable(
  'certifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    /** A label from the fixed vocabulary in mcp-server/governance/certification-labels.ts. */
    level: text('level').notNull(),
    status: text('status')
      .$type<'pending' | 'approved' | 'rejected' | 'superseded' | 'expired'>()
      .notNull()
      .default('pending'),
    requestedBy: text('requested_by').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    /** Why the requester asks for it. */
    note: text('note'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    /** The reviewer's comment; the reason, for a rejection. */
    reviewNote: text('review_note'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('certifications_asset_idx').on(t.assetId),
    index('certifications_in_force_idx').on(t.expiresAt).where(sql`${t.status} = 'approved'`),
  ],
);

/** Authorisation to operate (ATO) of a system or asset, as the authorising official granted it. */
export const atoAuthorizations = pgTable('ato_authorizations', {
  assetId: uuid('asset_id')
    .primaryKey()
    .references(() => assets.id, { onDelete: 'cascade' }),
  /** `authorized` (ATO), `interim` (IATO), `testing` (IATT), `denied` (DATO) or `pending`. */
  status: text('status').$type<'authorized' | 'interim' | 'testing' | 'denied' | 'pending'>().notNull(),
  authorizingOfficial: text('authorizing_official').notNull(),
  grantedAt: timestamp('granted_at', { withTimezone: true }),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  note: text('note'),
  recordedBy: text('recorded_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The state of one security control (a STIG rule or an 800-53 control) for an asset, with its evidence. */
export const complianceControls = pgTable(
  'compliance_controls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    /** e.g. `V-214120` (a STIG vulnerability id) or `AC-3`. */
    controlId: text('control_id').notNull(),
    /** The STIG or baseline it belongs to, e.g. `PostgreSQL 9.x STIG V2R5`. */
    benchmark: text('benchmark'),
    status: text('status').$type<'open' | 'not_a_finding' | 'not_applicable'>().notNull(),
    evidence: text('evidence'),
    recordedBy: text('recorded_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('compliance_controls_asset_control_idx').on(t.assetId, t.controlId)],
);

/** A document that governs an asset: a system security plan, a technical order, an MOU, a data-sharing agreement. */
export const governingDocuments = pgTable(
  'governing_documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    kind: text('kind').notNull(),
    /** A link or a citation (e.g. `TO 00-5-1`). */
    reference: text('reference').notNull(),
    addedBy: text('added_by').notNull(),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('governing_documents_asset_title_idx').on(t.assetId, t.title)],
);

export const classificationEventKinds = ['set', 'downgraded', 'propagated', 'suggestion_applied'] as const;
export type ClassificationEventKind = (typeof classificationEventKinds)[number];

/**
 * Classification changes with the evidence behind them: set by a steward, downgraded (with the inputs'
 * highest marking at that time, so propagation respects the downgrade until an input rises above it),
 * propagated through lineage, or a PII suggestion applied (with the detector's evidence).
 */
export const classificationEvents = pgTable(
  'classification_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    assetId: uuid('asset_id')
      .notNull()
      .references(() => assets.id, { onDelete: 'cascade' }),
    columnName: text('column_name'),
    from: classification('from_level'),
    to: classification('to_level').notNull(),
    kind: text('kind').$type<ClassificationEventKind>().notNull().default('set'),
    reason: text('reason').notNull(),
    /** Evidence (detector, match share, sample size, masked example) or the inputs behind a propagation. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    actorId: text('actor_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('classification_events_asset_idx').on(t.assetId, t.createdAt)],
);

/**
 * The workspace's secret salt for hashed masking: the same value hashes the same way everywhere in one
 * workspace (so masked columns still join) and differently in another. One row, created on first use.
 */
export const maskingSalts = pgTable(
  'masking_salts',
  {
    id: integer('id').primaryKey().default(1),
    salt: text('salt').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('masking_salts_single_row', sql`${t.id} = 1`)],
);

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
