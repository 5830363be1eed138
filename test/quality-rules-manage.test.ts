import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { desc, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { alerts, assets, auditLog, qualityResults, scheduledJobs } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { runDueCycle, syncJobs } from '../mcp-server/scheduler/scheduler.js';
import { callOk, callTool, connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

describe('quality rules: disable, enable and delete', () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let steward: Client;
  let viewer: Client;
  const urn = 'urn:dataops:postgres:depot:depot.parts';

  const latestScoreEvidence = async () => {
    const [asset] = await ctx.db.select().from(assets).where(eq(assets.urn, urn));
    return asset!;
  };
  const openAlerts = async () =>
    (await ctx.db.select().from(alerts)).filter((a) => a.state !== 'resolved' && a.kind === 'rule');

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_rules_manage');
    const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(`create schema depot;
      create table depot.parts (part_id int primary key, nsn text, qty int);
      insert into depot.parts values (1, '5306-00-123-4567', 4), (2, null, 2), (3, null, 0), (4, '5306-00-765-4321', 9);`);
    await sql.end();
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'depot' }).discover(), {
      connection: scratch.url,
    });
    steward = await connectMcpClient(
      await contextAs(database, { id: 'sgt_rules', displayName: 'Sgt Rules', clearance: 'U', roles: ['steward'] }),
    );
    viewer = await connectMcpClient(
      await contextAs(database, { id: 'pvt_view', displayName: 'Pvt View', clearance: 'U', roles: ['viewer'] }),
    );
  });
  afterAll(async () => {
    await steward?.close();
    await viewer?.close();
    await database?.close();
    await scratch?.drop();
  });

  it('disables a failing rule: no alert, no score, no scheduled run; enabling brings it back', async () => {
    await callOk(steward, 'quality_create_rule', {
      urn,
      name: 'nsn present',
      type: 'not_null',
      column: 'nsn',
      severity: 'critical',
      schedule: '0 6 * * *',
    });
    await callOk(steward, 'quality_create_rule', { urn, name: 'qty known', type: 'not_null', column: 'qty' });
    const run = await callOk<{ failed: number }>(steward, 'quality_run_checks', { urn });
    expect(run.failed).toBe(1);
    expect(await openAlerts()).toHaveLength(1);
    const scoredWithFailure = (await latestScoreEvidence()).qualityScore!;

    const again = await callTool(steward, 'quality_create_rule', {
      urn,
      name: 'nsn present',
      type: 'unique',
      column: 'nsn',
    });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/already has a rule named "nsn present".*quality_delete_rule/);

    const off = await callTool(steward, 'quality_disable_rule', { urn, rule: 'nsn present' });
    expect(off.text).toMatch(/^Disabled rule on .*\n- nsn present \[not_null on nsn; completeness; critical; disabled/);
    // The alert it raised is resolved and the score no longer counts it.
    expect(await openAlerts()).toHaveLength(0);
    expect((await latestScoreEvidence()).qualityScore!).toBeGreaterThan(scoredWithFailure);
    const listed = await callOk<{ rules: { name: string }[] }>(steward, 'quality_list_rules', { urn });
    expect(listed.rules.map((r) => r.name)).toEqual(['qty known']);
    // The scheduler drops its job and runs only the enabled rule.
    await syncJobs(ctx.db, new Date());
    expect((await ctx.db.select().from(scheduledJobs)).filter((j) => j.kind === 'rule')).toEqual([]);
    const before = (await ctx.db.select().from(qualityResults)).length;
    await runDueCycle(ctx, { instanceId: 'test' });
    const results = await ctx.db.select().from(qualityResults).orderBy(desc(qualityResults.ranAt));
    expect(results.length).toBe(before + 1);
    const all = await callOk<{ rules: { id: string; name: string }[] }>(steward, 'quality_list_rules', {
      urn,
      includeDisabled: true,
    });
    const qtyId = all.rules.find((r) => r.name === 'qty known')!.id;
    expect(results[0]!.ruleId).toBe(qtyId);

    const scoredWithout = (await latestScoreEvidence()).qualityScore!;
    const twice = await callOk<{ changed: boolean }>(steward, 'quality_disable_rule', { urn, rule: 'nsn present' });
    expect(twice.changed).toBe(false);
    const nsnId = all.rules.find((r) => r.name === 'nsn present')!.id;
    const on = await callOk<{ changed: boolean; rule: { enabled: boolean } }>(steward, 'quality_enable_rule', {
      urn,
      rule: nsnId,
    });
    expect(on).toMatchObject({ changed: true, rule: { enabled: true } });
    // Enabled again, its latest (failing) result counts and opens the alert again.
    expect(await openAlerts()).toHaveLength(1);
    // (The cycle profiled the table since, so the score is compared with the one just before.)
    expect((await latestScoreEvidence()).qualityScore!).toBeLessThan(scoredWithout);
  });

  it('deletes a rule with its results, says what went, frees the name and keeps the record', async () => {
    const deleted = await callTool(steward, 'quality_delete_rule', { urn, rule: 'nsn present' });
    expect(deleted.isError, deleted.text).toBeFalsy();
    expect(deleted.text).toMatch(
      /^Deleted rule "nsn present" of .* with its 1 past result \(last failed at .*\); the audit log keeps its definition\.$/,
    );
    expect(deleted.structuredContent).toMatchObject({ resultsRemoved: 1, lastResult: { passed: false } });
    expect(await openAlerts()).toHaveLength(0);
    const [entry] = await ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'quality.rule.delete'))
      .orderBy(desc(auditLog.seq));
    expect(entry).toMatchObject({
      actorId: 'sgt_rules',
      targetUrn: urn,
      details: { rule: 'nsn present', resultsRemoved: 1, definition: { severity: 'critical', schedule: '0 6 * * *' } },
    });
    await callOk(steward, 'quality_create_rule', { urn, name: 'nsn present', type: 'not_null', column: 'nsn' });
    const gone = await callTool(steward, 'quality_delete_rule', { urn, rule: 'no such rule' });
    expect(gone.text).toBe(
      `${urn} has no rule "no such rule": quality_list_rules with includeDisabled lists its rules`,
    );
  });

  it('lets only stewards, owners and admins change rules, and hides assets the caller may not see', async () => {
    for (const tool of ['quality_disable_rule', 'quality_enable_rule', 'quality_delete_rule']) {
      const refused = await callTool(viewer, tool, { urn, rule: 'qty known' });
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/^pvt_view may not .* quality rules: it needs the steward or owner role/);
    }
    const hidden = await callTool(steward, 'quality_disable_rule', { urn: `${urn}_nope`, rule: 'qty known' });
    expect(hidden.text).toMatch(/^no asset urn:dataops:postgres:depot:depot\.parts_nope/);
  });
});
