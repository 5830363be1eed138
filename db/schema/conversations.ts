import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { principals } from './identity.js';

/** A chat thread on any surface (web, Slack, Teams) with its messages, for context across turns. */
export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    principalId: text('principal_id')
      .notNull()
      .references(() => principals.id, { onDelete: 'cascade' }),
    channel: text('channel').notNull(),
    externalId: text('external_id'),
    title: text('title'),
    messages: jsonb('messages').$type<unknown[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('conversations_principal_idx').on(t.principalId, t.updatedAt)],
);
