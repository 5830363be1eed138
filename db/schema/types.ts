import { customType, pgEnum } from 'drizzle-orm/pg-core';

/** Classification markings, lowest to highest. A principal sees an asset only at or below its clearance. */
export const classificationLevels = ['U', 'C', 'S', 'TS'] as const;
export type Classification = (typeof classificationLevels)[number];
export const classification = pgEnum('classification', classificationLevels);

export const roleNames = ['viewer', 'steward', 'owner', 'admin'] as const;
export type Role = (typeof roleNames)[number];

/** Postgres full-text document; written with setweight()/to_tsvector() in SQL, never parsed in JS. */
export const tsvector = customType<{ data: string }>({
  dataType: () => 'tsvector',
});
