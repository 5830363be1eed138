import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/create-db.js';
import { createLeakFixture, type LeakFixture, type Level, levels } from './helpers/leak-fixture.js';
import { startServer, systemNode } from './helpers/processes.js';
import { binPath, runCli } from './helpers/run-cli.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/**
 * Issue 5, done when: an unclassified analyst, a TS-cleared engineer, a steward and an admin see exactly what
 * they should through the CLI (`--as`), MCP over stdio and MCP over HTTP with bearer tokens: the same search
 * and the same profile look-ups on each surface, against one catalog.
 */
const people = ['analyst', 'engineer', 'steward', 'admin'] as const;
type Person = (typeof people)[number];

async function catalogTarget() {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_surfaces');
    return { db: scratch.url, catalog: scratch.url, cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-surfaces-'));
  return {
    db: dir,
    // The CLI keeps the embedded catalog in a folder of its own inside --db.
    catalog: path.join(dir, 'catalog'),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

interface Seen {
  /** Asset names a search for every asset returns. */
  searched: string[];
  /** Asset names whose profile opens; the rest answer "no asset". */
  opened: string[];
}

describe('what each person sees, on every surface', () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;
  let fixture: LeakFixture;
  const expected = new Map<Person, string[]>();

  beforeAll(async () => {
    target = await catalogTarget();
    const database = await createDb({ target: target.catalog });
    try {
      fixture = await createLeakFixture(database);
      const contexts = {
        analyst: await contextAs(database, { id: 'analyst', displayName: 'Ana', clearance: 'U', roles: ['viewer'] }),
        engineer: await contextAs(database, { id: 'engineer', displayName: 'Eng', clearance: 'TS', roles: ['viewer'] }),
        steward: await contextAs(database, {
          id: 'steward',
          displayName: 'Stu',
          clearance: 'S',
          roles: ['steward'],
          domains: ['zrd'],
        }),
        admin: await createTestContext(database),
      };
      for (const person of people) {
        const visible = await fixture.visibleTo({ key: 'u', ctx: contexts[person] });
        expected.set(person, [...visible].map((l) => `zmark_${l}`).sort());
      }
    } finally {
      await database.close();
    }
  });
  afterAll(() => target.cleanup());

  const urnOf = (level: Level) => fixture.assets[level].urn;

  it('sets people apart: each sees a different set of assets', () => {
    expect(Object.fromEntries(expected)).toEqual({
      // `end` is fed by the TS asset and `rd` by nothing above U, but markings come from the catalog as it stands.
      analyst: expect.arrayContaining(['zmark_u', 'zmark_out']),
      engineer: expect.arrayContaining(['zmark_u', 'zmark_c', 'zmark_s', 'zmark_ts']),
      steward: expect.arrayContaining(['zmark_u', 'zmark_c', 'zmark_s', 'zmark_rd']),
      admin: expect.arrayContaining(['zmark_u', 'zmark_c', 'zmark_s', 'zmark_ts']),
    });
    expect(expected.get('analyst')).not.toContain('zmark_c');
    expect(expected.get('engineer')).not.toContain('zmark_rd');
    expect(expected.get('steward')).not.toContain('zmark_ts');
    expect(expected.get('admin')).not.toContain('zmark_rd');
  });

  // Each CLI call is a process of its own: the profile look-ups go to the assets that set people apart.
  const telling: Level[] = ['u', 'c', 'ts', 'rd'];

  it('through the CLI with --as', { timeout: 600_000 }, async () => {
    for (const person of people) {
      const search = await runCli(['--db', target.db, '--as', person, '--json', 'search', 'holdings', '--limit', '50']);
      expect(search.code, search.stderr).toBe(0);
      const hits = (JSON.parse(search.stdout) as { hits: { name: string }[] }).hits.map((h) => h.name);
      expect(hits.sort(), person).toEqual(expected.get(person));
      for (const level of telling) {
        const lineage = await runCli(['--db', target.db, '--as', person, '--json', 'lineage', urnOf(level)]);
        const visible = expected.get(person)!.includes(`zmark_${level}`);
        expect(lineage.code, `${person} opening ${level}: ${lineage.stderr}`).toBe(visible ? 0 : 1);
        if (!visible) {
          expect(lineage.stderr).toBe(
            `dataops: no asset ${urnOf(level)}: search the catalog with catalog_search to find its URN\n`,
          );
        }
      }
    }
  });

  /** The same questions through a real MCP client. */
  async function ask(client: Client): Promise<Seen> {
    const search = await client.callTool({ name: 'catalog_search', arguments: { query: 'holdings', limit: 50 } });
    const hits = (search.structuredContent as { hits: { name: string }[] }).hits.map((h) => h.name);
    const opened: string[] = [];
    for (const level of levels) {
      const profile = await client.callTool({ name: 'catalog_get_asset', arguments: { urn: urnOf(level) } });
      if (!profile.isError) opened.push(`zmark_${level}`);
      else expect(JSON.stringify(profile.content)).toContain(`no asset ${urnOf(level)}`);
    }
    return { searched: hits.sort(), opened: opened.sort() };
  }

  it('through MCP over stdio', async () => {
    for (const person of people) {
      const transport = new StdioClientTransport({
        command: systemNode(),
        args: [binPath, '--db', target.db, '--as', person, 'mcp'],
        env: { ...(process.env as Record<string, string>), DATAOPS_LOG_LEVEL: 'error' },
        stderr: 'ignore',
      });
      const client = new Client({ name: 'surfaces-test', version: '1.0.0' });
      await client.connect(transport);
      try {
        expect(await ask(client), person).toEqual({ searched: expected.get(person)!, opened: expected.get(person)! });
      } finally {
        await client.close();
      }
    }
  });

  it('through MCP over HTTP with bearer tokens', async () => {
    const tokens = new Map<Person, string>();
    for (const person of people) {
      const created = await runCli([
        '--db',
        target.db,
        '--as',
        person,
        '--json',
        'token',
        'create',
        '--name',
        'surfaces',
      ]);
      expect(created.code, created.stderr).toBe(0);
      tokens.set(person, (JSON.parse(created.stdout) as { token: string }).token);
    }
    const server = await startServer(
      systemNode(),
      [binPath, '--db', target.db, 'start', '--port', '0', '--no-demo', '--auth', 'required'],
      { env: { ...process.env, DATAOPS_LOG_LEVEL: 'error' } },
    );
    try {
      for (const person of people) {
        const transport = new StreamableHTTPClientTransport(new URL(`${server.baseUrl}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${tokens.get(person)}` } },
        });
        const client = new Client({ name: 'surfaces-test', version: '1.0.0' });
        await client.connect(transport);
        try {
          expect(await ask(client), person).toEqual({ searched: expected.get(person)!, opened: expected.get(person)! });
        } finally {
          await client.close();
        }
      }
      // Without a token nobody gets in.
      const anonymous = new Client({ name: 'surfaces-test', version: '1.0.0' });
      await expect(
        anonymous.connect(new StreamableHTTPClientTransport(new URL(`${server.baseUrl}/mcp`))),
      ).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});
