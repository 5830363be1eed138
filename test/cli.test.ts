import { mkdtempSync, rmSync } from 'node:fs';
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
    expect(again.stdout).toMatch(/pagila: 34 assets — 0 added, 0 updated, 34 unchanged/);
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
    expect(badKind.stderr).toMatch(/^dataops: unknown source kind "oracle": use one of postgres, mysql, files\n$/);
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
});
