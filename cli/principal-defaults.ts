import { eq, sql } from 'drizzle-orm';
import { DataOpsError } from '../core/errors.js';
import { queryRows } from '../db/create-db.js';
import { principals } from '../db/schema/index.js';
import type { Workspace } from './workspace.js';

/** The display name a principal has now, so `principal add` without --name does not rename it. */
export async function currentDisplayName(ws: Workspace, id: string): Promise<string | undefined> {
  const [row] = await ws.database.db
    .select({ name: principals.displayName })
    .from(principals)
    .where(eq(principals.id, id));
  return row?.name;
}

/**
 * The issuer `principal link` uses when neither --issuer nor DATAOPS_OIDC_ISSUER says: the one OIDC issuer
 * (an https URL; Slack and Teams identities are not) that identities are linked to already. Several, or none:
 * a one-line error that says what to pass.
 */
export async function soleIssuer(ws: Workspace): Promise<string> {
  const rows = await queryRows<{ provider: string }>(
    ws.database.db,
    sql`select distinct provider from external_identities where provider ~ '^https?://' order by provider`,
  );
  if (rows.length === 1) return rows[0]!.provider;
  const known = rows.length > 1 ? ` (linked so far: ${rows.map((r) => r.provider).join(', ')})` : '';
  throw new DataOpsError(
    'invalid_input',
    `give --issuer <url>, the identity provider's issuer as in its tokens' iss claim, or set DATAOPS_OIDC_ISSUER${known}`,
  );
}
