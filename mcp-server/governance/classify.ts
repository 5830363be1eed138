import { and, asc, eq, sql } from 'drizzle-orm';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import { activityEvents, assets, classificationEvents, columns, sources } from '../../db/schema/index.js';
import { type Classification, classificationLevels } from '../../db/schema/types.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import { type SourceReader, withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from './access.js';
import { appendAudit } from './audit.js';
import type { PiiKind } from './pii-detectors.js';
import { detectColumnPii, type PiiEvidence } from './pii-evidence.js';
import { enforcePolicies } from './policies.js';
import type { PolicyWarning } from './policy-rules.js';
import { propagateFrom } from './propagation.js';

/** Assets holding personal data are marked at least this (as the demo's personnel records are). */
export const piiMinimumMarking: Classification = 'C';
export const defaultSampleSize = 200;
/** Above this many rows a Postgres table is sampled by blocks (TABLESAMPLE SYSTEM), not read from the start. */
const blockSampleAbove = 100_000;
/** Longest text read per sampled value: enough for any detector, bounded for wide columns. */
const maxValueLength = 200;

export interface ColumnSuggestion {
  column: string;
  kind: PiiKind;
  evidence: PiiEvidence;
  current: { sensitivity: string | null; kind: string | null };
  suggested: { sensitivity: 'pii'; kind: PiiKind };
  /** True when the column already carries this sensitivity and kind. */
  applied: boolean;
}

export interface ClassifyResult {
  urn: string;
  sample: { method: 'tablesample' | 'limit' | 'none'; rows: number; note: string | null };
  columns: ColumnSuggestion[];
  marking: { current: Classification; suggested: Classification; reason: string | null };
  /** Whether the suggestions were applied in this call, and how many columns or markings changed. */
  applied: boolean;
  changed: number;
  warnings: PolicyWarning[];
}

/**
 * Suggests which columns of an asset hold personal data, from their names and a bounded sample of their
 * values read where the data lives, with the evidence; with `apply`, a steward or owner records them
 * (column sensitivity `pii` and a `pii:<kind>` tag, the asset raised to at least C), audited.
 */
export async function classifyAsset(
  ctx: ServiceContext,
  request: { urn: string; apply?: boolean; sampleSize?: number },
): Promise<ClassifyResult> {
  const asset = await findVisibleAsset(ctx, request.urn);
  if (request.apply) requireRole(ctx.principal, 'apply classification suggestions', 'steward', 'owner');
  const visible = await ctx.db
    .select()
    .from(columns)
    .where(
      and(
        eq(columns.assetId, asset.id),
        sql`(${columns.classification} is null or ${columns.classification} <= ${ctx.principal.clearance}::classification)`,
      ),
    )
    .orderBy(asc(columns.position));
  const sample = await sampleColumns(ctx, asset, visible, request.sampleSize ?? defaultSampleSize);
  const now = ctx.clock();
  const suggestions: ColumnSuggestion[] = [];
  for (const column of visible) {
    const evidence = detectColumnPii(column.name, sample.values.get(column.name) ?? [], now);
    if (!evidence) continue;
    const currentKind = column.tags.find((t) => t.startsWith('pii:'))?.slice(4) ?? null;
    suggestions.push({
      column: column.name,
      kind: evidence.kind,
      evidence,
      current: { sensitivity: column.sensitivity, kind: currentKind },
      suggested: { sensitivity: 'pii', kind: evidence.kind },
      applied: column.sensitivity === 'pii' && currentKind === evidence.kind,
    });
  }
  const raise =
    suggestions.length > 0 && level(asset.classification) < level(piiMinimumMarking) ? piiMinimumMarking : null;
  const marking = {
    current: asset.classification,
    suggested: raise ?? asset.classification,
    reason: raise
      ? `holds personal data (${[...new Set(suggestions.map((s) => s.kind))].join(', ')}): assets with PII are marked at least ${piiMinimumMarking}`
      : null,
  };
  const result: ClassifyResult = {
    urn: asset.urn,
    sample: { method: sample.method, rows: sample.rows, note: sample.note },
    columns: suggestions,
    marking,
    applied: false,
    changed: 0,
    warnings: [],
  };
  if (!request.apply) return result;

  const pending = suggestions.filter((s) => !s.applied);
  if (pending.length === 0 && !raise) return { ...result, applied: true };
  return ctx.db.transaction(async (tx) => {
    const byName = new Map(visible.map((c) => [c.name, c]));
    for (const s of pending) {
      const column = byName.get(s.column)!;
      await tx
        .update(columns)
        .set({
          sensitivity: 'pii',
          tags: [...column.tags.filter((t) => !t.startsWith('pii:')), `pii:${s.kind}`],
          updatedAt: now,
        })
        .where(eq(columns.id, column.id));
      await tx.insert(classificationEvents).values({
        assetId: asset.id,
        columnName: s.column,
        from: column.classification,
        to: column.classification ?? marking.suggested,
        kind: 'suggestion_applied',
        reason: describeEvidence(s.evidence),
        details: { ...s.evidence },
        actorId: ctx.principal.id,
        createdAt: now,
      });
    }
    if (raise) {
      await tx.update(assets).set({ classification: raise, updatedAt: now }).where(eq(assets.id, asset.id));
      await tx.insert(classificationEvents).values({
        assetId: asset.id,
        from: asset.classification,
        to: raise,
        kind: 'suggestion_applied',
        reason: marking.reason!,
        details: { columns: pending.map((s) => s.column) },
        actorId: ctx.principal.id,
        createdAt: now,
      });
    }
    const summary = pending.map((s) => ({ column: s.column, kind: s.kind, matchShare: s.evidence.matchShare }));
    await tx.insert(activityEvents).values({
      assetId: asset.id,
      type: 'governance_updated',
      actorId: ctx.principal.id,
      summary: `${ctx.principal.displayName} marked ${pending.length} column${pending.length === 1 ? '' : 's'} as PII${raise ? ` and raised the marking to ${raise}` : ''}`,
      details: { columns: summary, marking: raise ? { from: asset.classification, to: raise } : null },
      at: now,
    });
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'classification.suggestions_applied',
      targetUrn: asset.urn,
      details: { columns: summary, marking: raise ? { from: asset.classification, to: raise } : null },
      at: now,
    });
    const warnings = await enforcePolicies(tx, ctx, 'classification.change', [asset.id]);
    if (raise) await propagateFrom(tx, ctx.principal.id, [asset.id], now);
    return { ...result, applied: true, changed: pending.length + (raise ? 1 : 0), warnings };
  });
}

