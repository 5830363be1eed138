import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { and, eq } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { assets, auditLog, qualityResults, qualityRules } from '../db/schema/index.js';
import { annotateAssets } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { runChecks } from '../mcp-server/quality/checks.js';
import { createRule, listRules } from '../mcp-server/quality/rules.js';
import { applyRulesYaml } from '../mcp-server/quality/rules-yaml.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { runCli } from './helpers/run-cli.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

const sourceSql = `
  create schema ops;
  create table ops.units (unit_id int primary key, name text not null);
  create table ops.sorties (
    sortie_id int primary key, unit_id int, callsign text, pilot_email text,
    launched_at timestamp, landed_at timestamp, fuel_lbs numeric);
  insert into ops.units values (1, 'VMFA-121'), (2, 'VMFA-242');
  insert into ops.sorties values
    (1, 1, 'VIPER 11', 'a.jones@navy.mil', '2026-06-01 08:00', '2026-06-01 10:00', 1200),
    (2, 1, 'VIPER 12', 'b.smith@navy.mil', '2026-06-01 08:05', '2026-06-01 07:00', 1100),
    (3, 9, 'HAWG 21', 'c.diaz@navy.mil', '2026-06-02 09:00', '2026-06-02 11:30', -50),
    (4, null, 'HAWG 22', null, '2026-06-02 09:10', null, 900);`;

