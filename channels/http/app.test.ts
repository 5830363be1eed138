import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/create-db.js';
import { annotateAssets } from '../../mcp-server/catalog/annotate.js';
import { syncSource } from '../../mcp-server/catalog/sync.js';
import { assetUrn } from '../../mcp-server/catalog/urn.js';
import { createApiToken, localAdminId, upsertPrincipal } from '../../mcp-server/governance/principals.js';
import { warehouseSnapshot } from '../../test/fixtures/warehouse-snapshot.js';
import { createTestContext } from '../../test/helpers/test-context.js';
import { createTestDb } from '../../test/helpers/test-db.js';
import { createApp } from './app.js';
import { loopbackHosts } from './host-check.js';

describe('HTTP app', () => {
  let database: Database;
  let analystToken: string;
  const apps = (auth: 'local' | 'required') =>
    createApp({
      db: database.db,
      contextFor: (id) => createTestContext(database, id),
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
    const sameOrigin = await app.request('http://127.0.0.1:8787/healthz', {
      headers: { origin: 'http://localhost:8787' },
    });
    expect(sameOrigin.status).toBe(200);
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
});