/** One line a person can check: what matched, how often, and what the column's name said. */
export function describeEvidence(e: PiiEvidence): string {
  const share =
    e.matchShare === null
      ? 'no values could be sampled'
      : `${Math.round(e.matchShare * 100)}% of ${e.sampled} sampled values matched`;
  return `${e.kind}: ${e.detector}; ${share}${e.nameHint ? `; the column name says "${e.nameHint}"` : ''}`;
}

type AssetRow = typeof assets.$inferSelect;
type ColumnRow = typeof columns.$inferSelect;

interface Sample {
  method: ClassifyResult['sample']['method'];
  rows: number;
  note: string | null;
  values: Map<string, unknown[]>;
}

/** Binary, geometric and full-text columns hold nothing a detector reads. */
const unreadableType = /bytea|blob|binary|geometry|geography|tsvector|tsquery|raster/i;

/**
 * Reads up to `size` rows of the asset's readable columns through the source's saved connection. An
 * asset that cannot be read (files, a source whose connection was not kept) is judged by column names,
 * and the note says why.
 */
async function sampleColumns(
  ctx: ServiceContext,
  asset: AssetRow,
  visible: ColumnRow[],
  size: number,
): Promise<Sample> {
  const none = (note: string): Sample => ({ method: 'none', rows: 0, note, values: new Map() });
  const readable = visible.filter((c) => !unreadableType.test(c.dataType));
  if (readable.length === 0) return none('no column holds values a detector can read');
  if (!asset.sourceId || !['table', 'view', 'materialized_view'].includes(asset.kind)) {
    return none(`a ${asset.kind} has no rows to sample: judged by column names only`);
  }
  const [source] = await ctx.db.select({ kind: sources.kind }).from(sources).where(eq(sources.id, asset.sourceId));
  if (!source || (source.kind !== 'postgres' && source.kind !== 'mysql')) {
    return none(`${source?.kind ?? 'this'} sources are not read in place: judged by column names only`);
  }
  try {
    return await withSourceReader(ctx, asset.sourceId, (reader) => readSample(reader, asset, readable, size));
  } catch (error) {
    if (isDataOpsError(error) && (error.code === 'unavailable' || error.code === 'invalid_input')) {
      return none(`values not sampled: ${error.message}`);
    }
    throw new DataOpsError('unavailable', `could not sample ${asset.qualifiedName}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readSample(reader: SourceReader, asset: AssetRow, readable: ColumnRow[], size: number): Promise<Sample> {
  const postgres = reader.dialect === 'postgres';
  const quote = (name: string) => (postgres ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('`', '``')}\``);
  const list = readable
    .map((c, i) =>
      postgres
        ? `left(${quote(c.name)}::text, ${maxValueLength}) as c${i}`
        : `left(cast(${quote(c.name)} as char), ${maxValueLength}) as c${i}`,
    )
    .join(', ');
  const table = asset.namespace ? `${quote(asset.namespace)}.${quote(asset.name)}` : quote(asset.name);
  const blocks = postgres && asset.kind === 'table' && (asset.rowCount ?? 0) > blockSampleAbove;
  // SYSTEM sampling reads whole pages at random: a few times the wanted rows, so the limit still fills.
  const percent = blocks ? Math.min(100, Math.max(0.01, (100 * size * 5) / asset.rowCount!)) : 0;
  const sampled = blocks ? `${table} tablesample system (${percent.toFixed(4)})` : table;
  const rows = await reader.query<Record<string, unknown>>(`select ${list} from ${sampled} limit ${Math.trunc(size)}`);
  const values = new Map<string, unknown[]>(readable.map((c) => [c.name, []]));
  for (const row of rows) {
    readable.forEach((c, i) => {
      values.get(c.name)!.push(row[`c${i}`]);
    });
  }
  return { method: blocks ? 'tablesample' : 'limit', rows: rows.length, note: null, values };
}

function level(marking: Classification): number {
  return classificationLevels.indexOf(marking);
}
