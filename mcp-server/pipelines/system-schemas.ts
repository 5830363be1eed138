/**
 * Postgres's system schemas, which no pipeline writes. Apart from `written-tables.ts` because a node's own
 * check (`nodes/destination-table.ts`) refuses them too, and the node modules sit below what the tables of a run
 * are worked out from.
 */

/** Postgres's own schemas: writing there (possible for a superuser source) would change the database itself. */
export function isSystemSchema(schema: string): boolean {
  const lower = schema.toLowerCase();
  return lower === 'information_schema' || lower.startsWith('pg_');
}

/** The validation issue for a table placed in a system schema, or null. */
export function systemSchemaProblem(schema: string, what: string): string | null {
  if (!isSystemSchema(schema)) return null;
  return `${what} is in ${schema}, a schema Postgres keeps for itself (information_schema and every pg_ schema); write to a schema of your own, such as public`;
}
