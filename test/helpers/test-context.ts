import type { Database } from '../../db/create-db.js';
import { createEmbedder } from '../../mcp-server/catalog/embeddings/embedder.js';
import { createSecretBox } from '../../mcp-server/connectors/source-credentials.js';
import { createJsonLogger, type ServiceContext } from '../../mcp-server/context.js';
import { domainHooks } from '../../mcp-server/domain-hooks.js';
import {
  ensureLocalAdmin,
  loadPrincipal,
  localAdminId,
  type NewPrincipal,
  upsertPrincipal,
} from '../../mcp-server/governance/principals.js';

const embedder = createEmbedder({ provider: 'offline' });
const secrets = createSecretBox('dataops test key, never used outside the test suite');

/** A service context on a test database, acting as the local administrator unless told otherwise. */
export async function createTestContext(database: Database, principalId = localAdminId): Promise<ServiceContext> {
  await ensureLocalAdmin(database.db);
  return {
    db: database.db,
    principal: await loadPrincipal(database.db, principalId),
    clock: () => new Date(),
    logger: createJsonLogger('silent'),
    embedder,
    secrets,
    hooks: domainHooks,
  };
}

/** Creates a principal and returns a context acting as it. */
export async function contextAs(database: Database, principal: NewPrincipal): Promise<ServiceContext> {
  await upsertPrincipal(database.db, principal);
  return createTestContext(database, principal.id);
}
