import { isIP } from 'node:net';
import os from 'node:os';
import { serve } from '@hono/node-server';
import { createApp } from '../channels/http/app.js';
import { hostForm, isLoopback, loopbackHosts } from '../channels/http/host-check.js';
import { DataOpsError } from '../core/errors.js';
import { createOidcVerifier } from '../mcp-server/governance/oidc.js';
import { localAdminId } from '../mcp-server/governance/principals.js';
import type { ToolSelection } from '../mcp-server/registry.js';
import { oidcConfig, type RuntimeConfig } from '../mcp-server/runtime/config.js';
import { startRuntime } from '../mcp-server/runtime/startup.js';

export interface StartOptions {
  port: number;
  host: string;
  auth?: 'local' | 'required';
  allowedHost?: string[];
  demo: boolean;
  as?: string;
  /** The tools the server offers (`--toolsets`, `--read-only`). */
  tools?: ToolSelection;
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

/**
 * Serves HTTP until SIGINT/SIGTERM. It listens at once: /healthz says `loading` (503) while the catalog opens
 * and, on a first start of an empty embedded catalog, the demo loads; then `ok`. The scheduler starts when
 * startup work is over.
 */
export async function startServer(config: RuntimeConfig, options: StartOptions): Promise<void> {
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
  const sharedCatalog = config.storage.dataDir === null;
  const auth = authMode({ loopback, sharedCatalog, auth: options.auth });
  const explicitHosts = options.allowedHost ?? [];
  // On a wildcard the machine's names; the bind address itself too (curl http://0.0.0.0:8787 reaches this machine).
  const reachedAs = isWildcard(options.host) ? wildcardHosts(options.host) : [];
  const boundHosts = loopback ? [] : [hostForm(options.host), ...reachedAs];
  const oidc = oidcConfig(config.env);
  const startup = startRuntime(config, { demo: options.demo, as: options.as });
  // One verifier for the server's life: it caches the provider's signing keys.
  const verifier = oidc && startup.opened.then((runtime) => createOidcVerifier(oidc, runtime.database.db));
  verifier?.catch(() => {}); // a catalog that cannot open ends the process below
  const app = createApp({
    runtime: startup,
    auth,
    localPrincipal: options.as ?? localAdminId,
    allowedHosts: [...new Set([...loopbackHosts, ...boundHosts, ...explicitHosts])],
    allowedOrigins: explicitHosts,
    oidc: oidc && verifier && { issuer: oidc.issuer, verify: async (token) => (await verifier)(token) },
    tools: options.tools,
  });
  // An embedded catalog's lock is taken as soon as opening starts: one held by another process fails by the
  // next turn of the event loop, before this announces itself listening.
  await new Promise((resolve) => setImmediate(resolve));
  if (startup.status().state === 'failed') await startup.opened;
  let server: ReturnType<typeof serve>;
  try {
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
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
  } catch (error) {
    await startup.close();
    throw error;
  }
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
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  // A catalog that cannot open (unreachable server, held data directory) ends the process as before it listened.
  const runtime = await startup.opened.catch(async (error: unknown) => {
    await closeServer();
    throw error;
  });
  let stopping = false;
  // A stop asked for while the demo loads must not be followed by a scheduler cycle.
  void startup.settled.then(() => stopping || runtime.scheduler.start());
  await new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      void closeServer().then(() => startup.close().then(resolve, resolve));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
