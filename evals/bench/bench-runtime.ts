import type { Database } from '../../db/create-db.js';
import { localServerUrl } from '../../db/scratch-database.js';
import type { ServiceContext } from '../../mcp-server/context.js';
import { localAdminId } from '../../mcp-server/governance/principals.js';
import { configForDatabase } from '../../mcp-server/runtime/config.js';
import { openRuntime } from '../../mcp-server/runtime/open-runtime.js';

/** The server benchmarks make scratch databases on unless DATAOPS_BENCH_SERVER_URL says otherwise. */
export const defaultServerUrl = process.env.DATAOPS_TEST_DATABASE_URL ?? localServerUrl;

/** The local administrator's context on a benchmark's catalog, from the runtime every surface uses. */
export async function benchContext(database: Database): Promise<ServiceContext> {
  const env = { DATAOPS_LOG_LEVEL: 'silent', DATAOPS_SECRET_KEY: 'dataops benchmark key, for scratch catalogs only' };
  const runtime = await openRuntime(configForDatabase(database, env), { database });
  return runtime.contextFor(localAdminId);
}
