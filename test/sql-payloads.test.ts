import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDataOpsError } from '../core/errors.js';
import type { Database } from '../db/create-db.js';
import { assets, qualityRules } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { runChecks } from '../mcp-server/quality/checks.js';
import { createRule } from '../mcp-server/quality/rules.js';
import { runTool } from '../mcp-server/run-tool.js';
import { schedulerPrincipal } from '../mcp-server/scheduler/scheduler.js';
import { canaryFile, type SqlPayload, sqlPayloads } from './fixtures/sql-payloads.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/**
 * Issue 12: the payload corpus (fixtures/sql-payloads.ts) replayed against every path that takes SQL or an
 * expression from a person, as a steward cleared for U. Zero escapes: each payload is refused with a
 * message, or (where it is only costly) cut short, and afterwards nothing was written, locked or created.
 */
const fixture = `
  create schema shop;
  create schema secret;
  create table shop.orders (id int primary key, amount numeric(8,2), status text, card text);
  insert into shop.orders values (1, 10, 'placed', '4111'), (2, -5, 'shipped', '5500'), (3, 7, 'placed', null);
  create table secret.reviews (id int, verdict text);
  insert into secret.reviews select g, 'review ' || g from generate_series(1, 769) g;
  create sequence shop.tickets;
  create table shop.customers (id int, name text);
  insert into shop.customers values (1, 'a');
  create table shop.parent (id int, note text);
  create table secret.child () inherits (shop.parent);
  insert into secret.child values (1, 'ts-child-secret');
  create table shop.events (id int, at date) partition by range (at);
  create table shop.events_new partition of shop.events for values from ('2100-01-01') to ('2200-01-01');
  create table secret.events_old partition of shop.events for values from ('2000-01-01') to ('2100-01-01');
  insert into shop.events values (1, '2024-01-01');
  create function public.json_scalar(int) returns text language sql
    as $$ select verdict from secret.reviews where id = $1 $$;
  create function public.peek(shop.orders) returns text language sql as $$ select pg_read_file('/etc/hostname') $$;
  create function shop.peek() returns text language sql as $$ select pg_read_file('/etc/hostname') $$;
  create function shop.eq3(int, int) returns boolean language sql
    as $$ select (select count(*) from secret.reviews) = 769 $$;
  create operator shop.=== (leftarg = int, rightarg = int, function = shop.eq3);
  create function shop.lt3(int, int) returns boolean language sql as $$ select $1 < $2 $$;
  create operator shop.<<< (leftarg = int, rightarg = int, function = shop.lt3);`;

const urn = (schema: string, table: string) => assetUrn('postgres', 'payloads', `${schema}`, table);

/** What a path did with a payload: refused it (with the message), or took it (and what happened when run). */
type Verdict = { refused: string } | { accepted: string };

