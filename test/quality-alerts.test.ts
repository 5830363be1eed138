import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { addDomainMember } from '../mcp-server/governance/principals.js';
import { type AlertMessage, dispatchAlerts, readInbox, webhookChannel } from '../mcp-server/quality/alerts-dispatch.js';
import { evaluateAlerts } from '../mcp-server/quality/alerts-evaluate.js';
import {
  qualityAnomalies,
  qualityListAlerts,
  qualitySetSla,
  qualitySubscribeAlerts,
  qualityUpdateAlert,
} from '../mcp-server/quality/alerts-tools.js';
import type { ToolDefinition } from '../mcp-server/tool.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const day = 86_400_000;
const now = new Date('2026-11-20T12:00:00Z');

// biome-ignore lint/suspicious/noExplicitAny: tools of any shape
const call = <T extends ToolDefinition<any, any>>(tool: T, args: unknown, ctx: ServiceContext) =>
  tool.handler(tool.input.parse(args), ctx) as ReturnType<T['handler']>;

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected an error');
}

/** Row counts of 40 days: 10,000 growing by 50 a day, 2,000 fewer on weekends, a fixed wobble. */
function rowHistory(days: number): number[] {
  const wobble = [30, -20, 10, -40, 25, -5, 15, -30, 20, 0, -15, 35, -25, 5];
  return Array.from({ length: days }, (_, i) => {
    const date = new Date(now.getTime() - (days - 1 - i) * day);
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    return 10_000 + 50 * i - (weekend ? 2000 : 0) + wobble[i % wobble.length]!;
  });
}