describe('quality rules: creating, refusing, running, masking, YAML files and the tools', () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let client: Client;
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-rules-'));
  const sorties = 'urn:dataops:postgres:ops:ops.sorties';
  const units = 'urn:dataops:postgres:ops:ops.units';

  const assetId = async (urn: string) =>
    (await ctx.db.select({ id: assets.id }).from(assets).where(eq(assets.urn, urn)))[0]!.id;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_rules');
    const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(sourceSql);
    await sql.end();
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'ops' }).discover(), {
      connection: scratch.url,
    });
    await annotateAssets(ctx, [{ urn: sorties, columns: { pilot_email: { sensitivity: 'pii' } } }]);
    client = await connectMcpClient(ctx);
  });
  afterAll(async () => {
    await client?.close();
    await database?.close();
    await scratch?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses injected and unsafe custom expressions, saying why', async () => {
    const attempt = (expression: string) =>
      createRule(ctx, sorties, {
        name: `x ${randomBytes(3).toString('hex')}`,
        type: 'expression',
        config: { expression },
      });
    await expect(attempt('1=1; drop table x')).rejects.toThrow(/more than one statement/);
    await expect(attempt('unit_id in (select unit_id from ops.units)')).rejects.toThrow(/subqueries are not allowed/);
    await expect(attempt('exists (select 1 from pg_shadow)')).rejects.toThrow(/subqueries are not allowed/);
    await expect(attempt('pg_sleep(10) is not null')).rejects.toThrow(/function pg_sleep\(\) is not allowed/);
    await expect(attempt('generate_series(1, 10) > 0')).rejects.toThrow(/function generate_series\(\) is not allowed/);
    await expect(attempt('count(*) > 0')).rejects.toThrow(/function count\(\) is not allowed/);
    await expect(attempt('lower(secret) = 1')).rejects.toThrow(/"secret" is not a column of this table/);
    await expect(attempt('units.unit_id = 1')).rejects.toThrow(/columns are named alone/);
    await expect(attempt('fuel_lbs > 0) or (1=1')).rejects.toThrow(/could not parse|refused/);
    expect(await listRules(ctx, sorties, { includeDisabled: true })).toEqual([]);
  });

  it('runs a custom expression, a range, a relationship, freshness and a schema rule with their evidence', async () => {
    const make = (name: string, rule: Omit<Parameters<typeof createRule>[2], 'name'>) =>
      createRule(ctx, sorties, { name, severity: 'critical', ...rule });
    await make('lands after launch', { type: 'expression', config: { expression: 'landed_at >= launched_at' } });
    await make('fuel is positive', { type: 'invalid', column: 'fuel_lbs', config: { min: 0 } });
    await make('unit exists', { type: 'relationships', column: 'unit_id', config: { to: units, field: 'unit_id' } });
    await make('flown this week', { type: 'freshness', column: 'launched_at', config: { maxAgeHours: 24 * 7 } });
    await make('has a pilot', { type: 'schema', config: { requiredColumns: ['pilot_email', 'callsign'] } });
    await make('pilot e-mail present', { type: 'not_null', column: 'pilot_email', threshold: 0.5 });
    const clock = () => new Date('2026-06-05T00:00:00Z');
    const results = await runChecks({ ...ctx, clock }, { assetId: await assetId(sorties) });
    const byName = Object.fromEntries(results.map((r) => [r.rule, r]));
    expect(byName['lands after launch']).toMatchObject({ passed: false, checkedRows: 4, failedRows: 1 });
    expect(byName['lands after launch']!.evidence.sample).toEqual([
      { sortie_id: 2, landed_at: '2026-06-01T07:00:00.000Z', launched_at: '2026-06-01T08:05:00.000Z' },
    ]);
    expect(byName['fuel is positive']).toMatchObject({ passed: false, checkedRows: 4, failedRows: 1 });
    expect(byName['unit exists']).toMatchObject({ passed: false, checkedRows: 3, failedRows: 1 });
    expect(byName['unit exists']!.evidence.sample).toEqual([{ sortie_id: 3, unit_id: 9 }]);
    expect(byName['flown this week']).toMatchObject({ passed: true });
    expect((byName['flown this week']!.observed as { ageHours: number }).ageHours).toBeCloseTo(62.83, 1);
    expect(byName['has a pilot']).toMatchObject({ passed: true });
    expect(byName['pilot e-mail present']).toMatchObject({ passed: true, failedRows: 1 });
    const stored = await ctx.db
      .select()
      .from(qualityResults)
      .where(eq(qualityResults.assetId, await assetId(sorties)));
    expect(stored).toHaveLength(6);
    expect(stored.filter((r) => !r.passed)).toHaveLength(3);
  });

  it('never stores personal data in the failing rows it keeps', async () => {
    await createRule(ctx, sorties, {
      name: 'navy addresses only',
      type: 'invalid',
      column: 'pilot_email',
      config: { regex: '@navy\\.mil$', where: "callsign like 'VIPER%'" },
    });
    await createRule(ctx, sorties, {
      name: 'one sortie per pilot',
      type: 'invalid',
      column: 'pilot_email',
      config: { maxLength: 10 },
    });
    const [result] = await runChecks(ctx, {
      assetId: await assetId(sorties),
      ruleIds: (await listRules(ctx, sorties)).filter((r) => r.name === 'one sortie per pilot').map((r) => r.id),
    });
    expect(result!.failedRows).toBe(3);
    const emails = result!.evidence.sample!.map((row) => String(row.pilot_email));
    expect(emails).toHaveLength(3);
    for (const email of emails) {
      expect(email).not.toMatch(/jones|smith|diaz/);
      expect(email).toMatch(/\*\*\*/);
    }
  });

  it('keeps rules and results from those who may not see the asset, and from viewers who would change them', async () => {
    const viewer = await contextAs(database, { id: 'v1', displayName: 'Viewer', clearance: 'S', roles: ['viewer'] });
    await expect(createRule(viewer, sorties, { name: 'n', type: 'not_null', column: 'callsign' })).rejects.toThrow(
      /needs the steward or owner role/,
    );
    await annotateAssets(ctx, [{ urn: sorties, classification: 'S' }]);
    const uncleared = await contextAs(database, {
      id: 'u1',
      displayName: 'Uncleared',
      clearance: 'C',
      roles: ['steward'],
    });
    await expect(listRules(uncleared, sorties)).rejects.toMatchObject({ code: 'not_found' });
    // A rule on a visible asset that checks against a hidden one is not listed: it would name that asset.
    await annotateAssets(ctx, [
      { urn: sorties, classification: 'U' },
      { urn: units, classification: 'S' },
    ]);
    expect((await listRules(uncleared, sorties)).map((r) => r.name)).not.toContain('unit exists');
    expect((await listRules(ctx, sorties)).map((r) => r.name)).toContain('unit exists');
    await annotateAssets(ctx, [
      { urn: sorties, classification: 'S' },
      { urn: units, classification: 'U' },
    ]);
    const call = await (await connectMcpClient(uncleared)).callTool({
      name: 'quality_run_checks',
      arguments: { urn: sorties },
    });
    expect(call.isError).toBe(true);
    expect(JSON.stringify(call.content)).toMatch(/no asset/);
    await annotateAssets(ctx, [{ urn: sorties, classification: 'U' }]);
  });

  it('creates, lists and runs rules through the MCP tools', async () => {
    const created = await client.callTool({
      name: 'quality_create_rule',
      arguments: { urn: units, name: 'unit names unique', type: 'unique', column: 'name', severity: 'critical' },
    });
    expect(created.isError).toBeFalsy();
    const listed = await client.callTool({ name: 'quality_list_rules', arguments: { urn: units } });
    expect((listed.structuredContent as { rules: { name: string; dimension: string }[] }).rules).toEqual([
      expect.objectContaining({ name: 'unit names unique', dimension: 'uniqueness' }),
    ]);
    const run = await client.callTool({ name: 'quality_run_checks', arguments: { urn: units } });
    expect(run.structuredContent).toMatchObject({ passed: 1, failed: 0 });
    const bad = await client.callTool({
      name: 'quality_create_rule',
      arguments: { urn: units, name: 'cron', type: 'row_count', config: { bounds: { min: 1 } }, schedule: 'every day' },
    });
    expect(bad.isError).toBe(true);
    expect((bad.content as { text: string }[])[0]!.text).toMatch(/schedule "every day" is not a cron expression/);
  });

  it('scores the asset and opens an alert for a failing critical rule as soon as the checks run', async () => {
    await client.callTool({
      name: 'quality_create_rule',
      arguments: {
        urn: units,
        name: 'a thousand units',
        type: 'row_count',
        config: { bounds: { min: 1000 } },
        severity: 'critical',
      },
    });
    const run = await client.callTool({ name: 'quality_run_checks', arguments: { urn: units } });
    expect(run.structuredContent).toMatchObject({ failed: 1 });
    const score = (await client.callTool({ name: 'quality_get', arguments: { urn: units } })).structuredContent as {
      score: number | null;
      dimensions: { uniqueness: { score: number | null } };
    };
    expect(score.score).not.toBeNull();
    const alerts = (await client.callTool({ name: 'quality_list_alerts', arguments: { urn: units } }))
      .structuredContent as { alerts: { kind: string; severity: string; state: string; title: string }[] };
    expect(alerts.alerts).toEqual([
      expect.objectContaining({
        kind: 'rule',
        severity: 'critical',
        state: 'open',
        title: expect.stringMatching(/a thousand units/),
      }),
    ]);
  });

  describe('rules files', () => {
    const file = (name: string, text: string) => {
      const target = path.join(dir, name);
      writeFileSync(target, text);
      return target;
    };
    const yamlRules = (extra = '') => `suite: ops-checks
assets:
  - asset: ${sorties}
    rules:
      - name: callsign present
        type: not_null
        column: callsign
        severity: critical
      - name: fuel in range
        type: invalid
        column: fuel_lbs
        threshold: 0.75
        config: { min: 0, max: 20000 }
${extra}`;
    const auditCount = async () => (await ctx.db.select({ seq: auditLog.seq }).from(auditLog)).length;

    it('applies a file, and applying it again changes nothing', async () => {
      const first = await applyRulesYaml(ctx, yamlRules(), 'ops.yml');
      expect(first).toMatchObject({ suite: 'ops-checks', updated: [], disabled: [], unchanged: 0 });
      expect(first.added).toHaveLength(2);
      const audited = await auditCount();
      const again = await applyRulesYaml(ctx, yamlRules(), 'ops.yml');
      expect(again).toEqual({ suite: 'ops-checks', added: [], updated: [], disabled: [], unchanged: 2 });
      expect(await auditCount()).toBe(audited);
    });

    it('disables a rule that left the file and updates a changed one', async () => {
      const text = yamlRules()
        .replace(/ {6}- name: callsign present[\s\S]*?severity: critical\n/, '')
        .replace('0.75', '0.5');
      const summary = await applyRulesYaml(ctx, text, 'ops.yml');
      expect(summary.disabled).toEqual([`${sorties} callsign present`]);
      expect(summary.updated).toEqual([`${sorties} fuel in range`]);
      const [rule] = await ctx.db
        .select()
        .from(qualityRules)
        .where(and(eq(qualityRules.name, 'callsign present'), eq(qualityRules.origin, 'yaml')));
      expect(rule!.enabled).toBe(false);
    });

    it('refuses a file with an error whole, naming the line', async () => {
      const broken = yamlRules(`      - name: bad expression
        type: expression
        config: { expression: "1=1; drop table x" }
`).replace('callsign present', 'callsign given');
      const before = await ctx.db.select().from(qualityRules);
      await expect(applyRulesYaml(ctx, broken, 'ops.yml')).rejects.toThrow(
        /^ops\.yml:14: rule "bad expression" \(expression\): the expression «1=1; drop table x» is refused: .*more than one statement.*nothing was applied/,
      );
      await expect(
        applyRulesYaml(ctx, yamlRules().replace('type: not_null', 'type: not_nul'), 'ops.yml'),
      ).rejects.toThrow(/^ops\.yml:5: rule "callsign present": type: /);
      await expect(
        applyRulesYaml(ctx, yamlRules().replace('column: fuel_lbs', 'colum: fuel_lbs'), 'ops.yml'),
      ).rejects.toThrow(/^ops\.yml:9: rule "fuel in range": Unrecognized key: "colum"/);
      expect(await ctx.db.select().from(qualityRules)).toEqual(before);
    });

    it('is what `dataops quality apply` runs, refusing an unknown asset by its line', async () => {
      const workspace = mkdtempSync(path.join(tmpdir(), 'dataops-rules-cli-'));
      try {
        const target = file('empty.yml', `assets:\n  - asset: urn:dataops:postgres:nowhere:x.y\n    rules: []\n`);
        const refused = await runCli(['--db', workspace, 'quality', 'apply', target]);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/empty\.yml:2: no asset urn:dataops:postgres:nowhere:x\.y/);
      } finally {
        rmSync(workspace, { recursive: true, force: true });
      }
    });
  });
});

