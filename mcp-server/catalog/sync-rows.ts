import { and, eq } from 'drizzle-orm';
import type { Tx } from '../../db/create-db.js';
import { assets, sources } from '../../db/schema/index.js';
import type { DiscoveredAsset, SourceSnapshot } from '../connectors/types.js';

/**
 * A source's assets as a sync plans them and as the catalog holds them, and the catalog rows a discovered
 * asset becomes: what sync.ts and sync-changes.ts both work with.
 */

export interface Planned {
  discovered: DiscoveredAsset;
  urn: string;
  /** Hash of the asset's structure; statistics are left out so a busy table does not look changed. */
  fingerprint: string;
  embedding?: number[];
}

export type ExistingAsset = Awaited<ReturnType<typeof readExisting>>['existing'][number];

/** The source as the catalog has it, and its assets. */
export async function readExisting(db: Pick<Tx, 'select'>, snapshot: SourceSnapshot) {
  const [source] = await db
    .select()
    .from(sources)
    .where(and(eq(sources.kind, snapshot.kind), eq(sources.name, snapshot.name)));
  const existing = source
    ? await db
        .select({
          id: assets.id,
          urn: assets.urn,
          namespace: assets.namespace,
          qualifiedName: assets.qualifiedName,
          sourceFingerprint: assets.sourceFingerprint,
          status: assets.status,
          curatedFields: assets.curatedFields,
          embeddingModel: assets.embeddingModel,
          rowCount: assets.rowCount,
          sizeBytes: assets.sizeBytes,
          lastModified: assets.lastModified,
        })
        .from(assets)
        .where(eq(assets.sourceId, source.id))
    : [];
  return { source, existing };
}

export function statsOf(d: DiscoveredAsset) {
  return { rowCount: d.rowCount ?? null, sizeBytes: d.sizeBytes ?? null, lastModified: d.lastModified ?? null };
}

/** `schema.table` for databases, `dir/file.csv` for files. */
function qualifiedName(d: DiscoveredAsset): string {
  if (!d.namespace) return d.name;
  return `${d.namespace}${d.kind === 'file' ? '/' : '.'}${d.name}`;
}

/** What the source says about an asset, as catalog columns. */
export function assetValues(p: Planned, now: Date) {
  const d = p.discovered;
  return {
    kind: d.kind,
    namespace: d.namespace,
    name: d.name,
    qualifiedName: qualifiedName(d),
    description: d.description ?? null,
    owner: d.owner ?? null,
    definition: d.definition ?? null,
    ...statsOf(d),
    properties: d.properties ?? {},
    sourceFingerprint: p.fingerprint,
    status: 'active' as const,
    updatedAt: now,
  };
}

export function columnValues(assetId: string, d: DiscoveredAsset, now: Date) {
  return d.columns.map((c) => ({
    assetId,
    name: c.name,
    position: c.position,
    dataType: c.dataType,
    nullable: c.nullable,
    isPrimaryKey: c.isPrimaryKey,
    isForeignKey: (d.foreignKeys ?? []).some((fk) => fk.columns.includes(c.name)),
    defaultValue: c.defaultValue ?? null,
    description: c.description ?? null,
    updatedAt: now,
  }));
}
