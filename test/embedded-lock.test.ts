import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/create-db.js';
import { startServer, systemNode } from './helpers/processes.js';
import { binPath, runCli } from './helpers/run-cli.js';

// PGlite holds the database in memory and writes it back: two processes on one directory lose writes.
describe("the embedded catalog is one process's at a time", () => {
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dataops-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses `dataops token create` while `dataops start` holds it, in one line, instead of losing the token', async () => {
    const dir = scratch();
    const server = await startServer(systemNode(), [binPath, '--db', dir, 'start', '--port', '0', '--no-demo'], {
      env: { ...process.env, DATAOPS_LOG_LEVEL: 'warn' },
    });
    try {
      const created = await runCli(['--db', dir, 'token', 'create']);
      expect(created.code).toBe(1);
      expect(created.stdout).toBe('');
      expect(created.stderr).toBe(
        `dataops: the embedded catalog in ${path.join(dir, 'catalog')} is in use by another dataops process ` +
          `(pid ${server.pid}): stop it first, or point both at a Postgres server with DATABASE_URL\n`,
      );
      // A second server says the same before it says it listens.
      const second = await runCli(['--db', dir, 'start', '--port', '0', '--no-demo']);
      expect(second.code).toBe(1);
      expect(second.stdout).toBe('');
      expect(second.stderr).toContain(`is in use by another dataops process (pid ${server.pid})`);
    } finally {
      await server.stop();
    }
    // Stopped, it lets the next process in.
    const after = await runCli(['--db', dir, '--json', 'token', 'create']);
    expect(after.code, after.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'catalog.lock'))).toBe(false);
  });

  it('holds a lock while open, releases it on close, and refuses a second open in the same process', async () => {
    const dir = path.join(scratch(), 'catalog');
    const lock = `${dir}.lock`;
    const database = await createDb({ target: dir, migrate: false });
    try {
      expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
      await expect(createDb({ target: dir, migrate: false })).rejects.toThrow(
        `the embedded catalog in ${dir} is already open in this process`,
      );
    } finally {
      await database.close();
    }
    expect(existsSync(lock)).toBe(false);
    const again = await createDb({ target: dir, migrate: false });
    await again.close();
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = path.join(scratch(), 'catalog');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout.toString());
    writeFileSync(`${dir}.lock`, `${deadPid}\n`);
    const database = await createDb({ target: dir, migrate: false });
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.pid));
    await database.close();
  });

  it('releases the lock when the process exits without closing', async () => {
    const dir = path.join(scratch(), 'catalog');
    const script = `import { existsSync } from 'node:fs';
      import { createDb } from ${JSON.stringify(path.resolve('db/create-db.ts'))};
      await createDb({ target: ${JSON.stringify(dir)}, migrate: false });
      process.stdout.write(String(existsSync(${JSON.stringify(`${dir}.lock`)})));
      process.exit(0);`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout, 'held while open').toBe('true');
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});
