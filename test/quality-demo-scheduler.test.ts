import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, queryRows } from '../db/create-db.js';
import { startServer, systemNode } from './helpers/processes.js';
import { binPath, runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/** Room for loading and profiling the demo on a busy machine; nothing here asserts a duration. */
const demoTimeout = 300_000;

/** Tables and views of the demo with no profile or no score. */
async function unprofiled(catalog: string) {
  const database = await createDb({ target: catalog });
  try {
    return await queryRows<{ name: string }>(
      database.db,
      sql`select a.qualified_name as name from assets a
          where a.kind in ('table', 'view', 'materialized_view') and a.status = 'active'
            and (not exists (select 1 from profiles p where p.asset_id = a.id)
              or not exists (select 1 from quality_scores s where s.asset_id = a.id))
          order by 1`,
    );
  } finally {
    await database.close();
  }
}

describe('the demo workspace under the quality scheduler', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it(
    'one cycle profiles and scores every table and view of the demo',
    async () => {
      let db: string;
      let catalog: string;
      if (process.env.DATAOPS_TEST_DATABASE_URL) {
        const scratch = await createScratchDatabase(serverUrl, 'dataops_demosched');
        db = catalog = scratch.url;
        cleanups.push(async () => {
          await scratch.drop();
          const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
          await admin.unsafe(`drop database if exists ${scratch.name}_demo with (force)`);
          await admin.end();
        });
      } else {
        db = mkdtempSync(path.join(tmpdir(), 'dataops-demo-sched-'));
        catalog = path.join(db, 'catalog');
        cleanups.push(async () => rmSync(db, { recursive: true, force: true }));
      }
      // A catalog on a server keeps source connections (for profiling) only with a workspace key.
      const env = { DATAOPS_SECRET_KEY: 'quality scheduler test key, 32 characters or more' };
      const loaded = await runCli(['--db', db, '--json', 'demo'], env);
      expect(loaded.code, loaded.stderr).toBe(0);
      const cycle = await runCli(['--db', db, '--json', 'quality', 'run-due'], env);
      expect(cycle.code, cycle.stderr).toBe(0);
      const summary = JSON.parse(cycle.stdout) as { ran: number; failed: unknown[] };
      expect(summary.failed).toEqual([]);
      expect(summary.ran).toBeGreaterThanOrEqual(20);
      expect(await unprofiled(catalog)).toEqual([]);
    },
    demoTimeout,
  );

  it.runIf(!process.env.DATAOPS_TEST_DATABASE_URL)(
    '`dataops start` on a new catalog loads the demo and its first scheduler cycle profiles and scores all of it',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dataops-start-sched-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const server = await startServer(systemNode(), [binPath, '--db', dir, 'start', '--port', '0'], {
        env: { ...process.env, DATAOPS_LOG_LEVEL: 'info', DATAOPS_SCHEDULER_INTERVAL: '3600' },
        readyTimeoutMs: 180_000,
      });
      cleanups.push(() => server.stop());
      // Wait for the first cycle's report (a deadline only to catch a hang).
      const deadline = Date.now() + 240_000;
      while (!/quality scheduler: ran \d+ job/.test(server.output()) && Date.now() < deadline) await sleep(500);
      expect(server.output()).toMatch(/quality scheduler: ran (2\d|[3-9]\d) job\(s\); alerts/);
      await server.stop();
      expect(await unprofiled(path.join(dir, 'catalog'))).toEqual([]);
    },
    demoTimeout,
  );
});
