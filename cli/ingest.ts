import { DataOpsError } from '../core/errors.js';
import { type SyncOptions, type SyncSummary, syncSource } from '../mcp-server/catalog/sync.js';
import { createFilesConnector } from '../mcp-server/connectors/files/files-connector.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { Connector, DiscoverProgress } from '../mcp-server/connectors/types.js';
import type { ServiceContext } from '../mcp-server/context.js';
import type { DbtSummary } from '../mcp-server/lineage/dbt.js';
import type { OpenLineageFilesSummary } from '../mcp-server/lineage/openlineage-files.js';

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
      throw new DataOpsError(
        'invalid_input',
        `unknown source kind "${kind}": use one of ${[...ingestKinds, ...lineageIngestKinds].join(', ')}`,
      );
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

/** Kinds whose target is a producer's files rather than a source to connect to. */
export const lineageIngestKinds = ['openlineage', 'dbt'] as const;

export function renderOpenLineageSummary(s: OpenLineageFilesSummary): string {
  const files = s.files.length;
  const lines = [
    `openlineage: ${s.events} events in ${files - s.refusedFiles} of ${files} file${files === 1 ? '' : 's'} — ` +
      `${s.accepted} recorded, ${s.replayed} already known; ${s.assetsCreated} assets added, ${s.assetsUpdated} updated; ` +
      `${s.runsChanged} runs changed; lineage: ${s.edgesOpened} edges opened, ${s.edgesClosed} closed`,
  ];
  for (const f of s.files) if (f.error) lines.push(`  refused ${f.file}: ${f.error}`);
  return lines.join('\n');
}

export function renderDbtSummary(s: DbtSummary): string {
  const lines = [
    `${s.project} (dbt manifest v${s.manifestVersion}): ${s.models} models, ${s.seeds} seeds, ${s.snapshots} snapshots, ` +
      `${s.sources} sources, ${s.exposures} exposures — ${s.mapped} found in the catalog's databases, ${s.created} added, ` +
      `${s.updated} updated, ${s.deprecated} deprecated; lineage: ${s.edgesOpened} edges opened, ${s.edgesClosed} closed, ` +
      `${s.columnMappings} column mappings; tests: ${s.rules.total} rules (${s.rules.added} added, ${s.rules.updated} updated, ` +
      `${s.rules.disabled} disabled)`,
  ];
  if (s.runs) {
    lines.push(
      `  run results: ${s.runs.recorded ? 'run recorded' : 'run already known'}, ${s.runs.testResults} test results`,
    );
  }
  for (const w of s.warnings) lines.push(`  ${w}`);
  return lines.join('\n');
}