describe('the SQL payload corpus against every path that takes SQL or an expression', () => {
  let database: Database;
  let admin: ServiceContext;
  let steward: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;
  let ordersId: string;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    steward = await contextAs(database, { id: 'ula', displayName: 'Ula Steward', clearance: 'U', roles: ['steward'] });
    scratch = await createScratchDatabase(serverUrl, 'dataops_sql_payloads');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(fixture);
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'payloads' }).discover(), {
      connection: scratch.url,
    });
    await database.db.execute(
      sql`update assets set classification = 'TS'
        where urn in (${urn('secret', 'reviews')}, ${urn('secret', 'child')}, ${urn('secret', 'events_old')})`,
    );
    await database.db.execute(sql`update columns set classification = 'C' where name = 'card'
      and asset_id = (select id from assets where urn = ${urn('shop', 'orders')})`);
    ordersId = (
      await database.db
        .select({ id: assets.id })
        .from(assets)
        .where(sql`urn = ${urn('shop', 'orders')}`)
    )[0]!.id;
    const filter = await pipelineNode({ type: 'filter', config: { condition: 'amount > 0' } }, true);
    const derive = await pipelineNode(
      { type: 'derive', config: { columns: [{ name: 'twice', expression: 'amount * 2' }] } },
      true,
    );
    const sourceSql = await pipelineNode(
      { type: 'source_sql', config: { source: 'payloads', query: 'select id from shop.orders' } },
      false,
    );
    const rule = (type: string, config: Record<string, unknown>, i: number) =>
      refusal(
        createRule(steward, urn('shop', 'orders'), { name: `payload ${i} ${type}`, type: type as never, config }),
      );
    paths = {
      'dbt_test rule SQL': (p, i) => rule('dbt_test', { sql: p.text }, i),
      'rule expression': (p, i) => rule('expression', { expression: p.text }, i),
      'rule where filter': (p, i) => rule('row_count', { where: p.text, bounds: { min: 0 } }, i),
      'pipeline filter condition': (p) => filter({ condition: p.text }),
      'pipeline derive expression': (p) => derive({ columns: [{ name: 'twice', expression: p.text }] }),
      'source_sql node': (p) => sourceSql({ source: 'payloads', query: p.text }),
    };
  }, 120_000);

  afterAll(async () => {
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  const refusal = async (work: Promise<unknown>): Promise<Verdict> => {
    try {
      return { accepted: JSON.stringify(await work) };
    } catch (error) {
      if (!isDataOpsError(error)) throw error;
      expect(['invalid_input', 'not_found']).toContain(error.code);
      return { refused: error.message };
    }
  };

  async function call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const tool = pipelineTools.find((t) => t.name === name)!;
    return (await runTool(tool as never, args, steward)) as Record<string, unknown>;
  }

  /** A pipeline of the steward's with one node to edit; a payload is refused when the edit throws or leaves an issue there. */
  async function pipelineNode(node: Record<string, unknown>, withDataset: boolean) {
    const { id } = await call('pipelines_create', { name: `payloads ${String(node.type)}` });
    if (withDataset) {
      await call('pipelines_add_node', {
        pipeline: id,
        id: 'orders',
        type: 'source_dataset',
        config: { urn: urn('shop', 'orders') },
      });
    }
    await call('pipelines_add_node', { pipeline: id, id: 'n', ...(withDataset ? { after: 'orders' } : {}), ...node });
    return async (config: Record<string, unknown>): Promise<Verdict> => {
      const edit = await refusal(call('pipelines_update_node', { pipeline: id, id: 'n', config }));
      if ('refused' in edit) return edit;
      const saved = JSON.parse(edit.accepted) as { issues: { nodeId: string; message: string }[] };
      const issue = saved.issues.find((i) => i.nodeId === 'n' && !i.message.includes('leads nowhere'));
      return issue ? { refused: issue.message } : edit;
    };
  }

  /** Every path, by name: what it does with one payload. */
  let paths: Record<string, (p: SqlPayload, i: number) => Promise<Verdict>>;

  const sqlPaths = new Set(['dbt_test rule SQL', 'source_sql node']);

  it('refuses every payload on every path with a message, or accepts only what is merely costly', async () => {
    const escapes: string[] = [];
    for (const [path, run] of Object.entries(paths)) {
      for (const [i, payload] of sqlPayloads.entries()) {
        const verdict = await run(payload, i);
        const mayAccept = payload.outcome !== 'refused' && sqlPaths.has(path);
        if ('refused' in verdict) {
          // A clear error: a sentence, never a stack or an internal failure.
          expect(verdict.refused.length, `${path}: ${payload.name}`).toBeGreaterThan(10);
          expect(verdict.refused).not.toMatch(/\n\s+at /);
        } else if (!mayAccept) escapes.push(`${path}: ${payload.name} (${payload.text})`);
      }
    }
    expect(escapes).toEqual([]);
  }, 600_000);

  it('runs no refused dbt_test SQL kept from before the gate, even when an administrator runs the checks', async () => {
    // Rules as main stored them (no gate on write), authored by the U steward, run as the scheduler (TS admin).
    const stored = await database.db
      .insert(qualityRules)
      .values(
        sqlPayloads.map((p, i) => ({
          assetId: ordersId,
          name: `stored ${i}`,
          type: 'dbt_test',
          config: { sql: p.text },
          dimension: 'validity',
          severity: 'warning' as const,
          origin: 'user',
          createdBy: steward.principal.id,
        })),
      )
      .returning({ id: qualityRules.id, name: qualityRules.name });
    const scheduler = { ...admin, principal: await schedulerPrincipal(database.db) };
    const results = await runChecks(scheduler, {
      assetId: ordersId,
      ruleIds: stored.map((r) => r.id),
      timeoutSeconds: 2,
    });
    expect(results).toHaveLength(sqlPayloads.length);
    const escapes = results.flatMap((r) => {
      const payload = sqlPayloads[Number(r.rule.replace('stored ', ''))]!;
      if (payload.outcome === 'refused') {
        return r.summary.startsWith('could not run') && r.failedRows === null ? [] : [`${payload.name}: ${r.summary}`];
      }
      // Contained payloads return only what is hidden, so they find nothing.
      if (payload.outcome === 'contained') return r.failedRows === 0 ? [] : [`${payload.name}: ${r.summary}`];
      // Costly payloads stop at the statement timeout or at the row cap.
      return /took longer than 2 s|^at least 1000000 failing rows/.test(r.summary)
        ? []
        : [`${payload.name}: ${r.summary}`];
    });
    expect(escapes).toEqual([]);
    // Nothing of the TS table reached the results: not its row count, not its words.
    // (Ids left out: a random UUID may hold the digits 769.)
    const told = results.map((r) => [r.failedRows, r.observed, r.summary, r.evidence.error]);
    expect(JSON.stringify(told)).not.toMatch(/\b769\b|review \d/);
  }, 300_000);

  it('runs contained payloads without reaching what is hidden: no failing rows, no preview rows', async () => {
    for (const [i, payload] of sqlPayloads.entries()) {
      if (payload.outcome !== 'contained') continue;
      const rule = (await createRule(steward, urn('shop', 'orders'), {
        name: `contained ${i}`,
        type: 'dbt_test',
        config: { sql: payload.text },
      } as never)) as { id: string };
      const [result] = await runChecks(steward, { assetId: ordersId, ruleIds: [rule.id], timeoutSeconds: 5 });
      expect(result!.failedRows, payload.name).toBe(0);
      const { id } = await call('pipelines_create', { name: `contained ${i}` });
      await call('pipelines_add_node', {
        pipeline: id,
        id: 'n',
        type: 'source_sql',
        config: { source: 'payloads', query: payload.text },
      });
      const preview = await call('pipelines_preview', { pipeline: id, node: 'n', limit: 5 });
      expect(preview.rows, payload.name).toEqual([]);
    }
  }, 120_000);

  it('words a hidden column as a missing one, on every route, and refuses both when the rule is written', async () => {
    const refusedAs = async (text: string) => {
      const verdict = await refusal(
        createRule(steward, urn('shop', 'orders'), { name: `near ${text}`, type: 'dbt_test', config: { sql: text } }),
      );
      const node = await refusal(
        call('pipelines_create', { name: `near ${text}` }).then(({ id }) =>
          call('pipelines_add_node', {
            pipeline: id,
            id: 'n',
            type: 'source_sql',
            config: { source: 'payloads', query: text },
          }),
        ),
      );
      const issue =
        'refused' in node
          ? node.refused
          : (JSON.parse(node.accepted) as { issues: { nodeId: string; message: string }[] }).issues.find(
              (x) => x.nodeId === 'n' && !x.message.includes('leads nowhere'),
            )?.message;
      return { rule: 'refused' in verdict ? verdict.refused : 'accepted', node: issue ?? 'accepted' };
    };
    const same = (a: string, b: string) => expect(a.replaceAll('nosuch', 'card')).toBe(b);
    for (const [hidden, missing] of [
      ['select o.card from shop.orders o', 'select o.nosuch from shop.orders o'],
      ['select card from shop.orders', 'select nosuch from shop.orders'],
      ['select id from shop.orders o where o.card is null', 'select id from shop.orders o where o.nosuch is null'],
    ] as const) {
      const h = await refusedAs(hidden);
      const m = await refusedAs(missing);
      expect(h.rule).toMatch(/does not exist/);
      same(m.rule.replace(`near ${missing}`, `near ${hidden}`), h.rule.replace(`near ${hidden}`, `near ${hidden}`));
      same(m.node, h.node);
    }
  }, 120_000);

  it('refuses a partitioned table with a hidden partition, naming only what the caller may see', async () => {
    const verdict = await refusal(
      createRule(steward, urn('shop', 'orders'), {
        name: 'partitioned',
        type: 'dbt_test',
        config: { sql: 'select id from shop.events' },
      }),
    );
    expect(verdict).toEqual({
      refused: expect.stringMatching(/shop\.events is partitioned and some of its partitions/),
    });
    expect(JSON.stringify(verdict)).not.toMatch(/events_old|secret/);
  });

  it('leaves a refused test that dbt reports to dbt: not run here, so the verdict dbt reported stands', async () => {
    const [rule] = await database.db
      .insert(qualityRules)
      .values({
        assetId: ordersId,
        name: 'dbt singular test over a TS table',
        type: 'dbt_test',
        config: { sql: 'select id from secret.reviews where verdict is null' },
        dimension: 'validity',
        severity: 'warning',
        origin: 'dbt',
        createdBy: steward.principal.id,
      })
      .returning({ id: qualityRules.id });
    const scheduler = { ...admin, principal: await schedulerPrincipal(database.db) };
    expect(await runChecks(scheduler, { assetId: ordersId, ruleIds: [rule!.id] })).toEqual([]);
  });

  // pg_locks is the whole server's: only this source database's advisory locks are ours to judge (other test
  // files take their own in theirs at the same time).
  it('leaves the source as it was: no large objects, files, tables, sequence steps or locks', async () => {
    const [state] = await source.unsafe(`select
      (select count(*) from pg_largeobject_metadata)::int as large_objects,
      (select count(*) from pg_tables where tablename = 'canary')::int as canaries,
      (select count(*) from shop.orders)::int as orders,
      (select last_value from shop.tickets)::int as tickets, (select is_called from shop.tickets) as ticket_called,
      (select count(*) from pg_locks where locktype = 'advisory'
        and database = (select oid from pg_database where datname = current_database()))::int as advisory_locks`);
    expect(state).toEqual({
      large_objects: 0,
      canaries: 0,
      orders: 3,
      tickets: 1,
      ticket_called: false,
      advisory_locks: 0,
    });
    expect(existsSync(canaryFile)).toBe(false);
  });
});
