import { createHash } from 'node:crypto';
import { asc, desc, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/create-db.js';
import { auditLog } from '../../db/schema/index.js';

export interface AuditEntry {
  actorId: string;
  action: string;
  targetUrn?: string | null;
  details?: Record<string, unknown>;
  at: Date;
}

const genesis = '0'.repeat(64);

/** JSON with object keys sorted, because jsonb does not keep the order in which keys were written. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

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

/** Recomputes the chain; returns the first sequence number whose record was altered, or null when intact. */
export async function verifyAuditChain(db: Db): Promise<number | null> {
  const rows = await db.select().from(auditLog).orderBy(asc(auditLog.seq));
  let prevHash = genesis;
  for (const row of rows) {
    const expected = entryHash(prevHash, {
      at: row.at,
      actorId: row.actorId,
      action: row.action,
      targetUrn: row.targetUrn,
      details: row.details,
    });
    if (row.prevHash !== prevHash || row.hash !== expected) return row.seq;
    prevHash = row.hash;
  }
  return null;
}
