import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/** The catalog the CLI writes to: an embedded directory, or a scratch database when the suite runs on a server. */
async function catalogTarget(): Promise<{ db: string; cleanup: () => Promise<void> }> {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_cli');
    return { db: scratch.url, cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-cli-'));
  return { db: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

describe('dataops CLI', () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;
  beforeAll(async () => {
    target = await catalogTarget();
  });
  afterAll(() => target.cleanup());

  it('ingests Pagila with --json, then re-ingests without change', async () => {
    const first = await runCli([
      '--db',
      target.db,
      '--json',
      'ingest',
      'postgres',
      inject('pagilaUrl'),
      '--name',
      'pagila',
    ]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ source: 'pagila', assets: 34, added: 34 });
    const again = await runCli(['--db', target.db, 'ingest', 'postgres', inject('pagilaUrl'), '--name', 'pagila']);
    expect(again.stdout).toMatch(/pagila: 34 assets — 0 added, 0 updated, 0 refreshed, 34 unchanged/);
  });

  it('searches as a person would, with the exact name first', async () => {
    const result = await runCli(['--db', target.db, '--json', 'search', 'film', '--limit', '3']);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { hits: { qualifiedName: string }[] };
    expect(parsed.hits[0]!.qualifiedName).toBe('public.film');
    const text = await runCli(['--db', target.db, 'search', 'flim', 'actors']);
    expect(text.stdout).toMatch(/public\.film/);
  });

  it('creates a token for a principal and refuses an unknown one', async () => {
    const created = await runCli(['--db', target.db, '--json', 'token', 'create', '--name', 'ci']);
    expect(JSON.parse(created.stdout)).toMatchObject({ principal: 'admin', token: expect.stringMatching(/^dop_/) });
    const unknown = await runCli(['--db', target.db, '--as', 'nobody', 'token', 'create']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'dataops: unknown principal "nobody": create it first or pass --as with an existing principal\n',
    );
  });

  it('reports an unreachable source in one line, without a stack trace, and changes nothing', async () => {
    const refused = await runCli(['--db', target.db, 'ingest', 'postgres', 'postgres://app:secret@127.0.0.1:1/sales']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('dataops: could not connect to postgres://app@127.0.0.1:1/sales: connection refused\n');
    const missingDb = await runCli([
      '--db',
      target.db,
      'ingest',
      'postgres',
      'postgres://postgres@127.0.0.1:5432/no_such_db',
    ]);
    expect(missingDb.stderr).toBe(
      'dataops: could not connect to postgres://postgres@127.0.0.1:5432/no_such_db: database does not exist\n',
    );
    const badKind = await runCli(['--db', target.db, 'ingest', 'oracle', 'x']);
    expect(badKind.stderr).toMatch(
      /^dataops: unknown source kind "oracle": use one of postgres, mysql, files, openlineage, dbt\n$/,
    );
    const noDir = await runCli(['--db', target.db, 'ingest', 'files', '/no/such/dir']);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toMatch(/^dataops: .*\/no\/such\/dir.*\n$/);
    const after = await runCli(['--db', target.db, '--json', 'search', '', '--limit', '1']);
    expect(JSON.parse(after.stdout).total).toBe(34);
  });

  it('says so when the catalog database cannot be reached', async () => {
    const result = await runCli(['--db', 'postgres://postgres@127.0.0.1:1/catalog', 'search', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'dataops: could not connect to postgres://postgres@127.0.0.1:1/catalog: connection refused\n',
    );
  });
  it('pages with --cursor and filters by classification, owner and certification', async () => {
    type Page = { total: number; hits: { urn: string; owner: string | null }[]; nextCursor: string | null };
    const search = async (...args: string[]) => {
      const result = await runCli(['--db', target.db, '--json', 'search', ...args]);
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout) as Page;
    };
    const first = await search('', '--source', 'pagila', '--limit', '5');
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await search('', '--source', 'pagila', '--limit', '5', '--cursor', first.nextCursor!);
    expect(second.hits).toHaveLength(5);
    expect(second.hits.map((h) => h.urn)).not.toEqual(expect.arrayContaining([first.hits[0]!.urn]));
    const text = await runCli(['--db', target.db, 'search', '', '--source', 'pagila', '--limit', '5']);
    const cursor = text.stdout.match(/pass cursor (\S+)\)/)?.[1];
    expect(cursor).toBe(first.nextCursor);

    // Each filter reaches the search: without one the source has 34 assets (all U, none certified).
    expect((await search('', '--source', 'pagila', '--classification', 'TS')).total).toBe(0);
    expect((await search('', '--source', 'pagila', '--owner', 'nobody-owns-this')).total).toBe(0);
    expect((await search('', '--source', 'pagila', '--certified')).total).toBe(0);
    const bad = await runCli(['--db', target.db, 'search', 'film', '--limit', 'ten']);
    expect(bad.stderr).toBe('dataops: --limit must be a positive whole number, not "ten"\n');
  }, 180_000);

  it('says it is saving after discovery on a terminal, and finds deprecated assets with --include-deprecated', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dataops-cli-files-'));
    try {
      writeFileSync(path.join(dir, 'kept.csv'), 'a,b\n1,2\n');
      writeFileSync(path.join(dir, 'dropped.csv'), 'a,b\n1,2\n');
      // A terminal, as far as the CLI can tell: progress goes to stderr only then.
      const tty = { NODE_OPTIONS: '--import=data:text/javascript,process.stderr.isTTY=true' };
      const first = await runCli(['--db', target.db, 'ingest', 'files', dir, '--name', 'dropbox'], tty);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain('saving 2 assets to the catalog…');
      unlinkSync(path.join(dir, 'dropped.csv'));
      const piped = await runCli(['--db', target.db, 'ingest', 'files', dir, '--name', 'dropbox']);
      expect(piped.stdout).toMatch(/1 deprecated/);
      expect(piped.stderr).toBe('');
      const active = await runCli(['--db', target.db, '--json', 'search', '', '--source', 'dropbox']);
      expect(JSON.parse(active.stdout).total).toBe(1);
      const all = await runCli([
        '--db',
        target.db,
        '--json',
        'search',
        '',
        '--source',
        'dropbox',
        '--include-deprecated',
      ]);
      expect(JSON.parse(all.stdout).total).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('validates numbers and uses DATAOPS_HOST as the default --host', async () => {
    for (const days of ['abc', '-1', '0', '2.5']) {
      const result = await runCli(['--db', target.db, 'token', 'create', '--expires-days', days]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`dataops: --expires-days must be a positive whole number, not "${days}"\n`);
    }
    const port = await runCli(['--db', target.db, 'start', '--port', 'abc']);
    expect(port.stderr).toBe('dataops: --port must be a number from 0 to 65535, not "abc"\n');
    const host = await runCli(['--db', target.db, 'start', '--port', '0', '--auth', 'local'], {
      DATAOPS_HOST: '10.1.2.3',
    });
    expect(host.code).toBe(1);
    expect(host.stderr).toBe(
      'dataops: --auth local is only allowed on a loopback address; 10.1.2.3 is reachable by others\n',
    );
  }, 180_000);
});
