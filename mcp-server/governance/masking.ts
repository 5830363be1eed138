/**
 * Masking of sample rows: every tool that returns values read from a source (quality evidence, failing
 * rows, previews, pipeline samples, classifier evidence) passes them through here first.
 *
 *   maskRows(ctx, columns: MaskingColumn[], rows: Record<string, unknown>[]): Promise<MaskedRows>
 *   maskAssetRows(ctx, assetId: string, rows: Record<string, unknown>[]): Promise<MaskedRows>
 *     (loads the asset's columns from the catalog, then maskRows)
 *   maskingPlan(principal, columns): ColumnMasking[]      (pure: who sees what, no values)
 *   applyMasking(plan, rows, salt): MaskedRows            (pure: the plan applied to rows)
 *
 * MaskedRows = { columns: { name, treatment }[], rows }: columns above the caller's clearance are
 * dropped from both (never named); every other value is shown, partial, hashed or redacted.
 *
 * Policy (the column's effective kind is its `pii:<kind>` tag, else what its name says; see piiNameHint):
 *
 * | column                                   | steward/owner/admin | anyone else cleared for it |
 * |------------------------------------------|---------------------|----------------------------|
 * | marked above the caller's clearance      | withheld            | withheld                   |
 * | PII: email, phone, SSN, card number      | shown               | partial (`j***@x.mil`, `***-**-6789`, last 4) |
 * | PII: person name, date of birth          | shown               | partial (initials `J***`; year `1984-**-**`) |
 * | PII: DoD ID, IP address                  | shown               | hashed (stable per workspace, so joins line up) |
 * | PII: postal address, kind unknown        | shown               | redacted                   |
 * | unmarked, but its name says PII          | as PII of that kind | as PII of that kind        |
 * | other sensitivity (financial, opsec, …)  | shown               | shown                      |
 * | no sensitivity                           | shown               | shown                      |
 *
 * Hashes are HMAC-SHA256 with the workspace's salt (table masking_salts, created on first use), shown
 * as `hash:` and 16 hex digits: equal values hash equally within a workspace and differently elsewhere.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/create-db.js';
import { columns as catalogColumns, maskingSalts } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import type { Principal, ServiceContext } from '../context.js';
import { clearanceAllows, hasRole } from './access.js';
import { type PiiKind, piiKinds, piiNameHint } from './pii-detectors.js';
import { partialMask, redacted } from './pii-masks.js';

export type MaskTreatment = 'shown' | 'partial' | 'hashed' | 'redacted';

/** What masking needs to know of a column: the catalog's `columns` row has all of it. */
export interface MaskingColumn {
  name: string;
  sensitivity: string | null;
  /** A marking above the asset's, or null when the column has the asset's marking. */
  classification: Classification | null;
  /** Column tags; `pii:<kind>` says which kind of personal data it holds. */
  tags?: readonly string[];
}

export interface ColumnMasking {
  name: string;
  treatment: MaskTreatment | 'withheld';
  /** The kind of personal data the treatment was chosen for, if any. */
  kind: PiiKind | null;
}

export interface MaskedRows {
  columns: { name: string; treatment: MaskTreatment }[];
  rows: Record<string, unknown>[];
}

const partialKinds = new Set<PiiKind>(['email', 'phone', 'ssn', 'payment_card', 'person_name', 'date_of_birth']);
const hashedKinds = new Set<PiiKind>(['dod_id', 'ip_address']);

/** The kind of personal data a column holds: its `pii:<kind>` tag, else the kind its name implies. */
export function columnPiiKind(column: MaskingColumn): PiiKind | null {
  const tagged = column.tags?.find((t) => t.startsWith('pii:'))?.slice(4);
  if (tagged && (piiKinds as readonly string[]).includes(tagged)) return tagged as PiiKind;
  const hint = piiNameHint(column.name);
  return hint?.strength === 'strong' ? hint.kind : null;
}

