import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
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
        readyTimeoutMs: 120_000,
      });
      cleanups.push(() => server.stop());
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
    },
  );

  it('loads with `dataops demo` beside a catalog on a server, marked and shown per clearance', async () => {
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

    const analyst = JSON.parse((await runCli(['--db', catalog.url, '--as', 'a.chen', '--json', 'search', ''])).stdout);
    expect(analyst.facets.classification).toEqual([{ value: 'U', count: analyst.total }]);
    const ts = JSON.parse(
      (await runCli(['--db', catalog.url, '--json', 'search', 'special access program reviews'])).stdout,
    );
    expect(ts.hits[0]).toMatchObject({ qualifiedName: 'performance.sap_program_reviews', classification: 'TS' });
  });
});
