import { serve } from '@hono/node-server';
import { count } from 'drizzle-orm';
import { createApp } from '../channels/http/app.js';
import { isLoopback, loopbackHosts } from '../channels/http/host-check.js';
import { assets } from '../db/schema/index.js';
import { DataOpsError } from '../mcp-server/errors.js';
import { localAdminId } from '../mcp-server/governance/principals.js';
import { loadDemo } from './demo.js';
import type { Workspace } from './workspace.js';

export interface StartOptions {
  port: number;
  host: string;
  auth?: 'local' | 'required';
  allowedHost?: string[];
  demo: boolean;
  as?: string;
}

/** Serves HTTP until SIGINT/SIGTERM; a first start on an empty embedded catalog loads the demo first. */
export async function startServer(ws: Workspace, options: StartOptions): Promise<void> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new DataOpsError('invalid_input', `--port must be a number from 0 to 65535, not "${options.port}"`);
  }
  const loopback = isLoopback(options.host);
  if (!loopback && options.auth === 'local') {
    throw new DataOpsError(
      'invalid_input',
      `--auth local is only allowed on a loopback address; ${options.host} is reachable by others`,
    );
  }
  if (options.demo && ws.storage.dataDir) {
    const [row] = await ws.database.db.select({ n: count() }).from(assets);
    if (row!.n === 0) {
      const summary = await loadDemo(ws, (message) => ws.ctx.logger.info(message));
      ws.ctx.logger.info('demo workspace loaded', { assets: summary.assets });
    }
  }
  const app = createApp({
    db: ws.database.db,
    contextFor: ws.contextFor,
    auth: loopback ? (options.auth ?? 'local') : 'required',
    localPrincipal: options.as ?? localAdminId,
    allowedHosts: [...loopbackHosts, ...(loopback ? [] : [options.host]), ...(options.allowedHost ?? [])],
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new DataOpsError(
          'unavailable',
          error.code === 'EADDRINUSE'
            ? `port ${options.port} is already in use: pick another with --port or PORT`
            : `could not listen on ${options.host}:${options.port}: ${error.message}`,
        ),
      ),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  process.stdout.write(`DataOps listening on http://${shown}:${port} (MCP at /mcp, health at /healthz)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
