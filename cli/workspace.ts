import path from 'node:path';
import { createDb, type Database } from '../db/create-db.js';
import { createEmbedder } from '../mcp-server/catalog/embeddings/embedder.js';
import { loadSecretBox } from '../mcp-server/connectors/source-credentials.js';
import { createJsonLogger, type ServiceContext } from '../mcp-server/context.js';
import { domainHooks } from '../mcp-server/domain-hooks.js';
import { ensureLocalAdmin, loadPrincipal, localAdminId } from '../mcp-server/governance/principals.js';
import { type Env, embedderConfig, readEnv, type StorageLocation, storageLocation } from './config.js';

export interface GlobalOptions {
  db?: string;
  as?: string;
  json?: boolean;
}

export interface Workspace {
  env: Env;
  storage: StorageLocation;
  database: Database;
  /** A context acting as `--as` (the local administrator by default). */
  ctx: ServiceContext;
  /** A context for another principal, e.g. the one a bearer token stands for. */
  contextFor(principalId: string): Promise<ServiceContext>;
  close(): Promise<void>;
}

/** Opens the catalog (migrating it) and builds the request context every command runs with. */
export async function openWorkspace(options: GlobalOptions): Promise<Workspace> {
  const env = readEnv();
  const storage = storageLocation(options.db, env);
  const database = await createDb({ target: storage.catalog });
  try {
    await ensureLocalAdmin(database.db);
    const logger = createJsonLogger(env.DATAOPS_LOG_LEVEL);
    const embedder = createEmbedder(embedderConfig(env));
    const dataDir = storage.dataDir ?? path.resolve(env.DATAOPS_DATA_DIR ?? '.dataops');
    const secrets = loadSecretBox(env.DATAOPS_SECRET_KEY, dataDir);
    const contextFor = async (principalId: string): Promise<ServiceContext> => ({
      db: database.db,
      principal: await loadPrincipal(database.db, principalId),
      clock: () => new Date(),
      logger,
      embedder,
      secrets,
      exportsDir: path.join(dataDir, 'exports'),
      hooks: domainHooks,
    });
    return {
      env,
      storage,
      database,
      ctx: await contextFor(options.as ?? localAdminId),
      contextFor,
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
