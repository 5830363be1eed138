import type { ServiceContext } from '../mcp-server/context.js';
import { localAdminId } from '../mcp-server/governance/principals.js';
import { readConfig } from '../mcp-server/runtime/config.js';
import { openRuntime, type Runtime } from '../mcp-server/runtime/open-runtime.js';

export interface GlobalOptions {
  db?: string;
  as?: string;
  json?: boolean;
}

/** The runtime a command runs with, and the context of `--as` (the local administrator by default). */
export interface Workspace extends Runtime {
  ctx: ServiceContext;
}

/** Opens the runtime from `--db` and the environment and loads the context every command runs as. */
export async function openWorkspace(options: GlobalOptions): Promise<Workspace> {
  const runtime = await openRuntime(readConfig(options));
  try {
    return { ...runtime, ctx: await runtime.contextFor(options.as ?? localAdminId) };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
