import type { Db, Tx } from '../db/create-db.js';
import type { Classification, Role } from '../db/schema/types.js';
import type { Embedder } from './catalog/embeddings/embedder-type.js';
import type { SecretBox } from './connectors/source-credentials.js';
import type { DiscoveredAsset, SourceSnapshot } from './connectors/types.js';

/** Who is asking. Access decisions in every service are made from this, never from a prompt. */
export interface Principal {
  id: string;
  displayName: string;
  clearance: Classification;
  roles: Role[];
  /** Restricted domains this principal may see (need-to-know). */
  domains: string[];
  groups: string[];
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything a service call needs, passed explicitly: no globals, no connections made at import time. */
export interface ServiceContext {
  db: Db;
  principal: Principal;
  clock: () => Date;
  logger: Logger;
  embedder: Embedder;
  /** Seals the connections kept for sources; null when the workspace has no secret key (they are not kept). */
  secrets: SecretBox | null;
  /** Where pipeline file destinations write (`<data dir>/exports`); absent where files are not written. */
  exportsDir?: string;
  /** How domains react to each other's writes; `domainHooks` (mcp-server/domain-hooks.ts) in every context. */
  hooks: DomainHooks;
}

/**
 * How one domain reacts to another's writes, inside the write's transaction. The layer that assembles the
 * application fills these in (mcp-server/domain-hooks.ts), so the domain that writes never imports the one
 * that reacts: lineage does not import quality, the catalog does not import lineage.
 */
export interface DomainHooks {
  /**
   * OpenLineage events were stored: record the data-quality assertions they carry. `assetOf` finds the
   * asset of a dataset the events name, among those the principal may see (null: none).
   */
  openLineageRecorded(
    tx: Tx,
    ctx: ServiceContext,
    assetOf: (dataset: { namespace: string; name: string }) => Promise<string | null>,
  ): Promise<unknown>;
  /** A source was synced: bring the lineage of its views in line with their definitions. */
  sourceSynced(tx: Tx, sync: SyncedSource): Promise<SyncReaction>;
}

/** What a sync wrote, for the domains that react to it. */
export interface SyncedSource {
  snapshot: SourceSnapshot;
  sourceId: string;
  /** Every asset of the snapshot, with its URN. */
  assets: { urn: string; discovered: DiscoveredAsset }[];
  /** Catalog ids of the snapshot's assets, by URN. */
  ids: Map<string, string>;
  /** Namespaces the sync covered; empty: the whole source. */
  scope: string[];
  now: Date;
}

/** Lineage edges a reaction to a sync opened and closed, and the objects it could not read. */
export interface SyncReaction {
  opened: number;
  closed: number;
  errors: { object: string; message: string }[];
}

/** Logs one JSON line per event to stderr, so stdout stays free for MCP over stdio and `--json` output. */
export function createJsonLogger(level: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const order = { info: 0, warn: 1, error: 2, silent: 3 };
  const write = (lvl: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    process.stderr.write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), message, ...fields })}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
