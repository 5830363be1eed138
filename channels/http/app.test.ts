import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataOpsError } from '../../core/errors.js';
import type { Database } from '../../db/create-db.js';
import { annotateAssets } from '../../mcp-server/catalog/annotate.js';
import { syncSource } from '../../mcp-server/catalog/sync.js';
import { assetUrn } from '../../mcp-server/catalog/urn.js';
import { createApiToken, localAdminId, upsertPrincipal } from '../../mcp-server/governance/principals.js';
import { warehouseSnapshot } from '../../test/fixtures/warehouse-snapshot.js';
import { createTestContext, testRuntime, testRuntimeSource } from '../../test/helpers/test-context.js';
import { createTestDb } from '../../test/helpers/test-db.js';
import { createApp } from './app.js';
import { loopbackHosts } from './host-check.js';

describe('HTTP app', () => {
  let database: Database;
  let analystToken: string;
  const apps = (auth: 'local' | 'required') =>
    createApp({
      runtime: testRuntimeSource(database),
      auth,
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
    });

  beforeAll(async () => {
    database = await createTestDb();
    const ctx = await createTestContext(database);
    await syncSource(ctx, warehouseSnapshot());
    await annotateAssets(ctx, [
      { urn: assetUrn('postgres', 'warehouse', 'intel', 'collection_requirements'), classification: 'TS' },
    ]);
    await upsertPrincipal(database.db, { id: 'analyst', displayName: 'Analyst', clearance: 'U', roles: ['viewer'] });
    analystToken = await createApiToken(database.db, 'analyst', 'test');
  });
  afterAll(() => database.close());

  const mcpClient = async (app: ReturnType<typeof apps>, token?: string) => {
    const transport = new StreamableHTTPClientTransport(new URL('http://127.0.0.1:8787/mcp'), {
      fetch: async (url, init) => app.request(String(url), init),
      requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
    });
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(transport);
    return client;
  };

  it('answers /healthz', async () => {
    const res = await apps('required').request('http://127.0.0.1:8787/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves MCP to a token holder as that principal', async () => {
    const client = await mcpClient(apps('required'), analystToken);
    const result = await client.callTool({ name: 'catalog_search', arguments: { query: '', limit: 50 } });
    const names = (result.structuredContent as { hits: { name: string }[] }).hits.map((h) => h.name);
    expect(names).toContain('contracts');
    expect(names).not.toContain('collection_requirements');
    await client.close();
  });

  it('lets the loopback user in without a token only in local mode', async () => {
    const local = await mcpClient(apps('local'));
    const result = await local.callTool({ name: 'catalog_search', arguments: { query: 'collection requirements' } });
    expect((result.structuredContent as { hits: { name: string }[] }).hits[0]!.name).toBe('collection_requirements');
    await expect(mcpClient(apps('required'))).rejects.toThrow();
    const res = await apps('required').request('http://127.0.0.1:8787/mcp', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/dataops token create/);
  });

  it('rejects unknown tokens, foreign Host headers and foreign Origins (DNS rebinding)', async () => {
    const app = apps('local');
    const badToken = await app.request('http://127.0.0.1:8787/mcp', {
      method: 'POST',
      headers: { authorization: 'Bearer dop_nope' },
    });
    expect(badToken.status).toBe(401);
    const rebound = await app.request('http://evil.example:8787/mcp', {
      method: 'POST',
      headers: { host: 'evil.example:8787' },
    });
    expect(rebound.status).toBe(403);
    const origin = await app.request('http://127.0.0.1:8787/healthz', { headers: { origin: 'http://evil.example' } });
    expect(origin.status).toBe(403);
    const sameOrigin = await app.request('http://localhost:8787/healthz', {
      headers: { origin: 'http://localhost:8787' },
    });
    expect(sameOrigin.status).toBe(200);
  });

  const contractsUrn = assetUrn('postgres', 'warehouse', 'procurement', 'contracts');
  const describeContracts = (description: string) => JSON.stringify({ urn: contractsUrn, description });
  const contractsDescription = async () => {
    const res = await apps('local').request('http://127.0.0.1:8787/api/tools/catalog_get_asset', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ urn: contractsUrn }),
    });
    return ((await res.json()) as { description: string | null }).description;
  };

  it('refuses a sandboxed frame (Origin: null) posting text/plain as the local admin, and changes nothing', async () => {
    const before = await contractsDescription();
    const res = await apps('local').request('http://127.0.0.1:8787/api/tools/catalog_update_asset', {
      method: 'POST',
      headers: { origin: 'null', 'content-type': 'text/plain' },
      body: describeContracts('pwned'),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Origin: null/);
    expect(await contractsDescription()).toBe(before);
  });

  it('needs Content-Type: application/json on /api POSTs (a form or text/plain post cannot run a tool)', async () => {
    const before = await contractsDescription();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const res = await apps('local').request('http://127.0.0.1:8787/api/tools/catalog_update_asset', {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: describeContracts('pwned'),
      });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
        /needs Content-Type: application\/json/,
      );
    }
    expect(await contractsDescription()).toBe(before);
    const withCharset = await apps('local').request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ query: 'contracts' }),
    });
    expect(withCharset.status).toBe(200);
  });

  it('accepts only the exact served origin: another port or scheme of localhost is another site', async () => {
    const app = apps('local');
    const post = (url: string, origin: string) =>
      app.request(url, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'contracts' }),
      });
    expect((await post('http://localhost:8787/api/tools/catalog_search', 'http://localhost:3000')).status).toBe(403);
    expect((await post('http://localhost:8787/api/tools/catalog_search', 'https://localhost:8787')).status).toBe(403);
    expect((await post('http://127.0.0.1:8787/api/tools/catalog_search', 'http://localhost:8787')).status).toBe(403);
    expect((await post('http://127.0.0.1:8787/api/tools/catalog_search', 'http://127.0.0.1')).status).toBe(403);
    expect((await post('http://127.0.0.1:8787/api/tools/catalog_search', 'http://127.0.0.1:8787')).status).toBe(200);
    expect((await post('http://[::1]:8787/api/tools/catalog_search', 'http://[::1]:8787')).status).toBe(200);
  });

  it('lets pages on an explicitly allowed host call it, with the port when one was given', async () => {
    const app = createApp({
      runtime: testRuntimeSource(database),
      auth: 'required',
      localPrincipal: localAdminId,
      allowedHosts: [...loopbackHosts, 'dataops.example.mil', 'portal.example.mil:8443'],
      allowedOrigins: ['dataops.example.mil', 'portal.example.mil:8443'],
    });
    const get = (origin: string) =>
      app.request('http://dataops.example.mil/healthz', { headers: { host: 'dataops.example.mil', origin } });
    expect((await get('https://dataops.example.mil')).status).toBe(200);
    expect((await get('https://portal.example.mil:8443')).status).toBe(200);
    expect((await get('https://portal.example.mil')).status).toBe(403);
    expect((await get('https://portal.example.mil:9443')).status).toBe(403);
    expect((await get('https://evil.example')).status).toBe(403);
  });

  it('answers 413 with a clear message to a body over the limit on /api and /mcp', async () => {
    const app = createApp({
      runtime: testRuntimeSource(database),
      auth: 'local',
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
      maxBodyBytes: 1024 * 1024,
    });
    const big = JSON.stringify({ query: 'x'.repeat(1024 * 1024) });
    for (const path of ['/api/tools/catalog_search', '/mcp']) {
      const res = await app.request(`http://127.0.0.1:8787${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: big,
      });
      expect(res.status, path).toBe(413);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'the request body is larger than the 1 MiB this server accepts',
      );
    }
    // Without a Content-Length (a chunked upload) the limit holds too.
    const chunked = await app.request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // The default is 4 MiB.
    const defaultLimit = await apps('local').request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'x'.repeat(5 * 1024 * 1024) }),
    });
    expect(defaultLimit.status).toBe(413);
  });

  it('answers 400, not 500, to a forged cursor with a huge offset', async () => {
    const cursor = Buffer.from(JSON.stringify({ o: 1e300 })).toString('base64url');
    const res = await apps('local').request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '', cursor }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/cursor/);
  });

  it('runs tools as JSON under /api with HTTP status codes for errors', async () => {
    const app = apps('required');
    const headers = { authorization: `Bearer ${analystToken}`, 'content-type': 'application/json' };
    const ok = await app.request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: 'shipments' }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { hits: { name: string }[] }).hits[0]!.name).toBe('shipments');
    const hidden = await app.request('http://127.0.0.1:8787/api/tools/catalog_get_asset', {
      method: 'POST',
      headers,
      body: JSON.stringify({ urn: assetUrn('postgres', 'warehouse', 'intel', 'collection_requirements') }),
    });
    expect(hidden.status).toBe(404);
    const bad = await app.request('http://127.0.0.1:8787/api/tools/catalog_search', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: 'x', limit: 9999 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/limit/);
  });
  it('says it is loading on /healthz and /api until its runtime is ready, then serves', async () => {
    let loading = true;
    const app = createApp({
      runtime: {
        status: () => (loading ? { state: 'loading', step: 'ingesting', sinceMs: Date.now() } : { state: 'ready' }),
        whenReady: async () => {
          if (loading) throw new DataOpsError('unavailable', 'DataOps is loading the demo workspace');
          return testRuntime(database);
        },
      },
      auth: 'local',
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
    });
    const health = () => app.request('http://127.0.0.1:8787/healthz');
    const search = () =>
      app.request('http://127.0.0.1:8787/api/tools/catalog_search', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'contracts' }),
      });
    const during = await health();
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({
      status: 'loading',
      message: expect.stringContaining('now: ingesting'),
    });
    const early = await search();
    expect(early.status).toBe(503);
    expect(await early.json()).toEqual({
      error: { code: 'unavailable', message: 'DataOps is loading the demo workspace' },
    });
    loading = false;
    expect(await (await health()).json()).toEqual({ status: 'ok' });
    expect((await search()).status).toBe(200);
  });
});
