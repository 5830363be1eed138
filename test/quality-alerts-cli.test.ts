import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, queryRows } from '../db/create-db.js';
import { upsertPrincipal } from '../mcp-server/governance/principals.js';
import { evaluateAlerts } from '../mcp-server/quality/alerts-evaluate.js';
import { setSla } from '../mcp-server/quality/sla.js';
import { runCli } from './helpers/run-cli.js';
import { createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

describe('dataops quality run-due and dataops alerts', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'dataops-alerts-cli-'));
  let source: Awaited<ReturnType<typeof createScratchDatabase>>;
  const cli = (...args: string[]) => runCli(['--db', dataDir, ...args]);

  /** Works on the embedded catalog between CLI runs (it is open in one process at a time). */
  async function withCatalog(run: (database: Awaited<ReturnType<typeof createDb>>) => Promise<void>) {
    const database = await createDb({ target: path.join(dataDir, 'catalog') });
    try {
      await run(database);
    } finally {
      await database.close();
    }
  }

  beforeAll(async () => {
    source = await createScratchDatabase(serverUrl, 'dataops_src_alerts_cli');
    const s = postgres(source.url, { max: 1, onnotice: () => {} });
    await s.unsafe(`create table convoys (id int primary key, route text);
      insert into convoys select g, 'route ' || g from generate_series(1, 50) g;
      create table fuel (id int primary key, litres numeric);
      insert into fuel select g, g * 10 from generate_series(1, 30) g;`);
    await s.end();
    const ingested = await cli('ingest', 'postgres', source.url, '--name', 'ops');
    expect(ingested.code, ingested.stderr).toBe(0);
  });
  afterAll(async () => {
    await source.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('one cycle profiles and scores every table; the next finds nothing due', async () => {
    const first = await cli('--json', 'quality', 'run-due');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ ran: 2, failed: [] });
    const again = await cli('quality', 'run-due');
    expect(again.stdout).toMatch(/^ran 0 job\(s\); alerts: 0 opened/);
    await withCatalog(async ({ db }) => {
      const [counts] = await queryRows<{ profiles: number; scored: number }>(
        db,
        sql`select (select count(*)::int from profiles) as profiles,
          (select count(distinct asset_id)::int from quality_scores) as scored`,
      );
      expect(counts).toEqual({ profiles: 2, scored: 2 });
    });
  });

  it('lists, acknowledges and resolves an alert; a reader who may not see the asset gets "not found"', async () => {
    await withCatalog(async (database) => {
      const ctx = await createTestContext(database);
      await upsertPrincipal(database.db, { id: 'uma', displayName: 'Uma', clearance: 'U', roles: ['steward'] });
      await database.db.execute(sql`update assets set classification = 'S', last_modified = now() - interval '3 days'
        where name = 'fuel'`);
      await setSla(ctx, { asset: 'urn:dataops:postgres:ops:public.fuel', freshnessHours: 24, severity: 'critical' });
      const [fuel] = await queryRows<{ id: string }>(database.db, sql`select id::text from assets where name = 'fuel'`);
      await evaluateAlerts(database.db, fuel!.id, new Date());
    });

    const listed = await cli('--json', 'alerts');
    expect(listed.code, listed.stderr).toBe(0);
    const { alerts } = JSON.parse(listed.stdout) as { alerts: { id: string; kind: string; state: string }[] };
    expect(alerts).toEqual([expect.objectContaining({ kind: 'sla_freshness', state: 'open' })]);
    const text = await cli('alerts', 'list', '--severity', 'critical');
    expect(text.stdout).toMatch(
      /\[critical\] open: «public\.fuel is stale: last changed 7\d\.\d h ago, the SLA allows 24 h»/,
    );

    const hidden = await cli('--as', 'uma', 'alerts', 'ack', alerts[0]!.id);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe(`dataops: no alert ${alerts[0]!.id}: list them with quality_list_alerts\n`);
    expect((await cli('--as', 'uma', 'alerts')).stdout).toBe('No alerts.\n');

    const acked = await cli('alerts', 'ack', alerts[0]!.id, '--note', 'refuelling feed late');
    expect(acked.stdout).toMatch(/\[critical\] acknowledged: /);
    const resolved = await cli('--json', 'alerts', 'resolve', alerts[0]!.id);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ state: 'resolved', note: 'refuelling feed late' });
    expect((await cli('alerts')).stdout).toBe('No alerts.\n');
    expect((await cli('alerts', '--state', 'resolved')).stdout).toMatch(/^1 alerts\n- \[critical\] resolved: /);
  });
});
