import { type SyncOptions, type SyncSummary, syncSource } from '../mcp-server/catalog/sync.js';
import { createFilesConnector } from '../mcp-server/connectors/files/files-connector.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { Connector, DiscoverProgress } from '../mcp-server/connectors/types.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { DataOpsError } from '../mcp-server/errors.js';

export const ingestKinds = ['postgres', 'mysql', 'files'] as const;
export type IngestKind = (typeof ingestKinds)[number];

export function createConnector(
  kind: string,
  target: string,
  options: { name?: string; schemas?: string[] },
): Connector {
  switch (kind) {
    case 'postgres':
      return createPostgresConnector({ url: target, name: options.name, schemas: options.schemas });
    case 'mysql':
      return createMysqlConnector({ url: target, name: options.name });
    case 'files':
      return createFilesConnector({ root: target, name: options.name });
    default:
      throw new DataOpsError('invalid_input', `unknown source kind "${kind}": use one of ${ingestKinds.join(', ')}`);
  }
}

/**
 * Reads a source and syncs it into the catalog; discovery progress goes to `onProgress`, and
 * `onSaving` hears how many assets the (possibly long) sync phase will write. The summary is returned.
 */
export async function ingest(
  ctx: ServiceContext,
  connector: Connector,
  options: SyncOptions = {},
  onProgress?: (progress: DiscoverProgress) => void,
  onSaving?: (assets: number) => void,
): Promise<SyncSummary> {
  const snapshot = await connector.discover(onProgress);
  onSaving?.(snapshot.assets.length);
  return syncSource(ctx, snapshot, options);
}

export function renderSummary(s: SyncSummary): string {
  const lines = [
    `${s.source}: ${s.assets} assets — ${s.added} added, ${s.updated} updated, ${s.refreshed} refreshed, ${s.unchanged} unchanged, ` +
      `${s.deprecated} deprecated, ${s.restored} restored, ${s.schemaChanges} schema changes`,
  ];
  for (const e of s.errors) lines.push(`  skipped ${e.object}: ${e.message}`);
  return lines.join('\n');
}
