import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../channels/http/app.js';
import { loopbackHosts } from '../channels/http/host-check.js';
import type { Database } from '../db/create-db.js';
import { localAdminId } from '../mcp-server/governance/principals.js';
import type { ToolSelection } from '../mcp-server/registry.js';
import { systemNode } from './helpers/processes.js';
import { binPath, runCli } from './helpers/run-cli.js';
import { testRuntimeSource } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] };

async function listed(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name);
}

async function refusal(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  expect(result.isError, `${name} should be refused`).toBe(true);
  return result.content.map((c) => c.text).join('\n');
}

describe('toolsets and read-only on dataops mcp (stdio, the real CLI)', () => {
  let work: string;
  let db: string;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'dataops-toolsets-'));
    if (process.env.DATAOPS_TEST_DATABASE_URL) {
      const scratch = await createScratchDatabase(serverUrl, 'dataops_toolsets');
      db = scratch.url;
      drop = scratch.drop;
    } else {
      db = path.join(work, 'data');
    }
    // A catalog with one asset, so `dataops mcp` serves it as it stands (no demo to load first).
    const files = path.join(work, 'procurement');
    mkdirSync(files);
    writeFileSync(path.join(files, 'contract_spend.csv'), 'contract_id,amount\nC-1,10\n');
    const ingest = await runCli(['--db', db, 'ingest', 'files', files]);
    expect(ingest.code, ingest.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await drop?.();
    rmSync(work, { recursive: true, force: true });
  });

  async function connect(args: string[], env: Record<string, string> = {}): Promise<Client> {
    const transport = new StdioClientTransport({
      command: systemNode(),
      args: [binPath, '--db', db, 'mcp', ...args],
      env: { ...(process.env as Record<string, string>), DATAOPS_LOG_LEVEL: 'error', ...env },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'toolsets-test', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  it('--toolsets and --read-only list only the chosen read-only tools, and refuse the others with how to enable them', async () => {
    const client = await connect(['--toolsets', 'catalog,lineage', '--read-only']);
    try {
      const names = await listed(client);
      expect(names).toContain('catalog_search');
      expect(names).toContain('lineage_impact');
      expect(names).not.toContain('catalog_update_asset');
      expect(names.every((n) => n.startsWith('catalog_') || n.startsWith('lineage_'))).toBe(true);

      const search = (await client.callTool({
        name: 'catalog_search',
        arguments: { query: 'contract' },
      })) as ToolResult;
      expect(search.isError).toBeFalsy();
      expect(search.content[0]!.text).toContain('contract_spend');

      const write = await refusal(client, 'catalog_update_asset', { urn: 'x', description: 'y' });
      expect(write).toContain('catalog_update_asset is not enabled on this server');
      expect(write).toContain('--read-only');
      const other = await refusal(client, 'governance_list_principals', {});
      expect(other).toContain('governance_list_principals is not enabled on this server');
      expect(other).toContain('in the governance toolset');
      expect(other).toContain('--toolsets');

      // A prompt that leads to a tool left out is left out too.
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      expect(prompts).toContain('find_data');
      expect(prompts).not.toContain('document_asset');
    } finally {
      await client.close();
    }
  }, 60_000);

  it('reads DATAOPS_TOOLSETS and DATAOPS_READ_ONLY when no flag is given', async () => {
    const client = await connect([], { DATAOPS_TOOLSETS: 'social', DATAOPS_READ_ONLY: 'true' });
    try {
      const names = await listed(client);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.startsWith('social_'))).toBe(true);
      expect(names).not.toContain('social_comment');
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses an unknown toolset on dataops mcp and dataops start, naming the valid ones', async () => {
    const mcp = await runCli(['--db', db, 'mcp', '--toolsets', 'catalog,catalgo']);
    expect(mcp.code).not.toBe(0);
    expect(mcp.stderr).toContain('--toolsets: unknown toolset catalgo');
    expect(mcp.stderr).toContain('catalog, lineage, quality, governance, social, pipelines');
    const start = await runCli(['--db', db, 'start', '--port', '0'], { DATAOPS_TOOLSETS: 'all,qualty' });
    expect(start.code).not.toBe(0);
    expect(start.stderr).toContain('DATAOPS_TOOLSETS: unknown toolset qualty');
  }, 60_000);
});

describe('toolsets and read-only per HTTP session on /mcp', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb();
  });
  afterAll(() => database.close());

  const app = (tools?: ToolSelection) =>
    createApp({
      runtime: testRuntimeSource(database),
      auth: 'local',
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
      tools,
    });

  async function connect(server: ReturnType<typeof app>, headers: Record<string, string> = {}): Promise<Client> {
    const transport = new StreamableHTTPClientTransport(new URL('http://127.0.0.1:8787/mcp'), {
      fetch: async (url, init) => server.request(String(url), init),
      requestInit: { headers },
    });
    const client = new Client({ name: 'http-toolsets-test', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  it('narrows the tools with X-MCP-Toolsets and X-MCP-Readonly', async () => {
    const client = await connect(app(), { 'X-MCP-Toolsets': 'quality', 'X-MCP-Readonly': 'true' });
    const names = await listed(client);
    expect(names).toContain('quality_get');
    expect(names).not.toContain('quality_create_rule');
    expect(names.every((n) => n.startsWith('quality_'))).toBe(true);
    const text = await refusal(client, 'quality_create_rule', { urn: 'x' });
    expect(text).toContain('quality_create_rule is not enabled on this server');
    expect(text).toContain('X-MCP-Readonly');
    await client.close();
  });

  it('lets a session narrow what the server offers, never widen it', async () => {
    const server = app({ toolsets: ['catalog', 'lineage'], readOnly: true });
    const plain = await connect(server);
    expect((await listed(plain)).every((n) => n.startsWith('catalog_') || n.startsWith('lineage_'))).toBe(true);
    // Asking for read-write does not lift the server's read-only mode.
    const writes = await connect(server, { 'X-MCP-Readonly': 'false', 'X-MCP-Toolsets': 'catalog' });
    const names = await listed(writes);
    expect(names).toContain('catalog_search');
    expect(names).not.toContain('catalog_update_asset');
    expect(names).not.toContain('lineage_get');
    await expect(connect(server, { 'X-MCP-Toolsets': 'catalog,governance' })).rejects.toThrow(
      /does not offer the toolset governance; it offers catalog, lineage/,
    );
  });

  it('refuses an unknown toolset in the header, naming the valid ones', async () => {
    const res = await app().request('http://127.0.0.1:8787/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'X-MCP-Toolsets': 'catalog,socail',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('unknown toolset socail');
    expect(body.error.message).toContain('catalog, lineage, quality, governance, social, pipelines');
  });

  it('applies the same selection to the JSON API', async () => {
    const server = app({ toolsets: ['catalog'] });
    const list = (await (await server.request('http://127.0.0.1:8787/api/tools')).json()) as {
      tools: { name: string }[];
    };
    expect(list.tools.every((t) => t.name.startsWith('catalog_'))).toBe(true);
    const res = await server.request('http://127.0.0.1:8787/api/tools/lineage_get', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ urn: 'x' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'lineage_get is not enabled on this server',
    );
  });
});