describe('SLAs, alerts, subscriptions and anomalies', () => {
  let database: Database;
  let admin: ServiceContext;
  let steward: ServiceContext;
  let analyst: ServiceContext;
  let viewer: ServiceContext;
  const ids: Record<string, string> = {};
  const urn = (name: string) => `urn:dataops:postgres:ops:public.${name}`;
  const clockAt = (ctx: ServiceContext, at: Date): ServiceContext => ({ ...ctx, clock: () => at });

  beforeAll(async () => {
    database = await createTestDb();
    admin = clockAt(await createTestContext(database), now);
    steward = clockAt(
      await contextAs(database, { id: 'sam', displayName: 'Sam Steward', clearance: 'TS', roles: ['steward'] }),
      now,
    );
    analyst = clockAt(
      await contextAs(database, { id: 'ana', displayName: 'Ana Analyst', clearance: 'U', roles: ['viewer'] }),
      now,
    );
    viewer = clockAt(
      await contextAs(database, { id: 'val', displayName: 'Val Viewer', clearance: 'S', roles: ['viewer'] }),
      now,
    );
    const db = database.db;
    await db.execute(
      sql`insert into domains (id, name, restricted) values ('ops', 'Operations', false), ('intel', 'Intelligence', true)`,
    );
    await addDomainMember(db, 'intel', 'sam');
    steward = clockAt(await createTestContext(database, 'sam'), now);
    const [source] = await queryRows<{ id: string }>(
      db,
      sql`insert into sources (kind, name, location) values ('postgres', 'ops', 'postgres://db.example:5432/ops') returning id::text`,
    );
    const assets: [string, string, string][] = [
      ['shipments', 'U', 'ops'],
      ['fuel_orders', 'U', 'ops'],
      ['agent_reports', 'S', 'intel'],
      ['new_feed', 'U', 'ops'],
    ];
    for (const [name, classification, domain] of assets) {
      const [row] = await queryRows<{ id: string }>(
        db,
        sql`insert into assets (urn, source_id, domain_id, kind, namespace, name, qualified_name, classification, last_modified)
            values (${urn(name)}, ${source!.id}, ${domain}, 'table', 'public', ${name}, ${`public.${name}`},
                    ${classification}::classification, ${new Date(now.getTime() - 2 * day).toISOString()}::timestamptz)
            returning id::text`,
      );
      ids[name] = row!.id;
    }
    // Daily profiles of shipments for 40 days (the last one a drop to half), of new_feed for 5 days.
    const history = rowHistory(40);
    history[39] = Math.round(history[39]! / 2);
    for (const [name, counts] of [
      ['shipments', history],
      ['new_feed', rowHistory(5)],
    ] as const) {
      for (let i = 0; i < counts.length; i++) {
        const at = new Date(now.getTime() - (counts.length - 1 - i) * day - 3_600_000);
        await db.execute(sql`insert into profiles (asset_id, row_count, column_stats, profiled_at)
          values (${ids[name]!}, ${counts[i]!}, ${JSON.stringify({ weight: { nullRate: 0.01, mean: 12.5, distinct: { value: 300, exact: true } } })}::jsonb,
                  ${at.toISOString()}::timestamptz)`);
      }
    }
  });
  afterAll(() => database.close());

  it('quality_anomalies finds the drop against the weekly pattern, and says when history is too short', async () => {
    const report = await call(qualityAnomalies, { urn: urn('shipments'), lookbackDays: 7 }, admin);
    expect(report.history).toEqual({ days: 40, needed: 29 });
    expect(report.metricsJudged).toBeGreaterThanOrEqual(4);
    expect(report.anomalies).toEqual([
      expect.objectContaining({ metric: 'row_count', column: null, day: '2026-11-20', kind: 'drop' }),
    ]);
    expect(report.anomalies[0]!.expected).toBeGreaterThan(11_800);
    expect(report.anomalies[0]!.low).toBeGreaterThan(report.anomalies[0]!.value);

    const young = await call(qualityAnomalies, { urn: urn('new_feed') }, admin);
    expect(young).toMatchObject({ metricsJudged: 0, anomalies: [], history: { days: 5, needed: 29 } });
    expect(young.note).toMatch(/Not enough history to judge: 5 day\(s\) of profiles, 29 needed/);
  });

  it('quality_anomalies about an asset the caller may not see answers "not found"', async () => {
    const error = await errorOf(call(qualityAnomalies, { urn: urn('agent_reports') }, analyst));
    expect(error).toMatchObject({ code: 'not_found' });
  });

  it('an SLA breach opens one alert; seeing it again updates it; meeting the SLA resolves it; subscribers are told', async () => {
    await call(qualitySubscribeAlerts, { urn: urn('fuel_orders'), minSeverity: 'warning' }, analyst);
    expect(await errorOf(call(qualitySetSla, { urn: urn('fuel_orders'), freshnessHours: 24 }, analyst))).toMatchObject({
      code: 'forbidden',
    });
    const sla = await call(
      qualitySetSla,
      { urn: urn('fuel_orders'), freshnessHours: 24, severity: 'critical' },
      steward,
    );
    expect(sla).toEqual({ asset: urn('fuel_orders'), freshnessHours: 24, minScore: null, severity: 'critical' });

    expect(await evaluateAlerts(database.db, ids.fuel_orders!, now)).toMatchObject({ opened: 1 });
    expect(await evaluateAlerts(database.db, ids.fuel_orders!, new Date(now.getTime() + 3_600_000))).toMatchObject({
      opened: 0,
      updated: 1,
    });
    const listed = await call(qualityListAlerts, { urn: urn('fuel_orders') }, analyst);
    expect(listed.total).toBe(1);
    expect(listed.alerts[0]).toMatchObject({
      kind: 'sla_freshness',
      severity: 'critical',
      state: 'open',
      occurrences: 2,
      evidence: { targetHours: 24 },
    });
    expect(listed.alerts[0]!.title).toMatch(
      /public\.fuel_orders is stale: last changed 4[89]\.\d h ago, the SLA allows 24 h/,
    );

    await database.db.execute(
      sql`update assets set last_modified = ${now.toISOString()}::timestamptz where id = ${ids.fuel_orders!}`,
    );
    expect(await evaluateAlerts(database.db, ids.fuel_orders!, now)).toMatchObject({ resolved: 1 });
    expect((await call(qualityListAlerts, { urn: urn('fuel_orders') }, analyst)).total).toBe(0);
    const resolved = await call(qualityListAlerts, { urn: urn('fuel_orders'), state: 'resolved' }, analyst);
    expect(resolved.alerts[0]).toMatchObject({ state: 'resolved', note: 'the problem was no longer seen' });

    const inbox = await readInbox(analyst);
    expect(inbox.map((e) => [e.event, e.qualifiedName, e.severity])).toEqual([
      ['resolved', 'public.fuel_orders', 'critical'],
      ['opened', 'public.fuel_orders', 'critical'],
    ]);
  });

  it('a score below the SLA and a failing critical rule open alerts; a rule that passes again resolves its alert', async () => {
    await call(qualitySetSla, { urn: urn('shipments'), minScore: 90 }, steward);
    await database.db.execute(sql`insert into quality_scores (asset_id, overall, dimensions, computed_at)
      values (${ids.shipments!}, 72.5, '{}'::jsonb, ${now.toISOString()}::timestamptz)`);
    const [rule] = await queryRows<{ id: string }>(
      database.db,
      sql`insert into quality_rules (asset_id, name, type, column_name, dimension, severity)
          values (${ids.shipments!}, 'weight not null', 'not_null', 'weight', 'completeness', 'critical') returning id::text`,
    );
    await database.db.execute(sql`insert into quality_results (rule_id, asset_id, passed, checked_rows, failed_rows, ran_at)
      values (${rule!.id}, ${ids.shipments!}, false, 1000, 37, ${now.toISOString()}::timestamptz)`);

    expect(await evaluateAlerts(database.db, ids.shipments!, now)).toMatchObject({ opened: 3 });
    const alerts = (await call(qualityListAlerts, { urn: urn('shipments') }, admin)).alerts;
    expect(alerts.map((a) => [a.kind, a.severity])).toEqual([
      ['rule', 'critical'],
      ['anomaly', 'warning'],
      ['sla_score', 'warning'],
    ]);
    expect(alerts[0]!.title).toBe('Critical rule "weight not null" fails on public.shipments: 37 of 1000 rows fail');
    expect(alerts[1]!.title).toMatch(/public\.shipments: drop in row count on 2026-11-20/);
    expect(alerts[2]!.evidence).toMatchObject({ score: 72.5, targetScore: 90 });

    await database.db.execute(sql`insert into quality_results (rule_id, asset_id, passed, checked_rows, failed_rows, ran_at)
      values (${rule!.id}, ${ids.shipments!}, true, 1000, 0, ${new Date(now.getTime() + 60_000).toISOString()}::timestamptz)`);
    expect(await evaluateAlerts(database.db, ids.shipments!, now)).toMatchObject({ opened: 0, resolved: 1 });
    const left = (await call(qualityListAlerts, { urn: urn('shipments') }, admin)).alerts;
    expect(left.map((a) => a.kind)).toEqual(['anomaly', 'sla_score']);
  });

  it('never shows or delivers an alert on an asset the reader may not see', async () => {
    await call(qualitySubscribeAlerts, { minSeverity: 'info' }, viewer);
    await call(qualitySetSla, { urn: urn('agent_reports'), freshnessHours: 1 }, steward);
    await evaluateAlerts(database.db, ids.agent_reports!, now);
    const hidden = (await call(qualityListAlerts, { state: 'all' }, steward)).alerts.find(
      (a) => a.qualifiedName === 'public.agent_reports',
    );
    expect(hidden).toBeDefined();

    // Val is cleared for S but not a member of the restricted intel domain; Ana is cleared for U only.
    for (const reader of [viewer, analyst]) {
      const text = JSON.stringify(await call(qualityListAlerts, { state: 'all' }, reader));
      expect(text).not.toContain('agent_reports');
      expect(await errorOf(call(qualityUpdateAlert, { id: hidden!.id, action: 'acknowledge' }, reader))).toMatchObject({
        code: 'not_found',
      });
    }
    expect(JSON.stringify(await readInbox(viewer))).not.toContain('agent_reports');
    expect(await errorOf(call(qualitySubscribeAlerts, { domain: 'intel' }, viewer))).toMatchObject({
      code: 'not_found',
    });
  });

  it('acknowledge, assign and resolve: who may, to whom, audited, through the MCP server', async () => {
    const [alert] = (await call(qualityListAlerts, { urn: urn('shipments'), minSeverity: 'warning' }, admin)).alerts;
    expect(await errorOf(call(qualityUpdateAlert, { id: alert!.id, action: 'acknowledge' }, analyst))).toMatchObject({
      code: 'forbidden',
    });
    expect(
      await errorOf(call(qualityUpdateAlert, { id: alert!.id, action: 'assign', assignee: 'nobody' }, steward)),
    ).toMatchObject({ code: 'invalid_input' });
    const assigned = await call(qualityUpdateAlert, { id: alert!.id, action: 'assign', assignee: 'ana' }, steward);
    expect(assigned).toMatchObject({ assignee: 'ana', state: 'open' });
    expect((await call(qualityListAlerts, { assignee: 'me' }, analyst)).alerts.map((a) => a.id)).toEqual([alert!.id]);

    // The assignee may act on it herself, through any MCP client.
    const client = await connectMcpClient(analyst);
    const acked = await client.callTool({
      name: 'quality_update_alert',
      arguments: { id: alert!.id, action: 'acknowledge', note: 'looking into the load' },
    });
    expect(acked.structuredContent).toMatchObject({ state: 'acknowledged', note: 'looking into the load' });
    await client.close();
    const done = await call(qualityUpdateAlert, { id: alert!.id, action: 'resolve' }, steward);
    expect(done.state).toBe('resolved');
    expect(await errorOf(call(qualityUpdateAlert, { id: alert!.id, action: 'resolve' }, steward))).toMatchObject({
      code: 'conflict',
    });

    const audit = await queryRows<{ action: string; actorId: string }>(
      database.db,
      sql`select action, actor_id as "actorId" from audit_log where action like 'quality.alert_%' order by seq`,
    );
    expect(audit.filter((a) => a.action !== 'quality.alert_subscribe')).toEqual([
      { action: 'quality.alert_assign', actorId: 'sam' },
      { action: 'quality.alert_acknowledge', actorId: 'ana' },
      { action: 'quality.alert_resolve', actorId: 'sam' },
    ]);
  });

  it('delivers to webhooks once, retries a failing endpoint and gives up after five attempts', async () => {
    const received: AlertMessage[] = [];
    let failing = false;
    const server: Server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        if (failing) {
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      expect(
        await errorOf(call(qualitySubscribeAlerts, { channel: 'webhook', target: 'file:///etc/passwd' }, steward)),
      ).toMatchObject({ code: 'invalid_input' });
      const subscribed = await call(
        qualitySubscribeAlerts,
        { urn: urn('new_feed'), channel: 'webhook', target: url, minSeverity: 'info' },
        steward,
      );
      expect(subscribed.subscriptions).toEqual([
        expect.objectContaining({ asset: urn('new_feed'), channel: 'webhook', target: url }),
      ]);
      await call(qualitySetSla, { urn: urn('new_feed'), freshnessHours: 12 }, steward);
      await evaluateAlerts(database.db, ids.new_feed!, now);
      const channels = [webhookChannel()];
      expect(await dispatchAlerts(database.db, channels, { now })).toEqual({ sent: 1, retrying: 0, failed: 0 });
      expect(await dispatchAlerts(database.db, channels, { now })).toEqual({ sent: 0, retrying: 0, failed: 0 });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        event: 'opened',
        recipient: 'sam',
        target: url,
        alert: { kind: 'sla_freshness', severity: 'warning', state: 'open' },
        asset: { urn: urn('new_feed'), qualifiedName: 'public.new_feed', classification: 'U' },
      });

      failing = true;
      await database.db.execute(
        sql`update assets set last_modified = ${now.toISOString()}::timestamptz where id = ${ids.new_feed!}`,
      );
      await evaluateAlerts(database.db, ids.new_feed!, now);
      const attempts = [];
      for (let i = 0; i < 5; i++) attempts.push(await dispatchAlerts(database.db, channels, { now }));
      expect(attempts.map((a) => [a.retrying, a.failed])).toEqual([
        [1, 0],
        [1, 0],
        [1, 0],
        [1, 0],
        [0, 1],
      ]);
      const [delivery] = await queryRows<{ lastError: string; attempts: number }>(
        database.db,
        sql`select last_error as "lastError", attempts from alert_deliveries where status = 'failed'`,
      );
      expect(delivery).toEqual({ lastError: 'the webhook answered 503 Service Unavailable', attempts: 5 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('subscribing twice keeps one subscription; unsubscribe removes only your own', async () => {
    await call(qualitySubscribeAlerts, { urn: urn('fuel_orders'), minSeverity: 'critical' }, analyst);
    const mine = (await call(qualitySubscribeAlerts, { action: 'list' }, analyst)).subscriptions;
    expect(mine).toEqual([
      expect.objectContaining({ asset: urn('fuel_orders'), minSeverity: 'critical', channel: 'inbox' }),
    ]);
    expect(
      await errorOf(call(qualitySubscribeAlerts, { action: 'unsubscribe', id: mine[0]!.id }, steward)),
    ).toMatchObject({ code: 'not_found' });
    const after = await call(qualitySubscribeAlerts, { action: 'unsubscribe', id: mine[0]!.id }, analyst);
    expect(after.subscriptions).toEqual([]);
  });
  it('a worse breach escalates the same alert and tells subscribers; a resolved anomaly of a day stays resolved that day', async () => {
    await call(qualitySetSla, { urn: urn('shipments'), severity: 'critical' }, steward);
    expect(await evaluateAlerts(database.db, ids.shipments!, now)).toMatchObject({ opened: 0, escalated: 1 });
    const open = (await call(qualityListAlerts, { urn: urn('shipments') }, admin)).alerts;
    // The drop of 2026-11-20 was resolved by a person in an earlier test: seen again that day, it is not news.
    expect(open.map((a) => [a.kind, a.severity, a.occurrences])).toEqual([['sla_score', 'critical', 3]]);
    const events = (await readInbox(viewer)).filter((e) => e.qualifiedName === 'public.shipments');
    // Val subscribed after these alerts opened: she hears of the anomaly's resolution and the escalation.
    expect(events.map((e) => [e.event, e.severity])).toEqual([
      ['escalated', 'critical'],
      ['resolved', 'warning'],
    ]);
  });

  it('removed or retyped columns open a schema-drift alert; added ones do not', async () => {
    const at = new Date(now.getTime() - 3_600_000).toISOString();
    await database.db.execute(sql`insert into activity_events (asset_id, type, summary, details, at) values
      (${ids.fuel_orders!}, 'schema_changed', 'Schema changed: added litres', '{"added":[{"name":"litres"}],"removed":[],"retyped":[]}'::jsonb, ${at}::timestamptz)`);
    expect(await evaluateAlerts(database.db, ids.fuel_orders!, now)).toMatchObject({ opened: 0 });
    await database.db.execute(sql`insert into activity_events (asset_id, type, summary, details, at) values
      (${ids.fuel_orders!}, 'schema_changed', 'Schema changed: removed depot', '{"added":[],"removed":[{"name":"depot"}],"retyped":[]}'::jsonb, ${at}::timestamptz)`);
    expect(await evaluateAlerts(database.db, ids.fuel_orders!, now)).toMatchObject({ opened: 1 });
    const [drift] = (await call(qualityListAlerts, { urn: urn('fuel_orders') }, admin)).alerts;
    expect(drift).toMatchObject({
      kind: 'schema_drift',
      severity: 'warning',
      title: 'public.fuel_orders: columns removed or retyped (Schema changed: removed depot)',
    });
    const report = await call(qualityAnomalies, { urn: urn('fuel_orders'), lookbackDays: 1 }, admin);
    expect(report.schemaDrift.map((d) => [d.summary, d.breaking])).toEqual([
      ['Schema changed: removed depot', true],
      ['Schema changed: added litres', false],
    ]);
  });
});