describe('custom expressions on MariaDB', () => {
  let database: Database;
  let ctx: ServiceContext;
  const name = `dataops_rules_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    const maria = await mysql.createConnection({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      multipleStatements: true,
    });
    await maria.query(`create database ${name}; use ${name};
      create table depots (id int primary key, name varchar(40), opened date, closed date, code varchar(10));
      insert into depots values (1, 'Anniston', '1941-01-01', null, 'ANAD'), (2, 'Tobyhanna', '1953-01-01', '1950-01-01', 'tyad'),
        (3, 'Red River', '1941-08-01', null, 'RRAD');`);
    await maria.end();
    const url = `mysql://root@127.0.0.1:3306/${name}`;
    await syncSource(ctx, await createMysqlConnector({ url, name: 'depots' }).discover(), { connection: url });
  });
  afterAll(async () => {
    await database?.close();
    const maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    await maria.query(`drop database ${name}`);
    await maria.end();
  });

  it('matches regular expressions case-sensitively, as on Postgres', async () => {
    const urn = `urn:dataops:mysql:depots:${name}.depots`;
    const regex = await createRule(ctx, urn, {
      name: 'code upper case',
      type: 'invalid',
      column: 'code',
      config: { regex: '^[A-Z]+$' },
    });
    const expression = await createRule(ctx, urn, {
      name: 'code upper case (expression)',
      type: 'expression',
      config: { expression: "code ~ '^[A-Z]+$'" },
    });
    const [asset] = await ctx.db.select({ id: assets.id }).from(assets).where(eq(assets.urn, urn));
    const results = await runChecks(ctx, { assetId: asset!.id, ruleIds: [regex.id, expression.id] });
    for (const result of results) {
      expect(result).toMatchObject({
        failedRows: 1,
        evidence: { sample: [expect.objectContaining({ code: 'tyad' })] },
      });
    }
  });

  it('writes the accepted expression in MySQL syntax, with its constants as parameters', async () => {
    const urn = `urn:dataops:mysql:depots:${name}.depots`;
    await createRule(ctx, urn, {
      name: 'closed after opening',
      type: 'expression',
      config: { expression: "coalesce(closed, current_date) >= opened and upper(code) = code and name || '' <> ''" },
    });
    const [asset] = await ctx.db.select({ id: assets.id }).from(assets).where(eq(assets.urn, urn));
    const [result] = await runChecks(ctx, {
      assetId: asset!.id,
      ruleIds: (await listRules(ctx, urn)).filter((r) => r.name === 'closed after opening').map((r) => r.id),
    });
    expect(result).toMatchObject({ passed: false, checkedRows: 3, failedRows: 1 });
    expect(result!.evidence.sample).toEqual([
      { id: 2, closed: expect.any(String), opened: expect.any(String), code: 'tyad', name: 'Tobyhanna' },
    ]);
  });
});
