import { asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import { assets, columns, profiles, sources } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import { withSourceReader } from '../connectors/source-reader.js';
import type { ServiceContext } from '../context.js';
import { requireRole, visibleAssetsSql } from '../governance/access.js';
import { loadMaskingColumns, maskingPlan, maskingSalt, maskValue } from '../governance/masking.js';
import { columnKind } from './profile-sql.js';
import {
  type ColumnProfile,
  defaultProfileLimits,
  type ProfileLimits,
  type ProfileRun,
  profileRelation,
  type ReadQuery,
} from './profile-stats.js';
import { scoreAsset } from './score.js';

/** Kinds of asset whose rows a profile reads; jobs, dashboards and data products have none of their own. */
const profiledKinds = ['table', 'view', 'materialized_view'];
const readableSources = ['postgres', 'mysql'];

type Asset = typeof assets.$inferSelect;

export interface ProfileOutcome {
  urn: string;
  rowCount: number;
  durationMs: number;
}

/**
 * Profiles one asset where its data lives, stores the run (history) and recomputes the asset's score.
 * Needs the steward or owner role: it reads the source's rows.
 */
export async function profileAsset(
  ctx: ServiceContext,
  assetId: string,
  limits: ProfileLimits = defaultProfileLimits,
): Promise<ProfileOutcome> {
  const [visible] = await queryRows<{ urn: string }>(
    ctx.db,
    sql`select a.urn from assets a where a.id = ${assetId} and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!visible) throw new DataOpsError('not_found', `no asset with id ${assetId}`);
  const asset = await findVisibleAsset(ctx, visible.urn);
  requireRole(ctx.principal, `profile ${asset.qualifiedName}`, 'steward', 'owner');
  await assertProfilable(ctx, asset);
  return withSourceReader(ctx, asset.sourceId!, (reader) => profileOne(ctx, reader, asset, limits));
}

/**
 * Profiles every active table and view of a source the caller may see, through one connection.
 * A table that fails (dropped since the last sync, no privilege) is reported and the others go on.
 */
export async function profileSource(
  ctx: ServiceContext,
  sourceId: string,
  limits: ProfileLimits = defaultProfileLimits,
): Promise<{ profiled: ProfileOutcome[]; failed: { urn: string; message: string }[] }> {
  requireRole(ctx.principal, 'profile a source', 'steward', 'owner');
  const [source] = await ctx.db.select().from(sources).where(eq(sources.id, sourceId));
  if (!source) throw new DataOpsError('not_found', `no source with id ${sourceId}`);
  if (!readableSources.includes(source.kind)) {
    throw new DataOpsError(
      'invalid_input',
      `source "${source.name}" is a ${source.kind} source, whose data is not read in place`,
    );
  }
  const ids = await queryRows<{ id: string }>(
    ctx.db,
    sql`select a.id::text from assets a where a.source_id = ${sourceId} and a.status = 'active'
      and a.kind in ('table', 'view', 'materialized_view') and ${visibleAssetsSql(ctx.principal)}
      order by a.qualified_name`,
  );
  if (ids.length === 0) return { profiled: [], failed: [] };
  const list = await ctx.db
    .select()
    .from(assets)
    .where(
      inArray(
        assets.id,
        ids.map((r) => r.id),
      ),
    )
    .orderBy(asc(assets.qualifiedName));
  const profiled: ProfileOutcome[] = [];
  const failed: { urn: string; message: string }[] = [];
  await withSourceReader(ctx, sourceId, async (reader) => {
    for (const asset of list) {
      try {
        profiled.push(await profileOne(ctx, reader, asset, limits));
      } catch (error) {
        if (error instanceof DataOpsError && error.code === 'unavailable') throw error;
        failed.push({ urn: asset.urn, message: (error as Error).message });
      }
    }
  });
  return { profiled, failed };
}

async function assertProfilable(ctx: ServiceContext, asset: Asset): Promise<void> {
  if (!profiledKinds.includes(asset.kind)) {
    throw new DataOpsError(
      'invalid_input',
      `${asset.qualifiedName} is a ${asset.kind}: only tables and views have rows to profile`,
    );
  }
  const [source] = asset.sourceId
    ? await ctx.db.select({ kind: sources.kind }).from(sources).where(eq(sources.id, asset.sourceId))
    : [];
  if (!source || !readableSources.includes(source.kind)) {
    throw new DataOpsError(
      'invalid_input',
      `${asset.qualifiedName} comes from ${source ? `a ${source.kind} source` : 'no source'}, whose data DataOps does not read in place; profiles cover Postgres and MySQL/MariaDB sources`,
    );
  }
}

async function profileOne(
  ctx: ServiceContext,
  reader: ReadQuery,
  asset: Asset,
  limits: ProfileLimits,
): Promise<ProfileOutcome> {
  const cols = await ctx.db
    .select({ name: columns.name, dataType: columns.dataType })
    .from(columns)
    .where(eq(columns.assetId, asset.id))
    .orderBy(asc(columns.position));
  const run: ProfileRun = await profileRelation(
    reader,
    { namespace: asset.namespace, name: asset.name, kind: asset.kind, estimatedRows: asset.rowCount },
    cols.map((c) => ({ ...c, kind: columnKind(reader.dialect, c.dataType) })),
    limits,
  );
  await ctx.db.transaction(async (tx) => {
    await tx.insert(profiles).values({
      assetId: asset.id,
      rowCount: run.rowCount,
      columnStats: run.columnStats as unknown as Record<string, Record<string, unknown>>,
      details: run.details,
      profiledAt: ctx.clock(),
    });
  });
  await scoreAsset(ctx, asset.id);
  return { urn: asset.urn, rowCount: run.rowCount, durationMs: run.details.durationMs };
}

/** How the values shown of a personal-data column were masked (masking.ts decides). */
type MaskedAs = 'partial' | 'hashed' | 'redacted';

export interface ProfileView {
  urn: string;
  profiledAt: string;
  rowCount: number;
  sample: { method: string; fraction: number };
  exactMoments: boolean;
  durationMs: number;
  columns: (ColumnProfile & { name: string; masked?: MaskedAs; withheld?: string[] })[];
  history: { profiledAt: string; rowCount: number | null }[];
}

/**
 * The latest profile of an asset the caller may see, or null when it was never profiled. Columns above
 * the caller's clearance are left out; the values shown of personal data are masked for the caller.
 */
export async function getLatestProfile(ctx: ServiceContext, urn: string): Promise<ProfileView | null> {
  const asset = await findVisibleAsset(ctx, urn);
  const runs = await ctx.db
    .select()
    .from(profiles)
    .where(eq(profiles.assetId, asset.id))
    .orderBy(desc(profiles.profiledAt), desc(profiles.id))
    .limit(10);
  const latest = runs[0];
  if (!latest) return null;
  const stats = latest.columnStats as unknown as Record<string, ColumnProfile>;
  // The profile shows values (top values, min, max), so they are masked as sample rows are: columns above
  // the caller's clearance are left out, personal data is partly shown, hashed or redacted.
  const plan = maskingPlan(ctx.principal, await loadMaskingColumns(ctx.db, asset.id));
  const salt = await maskingSalt(ctx.db);
  const shown = plan
    .filter((rule) => stats[rule.name] && rule.treatment !== 'withheld')
    .map((rule) => {
      const profile: ColumnProfile & { name: string; masked?: MaskedAs; withheld?: string[] } = {
        name: rule.name,
        ...stats[rule.name]!,
      };
      if (rule.treatment === 'shown') return profile;
      const mask = (value: unknown) => maskValue(rule, value, salt) as string | number | null;
      if (profile.min !== undefined) profile.min = mask(profile.min);
      if (profile.max !== undefined) profile.max = mask(profile.max);
      if (profile.topValues) profile.topValues = profile.topValues.map((t) => ({ ...t, value: String(mask(t.value)) }));
      // Quantiles are values too, and a masked number reads as a real one: left out.
      if (profile.quantiles) {
        delete profile.quantiles;
        profile.withheld = ['quantiles'];
      }
      profile.masked = rule.treatment as MaskedAs;
      return profile;
    });
  const details = latest.details as ProfileRun['details'];
  return {
    urn: asset.urn,
    profiledAt: latest.profiledAt.toISOString(),
    rowCount: latest.rowCount ?? 0,
    sample: details.sample,
    exactMoments: details.exactMoments,
    durationMs: details.durationMs,
    columns: shown,
    history: runs.map((r) => ({ profiledAt: r.profiledAt.toISOString(), rowCount: r.rowCount })),
  };
}
