import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { systemNode } from './helpers/processes.js';
import { binPath } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

type ToolResult = { isError?: boolean; content: { text: string }[]; structuredContent?: unknown };
type SearchOutput = { total: number; hits: { qualifiedName: string }[] };

const node = systemNode();
const onServer = Boolean(process.env.DATAOPS_TEST_DATABASE_URL);

function env(): Record<string, string> {
  const e: Record<string, string> = { ...(process.env as Record<string, string>), DATAOPS_LOG_LEVEL: 'error' };
  for (const key of ['DATABASE_URL', 'DATAOPS_DATA_DIR']) delete e[key];
  return e;
}

/**
 * How long this machine takes to start the CLI at all (`dataops --help`: Node, tsx and every module). The
 * 2 s bound holds on a machine with cores to spare; on one so loaded that the bare start takes longer,
 * it must answer within half as long again, far less than opening a new catalog takes there.
 */
async function cliStartMs(): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) =>
    execFile(node, [binPath, '--help'], { env: env() }, (error) => (error ? reject(error) : resolve())),
  );
  return performance.now() - started;
}

/** Spawns `dataops mcp` and connects the SDK's real client over stdio, timing spawn to the initialize result. */
async function connect(
  db: string,
  extraEnv: Record<string, string> = {},
): Promise<{ client: Client; initializeMs: number }> {
  const transport = new StdioClientTransport({
    command: node,
    args: [binPath, '--db', db, 'mcp'],
    env: { ...env(), ...extraEnv },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'startup-test', version: '1.0.0' });
  const started = performance.now();
  await client.connect(transport);
  return { client, initializeMs: performance.now() - started };
}

async function search(client: Client, query: string): Promise<ToolResult> {
  // Longer than the server's own wait for the demo, so its answer (not this client's timeout) is what is seen.
  return (await client.callTool({ name: 'catalog_search', arguments: { query } }, undefined, {
    timeout: 120_000,
  })) as ToolResult;
}

describe('dataops mcp answers at once', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it(onServer
    ? 'answers initialize and tools/list at once on a new server catalog, and tools once it is migrated'
    : 'on an empty data directory: initialize at once, the demo loads in the background, tools say so until it is there', async () => {
    let db: string;
    if (onServer) {
      const scratch = await createScratchDatabase(serverUrl, 'dataops_mcp_startup');
      cleanups.push(scratch.drop);
      db = scratch.url;
    } else {
      db = mkdtempSync(path.join(tmpdir(), 'dataops-mcp-startup-'));
      cleanups.push(async () => rmSync(db, { recursive: true, force: true }));
    }
    const bareStart = await cliStartMs();
    // On the embedded catalog tools answer at once while the demo loads, so that this test sees them say so
    // however fast the demo loads here (a client waits DATAOPS_LOADING_WAIT, 8 s by default).
    const { client, initializeMs } = await connect(db, onServer ? {} : { DATAOPS_LOADING_WAIT: '0' });
    cleanups.push(() => client.close());
    const listStarted = performance.now();
    // The request alone: listTools() adds the client's own compiling of every output schema.
    const { tools } = await client.request({ method: 'tools/list' }, ListToolsResultSchema);
    const listMs = performance.now() - listStarted;
    console.log(
      `dataops mcp: initialize ${Math.round(initializeMs)} ms after spawn, tools/list ${Math.round(listMs)} ms ` +
        `(the bare CLI start here: ${Math.round(bareStart)} ms)`,
    );
    expect(initializeMs).toBeLessThanOrEqual(Math.max(2_000, 1.5 * bareStart));
    expect(listMs).toBeLessThanOrEqual(1_000);
    expect(tools.map((t) => t.name)).toContain('catalog_search');

    const first = await search(client, 'expenditure');
    if (onServer) {
      // A server catalog is shared: no demo is loaded into it, and tools run once migrations are done.
      expect(first.isError, first.content[0]?.text).toBeFalsy();
      expect((first.structuredContent as SearchOutput).total).toBe(0);
      return;
    }
    // Called while the catalog opens and the demo loads: answers the model can relay, not a hang until the
    // client times out; once loaded, the demo is searchable through the same session.
    const loading =
      /^DataOps is loading the demo workspace into a new catalog \(\d+ s so far; now: .+\)\. It takes about a minute on a first start: try again shortly\.$/;
    const opening = 'DataOps is still opening the catalog: try again in a moment';
    const answers: string[] = [];
    const deadline = Date.now() + 240_000;
    let result = first;
    while (result.isError && Date.now() < deadline) {
      answers.push(result.content[0]!.text);
      await new Promise((resolve) => setTimeout(resolve, 250));
      result = await search(client, 'expenditure');
    }
    expect(
      answers.some((text) => loading.test(text)),
      answers.join('\n'),
    ).toBe(true);
    expect(answers.filter((text) => !loading.test(text) && text !== opening)).toEqual([]);
    expect(result.isError, result.content[0]?.text).toBeFalsy();
    expect((result.structuredContent as SearchOutput).hits[0]!.qualifiedName).toBe('contracts.vendor_spend_by_fy');
    // Marked whole, so the next start neither loads it again nor takes a half-loaded demo for a finished one.
    expect(existsSync(path.join(db, 'demo-loaded'))).toBe(true);
  }, 300_000);
});
