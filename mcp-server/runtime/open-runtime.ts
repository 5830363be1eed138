import path from 'node:path';
import { createDb, type Database } from '../../db/create-db.js';
import { closeAllEmbedded } from '../../db/embedded/shared-embedded.js';
import { createEmbedder } from '../catalog/embeddings/embedder.js';
import type { Embedder } from '../catalog/embeddings/embedder-type.js';
import { createSecretBox, loadSecretBox, type SecretBox } from '../connectors/source-credentials.js';
import { createJsonLogger, type Logger, type ServiceContext } from '../context.js';
import { domainHooks } from '../domain-hooks.js';
import { ensureLocalAdmin, loadPrincipal, localAdminId } from '../governance/principals.js';
import { type Env, embedderConfig, type RuntimeConfig, type StorageLocation } from './config.js';
import { qualityScheduler, type RuntimeScheduler } from './quality-scheduler.js';

export interface RuntimeOptions {
  /**
   * An already-open, migrated catalog (a test file keeps one per file). The runtime then leaves opening and
   * closing it to its owner; without it the runtime opens `config.storage.catalog` and migrates it.
   */
  database?: Database;
  /** The principal the scheduler runs as (its context's logger and clock); default the local administrator. */
  schedulerPrincipal?: string;
}

/**
 * The application, assembled once: every surface (CLI, MCP over stdio, HTTP, tests, benchmarks and the
 * channels to come) starts from this and asks it for contexts; none builds a ServiceContext by hand.
 */
export interface Runtime {
  config: RuntimeConfig;
  env: Env;
  storage: StorageLocation;
  database: Database;
  logger: Logger;
  embedder: Embedder;
  /** Seals the connections kept for sources; null when there is neither a key nor a directory to keep one. */
  secrets: SecretBox | null;
  /** The request context of one principal, loaded now (clearance, roles and domains as they stand). */
  contextFor(principalId: string): Promise<ServiceContext>;
  /** The quality scheduler; serving surfaces start it, close() stops it. */
  scheduler: RuntimeScheduler;
  /** Stops the scheduler and closes the catalog (unless it was handed in open). */
  close(): Promise<void>;
}

/** Opens (and migrates) the catalog, ensures the local administrator exists and assembles the runtime. */
export async function openRuntime(config: RuntimeConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const owned = !options.database;
  const database = options.database ?? (await createDb({ target: config.storage.catalog }));
  try {
    await ensureLocalAdmin(database.db);
    const logger = createJsonLogger(config.env.DATAOPS_LOG_LEVEL);
    const embedder = createEmbedder(embedderConfig(config.env));
    const secrets = config.filesDir
      ? loadSecretBox(config.env.DATAOPS_SECRET_KEY, config.filesDir)
      : config.env.DATAOPS_SECRET_KEY
        ? createSecretBox(config.env.DATAOPS_SECRET_KEY)
        : null;
    const exportsDir = config.filesDir ? path.join(config.filesDir, 'exports') : undefined;
    const contextFor = async (principalId: string): Promise<ServiceContext> => ({
      db: database.db,
      principal: await loadPrincipal(database.db, principalId),
      clock: () => new Date(),
      logger,
      embedder,
      secrets,
      ...(exportsDir ? { exportsDir } : {}),
      hooks: domainHooks,
    });
    const scheduler = qualityScheduler(config.env, () => contextFor(options.schedulerPrincipal ?? localAdminId));
    return {
      config,
      env: config.env,
      storage: config.storage,
      database,
      logger,
      embedder,
      secrets,
      contextFor,
      scheduler,
      close: async () => {
        await scheduler.stop();
        if (!owned) return;
        // The demo's embedded database first: the catalog's lock, released last, guards both directories.
        await closeAllEmbedded();
        await database.close();
      },
    };
  } catch (error) {
    if (owned) await database.close();
    throw error;
  }
}
