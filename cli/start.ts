import { isIP } from 'node:net';
import os from 'node:os';
import { serve } from '@hono/node-server';
import { count } from 'drizzle-orm';
import { createApp } from '../channels/http/app.js';
import { hostForm, isLoopback, loopbackHosts } from '../channels/http/host-check.js';
import { DataOpsError } from '../core/errors.js';
import { assets } from '../db/schema/index.js';
import { createOidcVerifier } from '../mcp-server/governance/oidc.js';
import { localAdminId } from '../mcp-server/governance/principals.js';
import { failInterruptedRuns } from '../mcp-server/pipelines/interrupted-runs.js';
import { webhookChannel } from '../mcp-server/quality/alerts-dispatch.js';
import { newInstanceId, startScheduler } from '../mcp-server/quality/scheduler.js';
import { renderCycle } from './alerts.js';
import { oidcConfig, schedulerConfig } from './config.js';
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

/** `--port` as typed (or PORT): an integer from 0 to 65535; the message echoes what was given. */
export function parsePort(value: string): number {
  const port = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DataOpsError('invalid_input', `--port must be a number from 0 to 65535, not "${value}"`);
  }
  return port;
}

/** 0.0.0.0, :: and their spellings: every interface of the machine. */
export function isWildcard(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 4) return bare === '0.0.0.0';
  if (family === 6) return new URL(`http://[${bare}]`).hostname === '[::]';
  return false;
}

/**
 * The names a server bound to every interface is reached by: the machine's interface addresses (IPv4
 * only for 0.0.0.0, which takes no IPv6 connections) and its host name. Link-local IPv6 addresses are
 * left out; browsers cannot put their zone in a URL.
 */
export function wildcardHosts(
  address: string,
  interfaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces(),
  hostname: string = os.hostname(),
): string[] {
  const ipv4Only = isIP(address) === 4;
  const hosts = new Set<string>();
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv6' && (ipv4Only || /^fe80:/i.test(entry.address))) continue;
      hosts.add(hostForm(entry.address));
    }
  }
  if (hostname) hosts.add(hostname.toLowerCase());
  return [...hosts];
}

/**
 * Who a request without a token acts as. Loopback on an embedded catalog is a desktop tool: the local
 * user. A catalog on a Postgres server is shared, so even on loopback a token is required unless
 * `--auth local` says otherwise; any other address always needs a token.
 */
export function authMode(options: {
  loopback: boolean;
  sharedCatalog: boolean;
  auth?: 'local' | 'required';
}): 'local' | 'required' {
  if (!options.loopback) return 'required';
  return options.auth ?? (options.sharedCatalog ? 'required' : 'local');
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
  const sharedCatalog = ws.storage.dataDir === null;
  const auth = authMode({ loopback, sharedCatalog, auth: options.auth });
  if (options.demo && ws.storage.dataDir) {
    const [row] = await ws.database.db.select({ n: count() }).from(assets);
    if (row!.n === 0) {
      const summary = await loadDemo(ws, (message) => ws.ctx.logger.info(message));
      ws.ctx.logger.info('demo workspace loaded', { assets: summary.assets });
    }
  }
  await recoverInterruptedRuns(ws);
  const explicitHosts = options.allowedHost ?? [];
  // On a wildcard the machine's names; the bind address itself too (curl http://0.0.0.0:8787 reaches this machine).
  const reachedAs = isWildcard(options.host) ? wildcardHosts(options.host) : [];
  const boundHosts = loopback ? [] : [hostForm(options.host), ...reachedAs];
  const oidc = oidcConfig(ws.env);
  const app = createApp({
    db: ws.database.db,
    contextFor: ws.contextFor,
    auth,
    localPrincipal: options.as ?? localAdminId,
    allowedHosts: [...new Set([...loopbackHosts, ...boundHosts, ...explicitHosts])],
    allowedOrigins: explicitHosts,
    oidc: oidc && { issuer: oidc.issuer, verify: createOidcVerifier(oidc, ws.database.db) },
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
  const answers = reachedAs.length > 0 ? `; answers to ${[...reachedAs, ...explicitHosts].join(', ')}` : '';
  process.stdout.write(
    `DataOps listening on http://${hostForm(options.host)}:${port} (MCP at /mcp, health at /healthz${answers})\n`,
  );
  if (auth === 'required' && loopback && !options.auth) {
    process.stdout.write(
      'The catalog is on a Postgres server, so it may be shared: every request needs a bearer token from ' +
        '`dataops token create --as <principal>` (pass --auth local to act as the local user without one).\n',
    );
  }
  const scheduler = startQualityScheduler(ws);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => scheduler?.stop().then(resolve, resolve) ?? resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Closes, as failed, the pipeline runs a stopped server left `running` (see failInterruptedRuns). */
export async function recoverInterruptedRuns(ws: Workspace): Promise<void> {
  const closed = await failInterruptedRuns(ws.database.db, new Date(), { embedded: ws.storage.dataDir !== null });
  if (closed > 0)
    ws.ctx.logger.warn(
      `marked ${closed} pipeline run(s) failed: the server running them had stopped before they finished`,
    );
}

/**
 * Runs the quality scheduler beside the server: a first cycle at once (so every table of a new catalog
 * has a profile and a score after it), then every DATAOPS_SCHEDULER_INTERVAL seconds; 0 turns it off.
 * Several servers on one catalog share the work through the database's leases.
 */
function startQualityScheduler(ws: Workspace) {
  const intervalSeconds = ws.env.DATAOPS_SCHEDULER_INTERVAL;
  if (intervalSeconds === 0) return null;
  return startScheduler(ws.ctx, {
    instanceId: newInstanceId(),
    ...schedulerConfig(ws.env),
    channels: [webhookChannel()],
    intervalMs: intervalSeconds * 1000,
    onCycle: (summary) => {
      if (summary.ran > 0 || summary.deliveries.sent > 0)
        ws.ctx.logger.info(`quality scheduler: ${renderCycle(summary)}`);
    },
  });
}