/** Decides, for each column, what the principal sees of its values (the policy table above). */
export function maskingPlan(principal: Principal, columns: readonly MaskingColumn[]): ColumnMasking[] {
  const privileged = hasRole(principal, 'steward', 'owner');
  return columns.map((column) => {
    if (column.classification && !clearanceAllows(principal.clearance, column.classification)) {
      return { name: column.name, treatment: 'withheld', kind: null };
    }
    const kind = columnPiiKind(column);
    const personal = column.sensitivity === 'pii' || kind !== null;
    if (!personal || privileged) return { name: column.name, treatment: 'shown', kind };
    if (kind && partialKinds.has(kind)) return { name: column.name, treatment: 'partial', kind };
    if (kind && hashedKinds.has(kind)) return { name: column.name, treatment: 'hashed', kind };
    return { name: column.name, treatment: 'redacted', kind };
  });
}

/**
 * Applies a plan to rows. A row key with no column in the plan is withheld too: masking fails closed
 * when a caller's columns and rows disagree. Nulls stay null (there is nothing to hide).
 */
export function applyMasking(plan: readonly ColumnMasking[], rows: readonly Record<string, unknown>[], salt: string) {
  const byName = new Map(plan.map((p) => [p.name, p]));
  const masked = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      const rule = byName.get(key);
      if (!rule || rule.treatment === 'withheld') continue;
      out[key] = maskValue(rule, value, salt);
    }
    return out;
  });
  return {
    columns: plan
      .filter((p): p is ColumnMasking & { treatment: MaskTreatment } => p.treatment !== 'withheld')
      .map(({ name, treatment }) => ({ name, treatment })),
    rows: masked,
  } satisfies MaskedRows;
}

/** One value under one column's rule. */
export function maskValue(rule: Pick<ColumnMasking, 'treatment' | 'kind'>, value: unknown, salt: string): unknown {
  if (value === null || value === undefined || rule.treatment === 'shown') return value ?? null;
  const text =
    value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  switch (rule.treatment) {
    case 'partial':
      return partialMask(rule.kind, text);
    case 'hashed':
      return `hash:${createHmac('sha256', salt).update(text).digest('hex').slice(0, 16)}`;
    default:
      return redacted;
  }
}

/** Masks rows read from a source for the caller in `ctx`. */
export async function maskRows(
  ctx: Pick<ServiceContext, 'db' | 'principal'>,
  columns: readonly MaskingColumn[],
  rows: readonly Record<string, unknown>[],
): Promise<MaskedRows> {
  return applyMasking(maskingPlan(ctx.principal, columns), rows, await maskingSalt(ctx.db));
}

/** Masks rows of one catalog asset, its columns' sensitivity, marking and tags read from the catalog. */
export async function maskAssetRows(
  ctx: Pick<ServiceContext, 'db' | 'principal'>,
  assetId: string,
  rows: readonly Record<string, unknown>[],
): Promise<MaskedRows> {
  return maskRows(ctx, await loadMaskingColumns(ctx.db, assetId), rows);
}

/** The catalog's columns of an asset, as masking needs them. */
export async function loadMaskingColumns(db: Db, assetId: string): Promise<MaskingColumn[]> {
  return db
    .select({
      name: catalogColumns.name,
      sensitivity: catalogColumns.sensitivity,
      classification: catalogColumns.classification,
      tags: catalogColumns.tags,
    })
    .from(catalogColumns)
    .where(eq(catalogColumns.assetId, assetId))
    .orderBy(asc(catalogColumns.position));
}

const salts = new WeakMap<object, Promise<string>>();

/** The workspace's masking salt, created once (concurrent first uses agree on one row). */
export function maskingSalt(db: Db): Promise<string> {
  let salt = salts.get(db);
  if (!salt) {
    salt = (async () => {
      await db
        .insert(maskingSalts)
        .values({ id: 1, salt: randomBytes(32).toString('hex') })
        .onConflictDoNothing();
      const [row] = await db.select({ salt: maskingSalts.salt }).from(maskingSalts).where(sql`id = 1`);
      return row!.salt;
    })();
    salt.catch(() => salts.delete(db));
    salts.set(db, salt);
  }
  return salt;
}
