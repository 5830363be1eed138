import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/create-db.js';
import { pipelineRuns, pipelines } from '../db/schema/index.js';
import { binPath, runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

async function catalogTarget(): Promise<{ db: string; cleanup: () => Promise<void> }> {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_ops_cli');
    return { db: scratch.url, cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-ops-cli-'));
  return { db: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** The CLI keeps an embedded catalog in `<data dir>/catalog`; a server URL is the catalog itself. */
const catalogOf = (db: string) => (db.startsWith('postgres') ? db : path.join(db, 'catalog'));

describe('dataops CLI: principals, tokens, governance reads and startup', () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;
  const noIssuer = { DATAOPS_OIDC_ISSUER: undefined };
  const cli = (args: string[], env: NodeJS.ProcessEnv = noIssuer) => runCli(['--db', target.db, ...args], env);
  const json = async <T>(args: string[]) => {
    const result = await cli(['--json', ...args]);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    target = await catalogTarget();
  });
  afterAll(() => target.cleanup());

  it('adds a principal without --name and links a sign-in without --issuer when it can', async () => {
    expect(await json(['principal', 'add', 'kim', '--role', 'steward'])).toMatchObject({
      id: 'kim',
      displayName: 'kim',
    });
    const noIssuerYet = await cli(['principal', 'link', 'kim', '--subject', 'kim@idp']);
    expect(noIssuerYet.code).toBe(1);
    expect(noIssuerYet.stderr).toBe(
      "dataops: give --issuer <url>, the identity provider's issuer as in its tokens' iss claim, or set DATAOPS_OIDC_ISSUER\n",
    );
    await json(['principal', 'link', 'kim', '--subject', 'kim@idp', '--issuer', 'https://idp.example/']);
    // One issuer is known now: it is the default.
    expect(await json(['principal', 'link', 'kim', '--subject', 'kim-2@idp'])).toEqual({
      principal: 'kim',
      provider: 'https://idp.example/',
      subject: 'kim-2@idp',
    });
    const changed = await json<{ principal: { clearance: string; displayName: string } }>([
      'principal',
      'update',
      'kim',
      '--clearance',
      'S',
    ]);
    expect(changed.principal).toMatchObject({ clearance: 'S', displayName: 'kim' });
  });

  it('creates tokens that expire in 90 days by default, lists and revokes them', async () => {
    const created = await json<{ expiresAt: string }>(['--as', 'kim', 'token', 'create', '--name', 'laptop']);
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    const forever = await json<{ expiresAt: string | null }>(['--as', 'kim', 'token', 'create', '--no-expiry']);
    expect(forever.expiresAt).toBeNull();
    const listed = await json<{ tokens: { id: string; name: string; state: string }[] }>([
      '--as',
      'kim',
      'token',
      'list',
    ]);
    expect(listed.tokens.map((t) => t.name).sort()).toEqual(['cli', 'laptop']);
    const revoked = await cli(['--as', 'kim', 'token', 'revoke', listed.tokens.find((t) => t.name === 'laptop')!.id]);
    expect(revoked.stdout).toMatch(/^Revoked\n- [0-9a-f-]+ kim "laptop" revoked, expires /);
  });

  it('removes a principal, whose tokens stop and who can no longer act', async () => {
    const removed = await cli(['principal', 'remove', 'kim', '--reason', 'rotated out']);
    expect(removed.stdout).toBe('Removed kim; 1 token revoked.\n');
    const acting = await cli(['--as', 'kim', 'social', 'feed']);
    expect(acting.stderr).toBe(
      'dataops: unknown principal "kim": create it first or pass --as with an existing principal\n',
    );
    const listed = await cli(['principal', 'list', '--all']);
    expect(listed.stdout).toMatch(
      /^- kim \(kim\) REMOVED: clearance S, roles steward, 2 linked identities, 0 active tokens$/m,
    );
  });

  it('reads policies, certifications, access requests and the social feed from the shell', async () => {
    expect((await cli(['policies'])).stdout).toBe('No policies.\n');
    expect(await json(['certifications', 'list'])).toHaveProperty('certifications');
    expect(await json(['access', 'list', '--to-decide'])).toHaveProperty('requests');
    expect(await json(['social', 'feed', '--scope', 'new'])).toHaveProperty('items');
    const bad = await cli(['access', 'decide', 'x', 'maybe']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/'maybe' is invalid.*Allowed choices are approve, deny/);
  });

  it('marks failed, when `dataops mcp` starts, a run its stopped server left running', async () => {
    const database = await createDb({ target: catalogOf(target.db) });
    const gonePid = spawnSync(process.execPath, ['-e', '0']).pid!;
    let runId: string;
    try {
      const [pipeline] = await database.db
        .insert(pipelines)
        .values({ name: 'left running', owner: 'admin' })
        .returning();
      const inserted = await database.db
        .insert(pipelineRuns)
        .values({
          pipelineId: pipeline!.id,
          version: 0,
          status: 'running',
          trigger: 'manual',
          stats: { timeoutSeconds: 3600, process: { host: hostname(), pid: gonePid } },
        })
        .returning({ id: pipelineRuns.id });
      runId = inserted[0]!.id;
    } finally {
      await database.close();
    }
    await new Promise<void>((resolve) => {
      const child = execFile(process.execPath, [binPath, '--db', target.db, 'mcp'], {
        env: { ...process.env, DATAOPS_LOG_LEVEL: 'error' },
        timeout: 120_000,
      });
      child.on('exit', () => resolve());
      child.stdin!.end();
    });
    const after = await createDb({ target: catalogOf(target.db) });
    try {
      const [run] = await after.db.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId!));
      expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/^the server running it stopped/) });
    } finally {
      await after.close();
    }
  });
});
