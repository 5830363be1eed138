import { inArray } from 'drizzle-orm';
import { pipelineUploads } from '../../../db/schema/index.js';
import type { Classification } from '../../../db/schema/types.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows } from '../../governance/access.js';

/** Who may read an uploaded file: those cleared for the marking its uploader gave it. */

export interface LoadedUpload {
  id: string;
  classification: Classification;
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The upload ids a graph's source_upload nodes name. */
// The graph's shape spelled out rather than `PipelineGraph`: the node modules read uploads through here, and the
// graph's types are built from their registry.
export function uploadIds(graph: { nodes: { type: string; data: { config: Record<string, unknown> } }[] }): string[] {
  return graph.nodes
    .filter((n) => n.type === 'source_upload')
    .map((n) => (n.data.config as { upload?: unknown }).upload)
    .filter((u): u is string => typeof u === 'string' && uuid.test(u));
}

async function uploadsById(ctx: ServiceContext, ids: string[]) {
  const wanted = [...new Set(ids.filter((id) => uuid.test(id)))];
  if (wanted.length === 0) return [];
  return ctx.db.select().from(pipelineUploads).where(inArray(pipelineUploads.id, wanted));
}

/** Uploads among `ids` the caller may read; one marked above its clearance is left out as if it did not exist. */
export async function loadUploads(ctx: ServiceContext, ids: string[]): Promise<Map<string, LoadedUpload>> {
  const rows = await uploadsById(ctx, ids);
  return new Map(
    rows
      .filter((r) => clearanceAllows(ctx.principal.clearance, r.classification))
      .map((r) => [r.id, { id: r.id, classification: r.classification, columns: r.columns, rows: r.rows }]),
  );
}

/** Upload ids among `ids` marked above the caller's clearance: a pipeline reading one is hidden from it. */
export async function hiddenUploads(ctx: ServiceContext, ids: string[]): Promise<Set<string>> {
  const rows = await uploadsById(ctx, ids);
  return new Set(rows.filter((r) => !clearanceAllows(ctx.principal.clearance, r.classification)).map((r) => r.id));
}
