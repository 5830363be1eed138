import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { authMode, isWildcard, parsePort, wildcardHosts } from '../cli/start.js';
import { type RunningServer, startServer, systemNode } from './helpers/processes.js';
import { binPath, runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

type SearchResult = { total: number; hits: { qualifiedName: string; classification: string }[] };

async function search(server: RunningServer, query: string, token?: string): Promise<SearchResult> {
  const response = await fetch(`${server.baseUrl}/api/tools/catalog_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, limit: 50 }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as SearchResult;
}

/** Room for loading the demo on a busy machine: how long a first start takes is a figure to measure, not to assert. */
const demoTimeout = 240_000;

describe('the demo workspace', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it.runIf(!process.env.DATAOPS_TEST_DATABASE_URL)(
    'loads on the first start of an empty embedded catalog, then serves it',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dataops-start-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const server = await startServer(systemNode(), [binPath, '--db', dir, 'start', '--port', '0'], {
        env: { ...process.env, DATAOPS_LOG_LEVEL: 'warn' },
        until: 'listening',
      });
      cleanups.push(() => server.stop());
      // It listens at once and says it is loading; a tool called meanwhile waits a little, then says why not.
      const loading = await fetch(`${server.baseUrl}/healthz`);
      expect(loading.status).toBe(503);
      expect(await loading.json()).toMatchObject({ status: 'loading', message: expect.stringMatching(/^DataOps is/) });
      const early = await fetch(`${server.baseUrl}/api/tools/catalog_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '' }),
      });
      expect(early.status).toBe(503);
      expect(await early.json()).toMatchObject({
        error: { code: 'unavailable', message: expect.stringMatching(/^DataOps is loading the demo workspace/) },
      });
      const deadline = Date.now() + 180_000;
      while ((await fetch(`${server.baseUrl}/healthz`)).status !== 200 && Date.now() < deadline) await sleep(500);
      expect(await (await fetch(`${server.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
      const all = await search(server, '');
      expect(all.total).toBe(30);
      const spend = await search(server, 'expenditure');
      expect(spend.hits[0]!.qualifiedName).toBe('contracts.vendor_spend_by_fy');
      await server.stop();

      // A second start finds the catalog filled and does not load the demo again.
      const again = await startServer(systemNode(), [binPath, '--db', dir, 'start', '--port', '0'], {
        env: { ...process.env, DATAOPS_LOG_LEVEL: 'info' },
      });
      cleanups.push(() => again.stop());
      expect(again.output()).not.toMatch(/loading the demo database/);
      expect((await search(again, '')).total).toBe(30);
      await again.stop();

      // Reloading it is idempotent, although the embedded demo database is served on a new port each time.
      const reloaded = await runCli(['--db', dir, '--json', 'demo']);
      expect(JSON.parse(reloaded.stdout)).toMatchObject({ added: 0, updated: 0, deprecated: 0, unchanged: 30 });
    },
    demoTimeout,
  );

  it(
    'loads with `dataops demo` beside a catalog on a server, marked and shown per clearance',
    async () => {
      const catalog = await createScratchDatabase(serverUrl, 'dataops_democat');
      cleanups.push(async () => {
        await catalog.drop();
        const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
        await admin.unsafe(`drop database if exists ${catalog.name}_demo with (force)`);
        await admin.end();
      });
      const loaded = await runCli(['--db', catalog.url, '--json', 'demo']);
      expect(loaded.stderr).toBe('');
      expect(JSON.parse(loaded.stdout)).toMatchObject({ source: 'demo', assets: 30, added: 30 });
      const again = await runCli(['--db', catalog.url, '--json', 'demo']);
      expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, updated: 0, unchanged: 30 });

      const analyst = JSON.parse(
        (await runCli(['--db', catalog.url, '--as', 'a.chen', '--json', 'search', ''])).stdout,
      );
      expect(analyst.facets.classification).toEqual([{ value: 'U', count: analyst.total }]);
      const ts = JSON.parse(
        (await runCli(['--db', catalog.url, '--json', 'search', 'special access program reviews'])).stdout,
      );
      expect(ts.hits[0]).toMatchObject({ qualifiedName: 'performance.sap_program_reviews', classification: 'TS' });
    },
    demoTimeout,
  );
});

describe('dataops start on a shared catalog or every interface', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, DATAOPS_LOG_LEVEL: 'warn' };
    for (const key of ['DATABASE_URL', 'DATAOPS_DATA_DIR', 'PORT', 'DATAOPS_HOST']) delete e[key];
    return e;
  };
  const post = (baseUrl: string, token?: string) =>
    fetch(`${baseUrl}/api/tools/catalog_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: '' }),
    });

  it('requires a token on loopback when the catalog is a Postgres server, unless --auth local says otherwise', async () => {
    const catalog = await createScratchDatabase(serverUrl, 'dataops_shared');
    cleanups.push(catalog.drop);
    const shared = await startServer(systemNode(), [binPath, '--db', catalog.url, 'start', '--port', '0'], {
      env: env(),
    });
    cleanups.push(() => shared.stop());
    const anonymous = await post(shared.baseUrl);
    expect(anonymous.status).toBe(401);
    expect(shared.output()).toMatch(/every request needs a bearer token/);
    await shared.stop();

    const { token } = JSON.parse((await runCli(['--db', catalog.url, '--json', 'token', 'create'])).stdout) as {
      token: string;
    };
    const local = await startServer(
      systemNode(),
      [binPath, '--db', catalog.url, 'start', '--port', '0', '--auth', 'local'],
      { env: env() },
    );
    cleanups.push(() => local.stop());
    expect((await post(local.baseUrl)).status).toBe(200);
    expect((await post(local.baseUrl, token)).status).toBe(200);
  });

  const lanAddress = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  it.runIf(lanAddress)(
    "bound to 0.0.0.0 (here through DATAOPS_HOST) answers on the machine's own addresses and says which",
    async () => {
      const catalog = await createScratchDatabase(serverUrl, 'dataops_lan');
      cleanups.push(catalog.drop);
      const server = await startServer(systemNode(), [binPath, '--db', catalog.url, 'start', '--port', '0'], {
        env: { ...env(), DATAOPS_HOST: '0.0.0.0' },
      });
      cleanups.push(() => server.stop());
      expect(server.baseUrl).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect(server.output()).toMatch(new RegExp(`answers to [^)]*${lanAddress!.replace(/\./g, '\\.')}`));
      // Traffic stays on loopback: the LAN address is only named in the Host header, as a client on the LAN would.
      const port = Number(new URL(server.baseUrl).port);
      const asLanClient = (method: string, token?: string) =>
        loopbackRequest(port, method, `${lanAddress}:${port}`, token);
      expect(await asLanClient('GET')).toBe(200);
      // Off loopback every request needs a token.
      expect(await asLanClient('POST')).toBe(401);
      const { token } = JSON.parse((await runCli(['--db', catalog.url, '--json', 'token', 'create'])).stdout) as {
        token: string;
      };
      expect(await asLanClient('POST', token)).toBe(200);
      expect(await loopbackRequest(port, 'GET', `evil.example:${port}`)).toBe(403);
    },
  );

  it('derives the wildcard hosts from the interfaces and the host name', () => {
    const interfaces = {
      lo: [
        { address: '127.0.0.1', family: 'IPv4', internal: true },
        { address: '::1', family: 'IPv6', internal: true },
      ],
      eth0: [
        { address: '10.1.2.3', family: 'IPv4', internal: false },
        { address: 'fd00::2', family: 'IPv6', internal: false },
        { address: 'fe80::1', family: 'IPv6', internal: false },
      ],
    } as unknown as ReturnType<typeof networkInterfaces>;
    expect(wildcardHosts('0.0.0.0', interfaces, 'Analyst-PC')).toEqual(['127.0.0.1', '10.1.2.3', 'analyst-pc']);
    expect(wildcardHosts('::', interfaces, 'analyst-pc')).toEqual([
      '127.0.0.1',
      '[::1]',
      '10.1.2.3',
      '[fd00::2]',
      'analyst-pc',
    ]);
    expect(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'].map(isWildcard)).toEqual([true, true, true, true]);
    expect(['127.0.0.1', '10.0.0.1', '::1', 'example.org'].map(isWildcard)).toEqual([false, false, false, false]);
  });

  it('defaults to token auth on a shared catalog and validates --port', () => {
    expect(authMode({ loopback: true, sharedCatalog: false })).toBe('local');
    expect(authMode({ loopback: true, sharedCatalog: true })).toBe('required');
    expect(authMode({ loopback: true, sharedCatalog: true, auth: 'local' })).toBe('local');
    expect(authMode({ loopback: false, sharedCatalog: false })).toBe('required');
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8787')).toBe(8787);
    for (const bad of ['abc', '-1', '65536', '1.5', '']) {
      expect(() => parsePort(bad)).toThrow(`--port must be a number from 0 to 65535, not "${bad}"`);
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request to 127.0.0.1 that names another Host, answered with its status (GET /healthz or a search POST). */
function loopbackRequest(port: number, method: string, host: string, token?: string): Promise<number> {
  const body = JSON.stringify({ query: '' });
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path: method === 'GET' ? '/healthz' : '/api/tools/catalog_search',
        headers: {
          host,
          ...(method === 'POST'
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.once('error', reject);
    request.end(method === 'POST' ? body : undefined);
  });
}
