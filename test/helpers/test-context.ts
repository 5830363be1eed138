import type { Database } from '../../db/create-db.js';
import type { ServiceContext } from '../../mcp-server/context.js';
import { localAdminId, type NewPrincipal, upsertPrincipal } from '../../mcp-server/governance/principals.js';
import { configForDatabase } from '../../mcp-server/runtime/config.js';
import { openRuntime, type Runtime } from '../../mcp-server/runtime/open-runtime.js';
import type { RuntimeSource } from '../../mcp-server/runtime/startup.js';

/** Silent logs, offline embeddings and a fixed key for the connections tests keep. */
const testEnv = {
  DATAOPS_LOG_LEVEL: 'silent',
  DATAOPS_SECRET_KEY: 'dataops test key, never used outside the test suite',
};

const runtimes = new WeakMap<Database, Promise<Runtime>>();

/** The runtime over a test file's database: one per database, which stays the test file's to close. */
export function testRuntime(database: Database): Promise<Runtime> {
  let runtime = runtimes.get(database);
  if (!runtime) {
    runtime = openRuntime(configForDatabase(database, testEnv), { database });
    runtimes.set(database, runtime);
  }
  return runtime;
}

/** The test runtime as the HTTP app takes it: ready, no startup work. */
export function testRuntimeSource(database: Database): RuntimeSource {
  return { status: () => ({ state: 'ready' }), whenReady: () => testRuntime(database) };
}

/** A service context on a test database, acting as the local administrator unless told otherwise. */
export async function createTestContext(database: Database, principalId = localAdminId): Promise<ServiceContext> {
  return (await testRuntime(database)).contextFor(principalId);
}

/** Creates a principal and returns a context acting as it. */
export async function contextAs(database: Database, principal: NewPrincipal): Promise<ServiceContext> {
  await upsertPrincipal(database.db, principal);
  return createTestContext(database, principal.id);
}
