import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, lt, type SQL, sql } from 'drizzle-orm';
import { canonicalJson } from '../../core/canonical-json.js';
import { type Db, queryRows, type Tx } from '../../db/create-db.js';
import { auditLog } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from './access.js';

export interface AuditEntry {
  actorId: string;
  action: string;
  targetUrn?: string | null;
  details?: Record<string, unknown>;
  at: Date;
}

const genesis = '0'.repeat(64);

function entryHash(prevHash: string, entry: AuditEntry): string {
  const body = canonicalJson([
    prevHash,
    entry.at.toISOString(),
    entry.actorId,
    entry.action,
    entry.targetUrn ?? null,
    entry.details ?? {},
  ]);
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Appends to the hash-chained audit log inside the caller's transaction, so the change and its record
 * commit together. A transaction-scoped advisory lock serialises writers to keep the chain linear.
 */
export async function appendAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(7426001)`);
  const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const prevHash = last?.hash ?? genesis;
  await tx.insert(auditLog).values({
    at: entry.at,
    actorId: entry.actorId,
    action: entry.action,
    targetUrn: entry.targetUrn ?? null,
    details: entry.details ?? {},
    prevHash,
    hash: entryHash(prevHash, entry),
  });
}

/**
 * Records one tool call: who called which tool on what, a digest of the arguments (not the arguments, which
 * may hold personal data or secrets) and the outcome, `ok` or the error code.
 */
export async function recordToolCall(ctx: ServiceContext, tool: string, args: unknown, outcome: string): Promise<void> {
  const argsDigest = createHash('sha256')
    .update(canonicalJson(args ?? {}))
    .digest('hex');
  await ctx.db.transaction((tx) =>
    appendAudit(tx, {
      actorId: ctx.principal.id,
      action: `tool.${tool}`,
      targetUrn: targetOf(args),
      details: { argsDigest, outcome },
      at: ctx.clock(),
    }),
  );
}

/**
 * The asset a call names: its `urn` argument, else the first argument that looks like a URN (lineage edges
 * name `from` and `to`). Only something URN-shaped is kept, so junk input cannot bloat or poison the log.
 */
function targetOf(args: unknown): string | null {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return null;
  const record = args as Record<string, unknown>;
  const candidates = [record.urn, ...Object.values(record)];
  const urn = candidates.find((v): v is string => typeof v === 'string' && /^urn:[\x21-\x7e]{1,995}$/.test(v));
  return urn ?? null;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

/**
 * The newest audit entries first (admins only), optionally about one asset. An entry that names an asset the
 * reader may not see, as its target or anywhere in its details, is left out like the asset itself.
 */
export async function readAuditLog(
  ctx: ServiceContext,
  options: { assetUrn?: string; limit: number; beforeSeq?: number },
): Promise<AuditRecord[]> {
  requireRole(ctx.principal, 'read the audit log', 'admin');
  const conditions: SQL[] = [
    sql`not exists (select 1 from assets a where not ${visibleAssetsSql(ctx.principal)}
      and (a.urn = ${auditLog.targetUrn} or strpos(${auditLog.details}::text, a.urn) > 0))`,
    // Pipeline entries name the files they read as `upload:<id>`: one marked above the reader hides them too.
    sql`not exists (select 1 from pipeline_uploads u where u.classification > ${ctx.principal.clearance}::classification
      and strpos(${auditLog.details}::text, 'upload:' || u.id::text) > 0)`,
  ];
  if (options.assetUrn) conditions.push(eq(auditLog.targetUrn, options.assetUrn));
  if (options.beforeSeq !== undefined) conditions.push(lt(auditLog.seq, options.beforeSeq));
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.seq))
    .limit(options.limit);
  const hidden = await hiddenColumnsByUrn(ctx, [...new Set(rows.flatMap((r) => (r.targetUrn ? [r.targetUrn] : [])))]);
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at.toISOString(),
    actor: r.actorId,
    action: r.action,
    target: r.targetUrn,
    // An annotation lists every column it marked: those above the reader's clearance are cut out.
    details: withoutMentions(r.details, (r.targetUrn && hidden.get(r.targetUrn)) || new Set()) as Record<
      string,
      unknown
    >,
  }));
}

/** For each asset URN, the names of its columns marked above the caller's clearance. */
async function hiddenColumnsByUrn(ctx: ServiceContext, urns: string[]): Promise<Map<string, Set<string>>> {
  if (urns.length === 0) return new Map();
  const rows = await queryRows<{ urn: string; name: string }>(
    ctx.db,
    sql`select a.urn, k.name from columns k join assets a on a.id = k.asset_id
        where a.urn in (select jsonb_array_elements_text(${JSON.stringify(urns)}::jsonb))
          and k.classification > ${ctx.principal.clearance}::classification`,
  );
  const byUrn = new Map<string, Set<string>>();
  for (const row of rows) byUrn.set(row.urn, (byUrn.get(row.urn) ?? new Set()).add(row.name));
  return byUrn;
}

/** A copy of a JSON value without the keys, array items and strings that mention one of `names`. */
export function withoutMentions(value: unknown, names: Set<string>): unknown {
  if (names.size === 0) return value;
  const mentions = (text: string) => [...names].some((n) => text.includes(n));
  if (Array.isArray(value)) {
    return value.filter((v) => typeof v !== 'string' || !mentions(v)).map((v) => withoutMentions(v, names));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => !mentions(k) && (typeof v !== 'string' || !mentions(v)))
        .map(([k, v]) => [k, withoutMentions(v, names)]),
    );
  }
  return value;
}

/** How a chain check went: the entries checked and the first whose record was altered, if any. */
export interface AuditVerification {
  checked: number;
  firstAlteredSeq: number | null;
}

/** Recomputes the whole chain as an admin (`dataops audit verify`). */
export async function verifyAudit(ctx: ServiceContext): Promise<AuditVerification> {
  requireRole(ctx.principal, 'verify the audit log', 'admin');
  return verifyAuditChainDetailed(ctx.db);
}

const verifyPage = 5_000;

/** Walks the chain a page at a time, so a long log is checked without holding it all in memory. */
async function verifyAuditChainDetailed(db: Db): Promise<AuditVerification> {
  let prevHash = genesis;
  let afterSeq = 0;
  let checked = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.seq, afterSeq))
      .orderBy(asc(auditLog.seq))
      .limit(verifyPage);
    for (const row of rows) {
      const expected = entryHash(prevHash, {
        at: row.at,
        actorId: row.actorId,
        action: row.action,
        targetUrn: row.targetUrn,
        details: row.details,
      });
      if (row.prevHash !== prevHash || row.hash !== expected) return { checked, firstAlteredSeq: row.seq };
      prevHash = row.hash;
      checked++;
    }
    if (rows.length < verifyPage) return { checked, firstAlteredSeq: null };
    afterSeq = rows[rows.length - 1]!.seq;
  }
}

/** Recomputes the chain; returns the first sequence number whose record was altered, or null when intact. */
export async function verifyAuditChain(db: Db): Promise<number | null> {
  return (await verifyAuditChainDetailed(db)).firstAlteredSeq;
}
