import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { and, desc, eq } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import {
  assets,
  columns,
  profiles,
  qualityResults,
  qualityRules,
  qualityScores,
  qualitySlas,
  sources,
} from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { profileAsset, profileSource } from '../mcp-server/quality/profile.js';
import type { ColumnProfile } from '../mcp-server/quality/profile-stats.js';
import { scoreAsset } from '../mcp-server/quality/score.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/** What a person computing the shape of a value by hand gets: A upper, a lower, 9 digit. */
function shapeOf(value: string): string {
  return value.slice(0, 40).replace(/[0-9]/g, '9').replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A');
}

describe('profiling pushed down to the source', () => {
  let database: Database;
  let ctx: ServiceContext;
  let pagila: postgres.Sql;
  let northwind: postgres.Sql;
  let big: Awaited<ReturnType<typeof createScratchDatabase>>;
  let bigSql: postgres.Sql;
  const mariaName = `dataops_profile_${randomBytes(4).toString('hex')}`;
  let maria: mysql.Connection;

  const assetId = async (qualifiedName: string, source: string) => {
    const [row] = await ctx.db
      .select({ id: assets.id })
      .from(assets)
      .innerJoin(sources, eq(sources.id, assets.sourceId))
      .where(and(eq(assets.qualifiedName, qualifiedName), eq(sources.name, source)));
    return row!.id;
  };
  const latest = async (id: string) => {
    const [row] = await ctx.db.select().from(profiles).where(eq(profiles.assetId, id));
    return { rowCount: row!.rowCount, stats: row!.columnStats as unknown as Record<string, ColumnProfile>, row: row! };
  };

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    pagila = postgres(inject('pagilaUrl'), { max: 1, onnotice: () => {} });
    northwind = postgres(inject('northwindUrl'), { max: 1, onnotice: () => {} });
    for (const [name, url] of [
      ['pagila', inject('pagilaUrl')],
      ['northwind', inject('northwindUrl')],
    ] as const) {
      await syncSource(ctx, await createPostgresConnector({ url, name }).discover(), { connection: url });
    }
    big = await createScratchDatabase(serverUrl, 'dataops_src_profile');
    bigSql = postgres(big.url, { max: 1, onnotice: () => {} });
    // 400k rows: more than the 100k a profile reads in full, so distinct values and quantiles are sampled.
    await bigSql.unsafe(`create table readings as
      select g as id, (g % 5000) as sensor, (hashtext(g::text) % 1000)::float8 / 10 as value
      from generate_series(1, 400000) g;
      alter table readings add primary key (id); analyze readings`);
    await syncSource(ctx, await createPostgresConnector({ url: big.url, name: 'sensors' }).discover(), {
      connection: big.url,
    });
    maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
    await maria.query(`create database ${mariaName}; use ${mariaName};
      create table depots (id int primary key, name varchar(40), code varchar(10), capacity decimal(10,2),
        active tinyint(1), opened date, tier enum('gold','silver'), photo blob);
      insert into depots values
        (1, 'Anniston', 'AN-01', 1200.50, 1, '1941-08-01', 'gold', x'89504e47'),
        (2, 'Tobyhanna', 'TY-02', 800.25, 1, '1953-03-02', 'silver', null),
        (3, 'Red River', 'rr-3', null, 0, null, 'gold', null),
        (4, 'Letterkenny', 'LK-04', 450, null, '1942-05-01', null, x'ffd8'),
        (5, 'Sierra', 'SI-05', 950, 1, '1942-06-11', 'gold', null);`);
    const url = `mysql://root@127.0.0.1:3306/${mariaName}`;
    await syncSource(ctx, await createMysqlConnector({ url, name: 'depots' }).discover(), { connection: url });
  });
  afterAll(async () => {
    await pagila?.end();
    await northwind?.end();
    await bigSql?.end();
    await big?.drop();
    await maria?.query(`drop database if exists ${mariaName}`);
    await maria?.end();
    await database?.close();
  });

  it('profiles every table and view of Pagila through one connection, naming the one it cannot read', async () => {
    const result = await profileSource(
      ctx,
      (await ctx.db.select().from(sources).where(eq(sources.name, 'pagila')))[0]!.id,
    );
    // Pagila ships one materialized view that was never refreshed: it has no rows to read, and says so.
    expect(result.failed).toEqual([
      {
        urn: 'urn:dataops:postgres:pagila:public.nicer_but_slower_film_list',
        message: 'materialized view "nicer_but_slower_film_list" has not been populated',
      },
    ]);
    const expected = await pagila<{ n: number }[]>`select count(*)::int as n from pg_class c join pg_namespace n
      on n.oid = c.relnamespace where n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg_toast%' and c.relkind in ('r', 'p', 'v', 'm')`;
    expect(result.profiled.length).toBe(expected[0]!.n - 1);
    for (const p of result.profiled.filter((p) => /public\.(film|rental|payment)$/.test(p.urn))) {
      const table = p.urn.split('.').pop()!;
      const [row] = await pagila.unsafe(`select count(*)::int as n from ${table}`);
      expect(p.rowCount).toBe(row!.n);
    }
  });

  it('matches independent SQL on Pagila numbers, text, enums, booleans and skipped types', async () => {
    const film = await latest(await assetId('public.film', 'pagila'));
    const [f] = await pagila`select count(distinct rental_rate)::int as d, avg(rental_rate)::float8 as mean,
      stddev_samp(rental_rate)::float8 as sd, min(length)::int as min, max(length)::int as max,
      percentile_cont(array[0.01, 0.25, 0.5, 0.75, 0.99]) within group (order by length) as q,
      min(char_length(title))::int as lmin, max(char_length(title))::int as lmax, avg(char_length(title))::float8 as lavg,
      count(*) filter (where special_features is null)::int as sfnull, count(*)::int as n from film`;
    const rate = film.stats.rental_rate!;
    expect(rate.kind).toBe('number');
    expect(rate.distinct).toEqual({ value: f!.d, exact: true, method: 'exact' });
    expect(rate.mean).toBeCloseTo(f!.mean, 9);
    expect(rate.stddev).toBeCloseTo(f!.sd, 9);
    const length = film.stats.length!;
    expect([length.min, length.max]).toEqual([f!.min, f!.max]);
    expect([
      length.quantiles!.p01,
      length.quantiles!.p25,
      length.quantiles!.p50,
      length.quantiles!.p75,
      length.quantiles!.p99,
    ]).toEqual((f!.q as number[]).map(Number));
    expect(film.stats.title!.length).toEqual({ min: f!.lmin, max: f!.lmax, mean: expect.closeTo(f!.lavg, 9) });
    expect(film.stats.title!.distinct!.value).toBe(f!.n);

    const ratings = await pagila<{ v: string; c: number }[]>`select rating::text as v, count(*)::int as c from film
      group by rating order by count(*) desc, rating::text`;
    expect(film.stats.rating!.kind).toBe('other');
    expect(film.stats.rating!.topValues!.map((t) => [t.value, t.count])).toEqual(ratings.map((r) => [r.v, r.c]));
    expect(film.stats.rating!.topValues![0]!.share).toBeCloseTo(ratings[0]!.c / f!.n, 12);

    expect(film.stats.special_features).toMatchObject({ kind: 'skipped', nulls: f!.sfnull });
    expect(film.stats.fulltext!.kind).toBe('skipped');
    expect(film.stats.fulltext!.topValues).toBeUndefined();

    const customer = await latest(await assetId('public.customer', 'pagila'));
    const [c] = await pagila`select count(*) filter (where activebool)::int as t, count(*)::int as n from customer`;
    expect(customer.stats.activebool).toMatchObject({ kind: 'boolean', trueCount: c!.t, nulls: 0 });
    expect(customer.stats.create_date!.kind).toBe('temporal');
  });

  it('finds the same value patterns as shaping every value by hand (Northwind phone numbers)', async () => {
    await profileSource(ctx, (await ctx.db.select().from(sources).where(eq(sources.name, 'northwind')))[0]!.id);
    const customers = await latest(await assetId('public.customers', 'northwind'));
    const phones = await northwind<{ phone: string | null }[]>`select phone from customers`;
    const counts = new Map<string, number>();
    const present = phones.filter((p) => p.phone !== null);
    for (const p of present) counts.set(shapeOf(p.phone!), (counts.get(shapeOf(p.phone!)) ?? 0) + 1);
    const expected = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 5)
      .map(([pattern, n]) => ({ pattern, share: n / present.length }));
    expect(customers.stats.phone!.patterns).toEqual(expected);
    const [n] =
      await northwind`select count(*)::int as n, count(*) filter (where region is null)::int as nulls from customers`;
    expect(customers.stats.region!.nullRate).toBeCloseTo(n!.nulls / n!.n, 12);
  });

  it('samples a large table and states the error of what it estimates', async () => {
    const id = await assetId('public.readings', 'sensors');
    await profileAsset(ctx, id);
    const { rowCount, stats, row } = await latest(id);
    expect(rowCount).toBe(400_000);
    expect(row.details).toMatchObject({ sample: { method: 'system' } });
    const [truth] = await bigSql`select avg(value) as mean,
      min(value) as min, max(value) as max from readings`;
    // Full-scan statistics stay exact on a sampled table.
    expect(stats.value!.mean).toBeCloseTo(truth!.mean, 9);
    expect([stats.value!.min, stats.value!.max]).toEqual([truth!.min, truth!.max]);
    const distinct = stats.sensor!.distinct!;
    expect(distinct.exact).toBe(false);
    expect(distinct.method).toBe('duj1');
    expect(distinct.bounds![0]).toBeLessThanOrEqual(5000);
    expect(distinct.bounds![1]).toBeGreaterThanOrEqual(5000);
    expect(Math.abs(distinct.value - 5000) / 5000).toBeLessThan(0.1);
    expect(stats.id!.distinct!.value).toBe(400_000);
    // The sampled median's rank is within the stated rank error of one half.
    const [rank] = await bigSql`select avg((value <= ${stats.value!.quantiles!.p50!})::int)::float8 as r from readings`;
    expect(Math.abs(rank!.r - 0.5)).toBeLessThanOrEqual(stats.value!.quantileRankError!);
  });

  it('above the exact-moments limit, takes min, max and mean from the sample too, with their error', async () => {
    const id = await assetId('public.readings', 'sensors');
    await profileAsset(ctx, id, { sampleRows: 30_000, exactRows: 100_000 });
    const [run] = await ctx.db
      .select()
      .from(profiles)
      .where(eq(profiles.assetId, id))
      .orderBy(desc(profiles.profiledAt))
      .limit(1);
    const stats = run!.columnStats as unknown as Record<string, ColumnProfile>;
    expect(run!.rowCount).toBe(400_000);
    expect(run!.details).toMatchObject({ exactMoments: false, sample: { method: 'system' } });
    const [truth] = await bigSql`select avg(value) as mean, min(value) as min, max(value) as max,
      count(*) filter (where value is null)::int as nulls from readings`;
    const value = stats.value!;
    expect(value.nulls).toBe(truth!.nulls);
    expect(value.estimated).toEqual(expect.arrayContaining(['min', 'max', 'mean', 'stddev', 'distinct', 'quantiles']));
    expect(Math.abs(value.mean! - truth!.mean)).toBeLessThanOrEqual(4 * value.meanStandardError!);
    // A sampled min and max are values the column holds, so the true ones lie at least as far out.
    expect(value.min as number).toBeGreaterThanOrEqual(truth!.min);
    expect(value.max as number).toBeLessThanOrEqual(truth!.max);
  });

  it('profiles a MariaDB table with the same meaning as on Postgres', async () => {
    const id = await assetId(`${mariaName}.depots`, 'depots');
    await profileAsset(ctx, id);
    const { rowCount, stats } = await latest(id);
    const [[truth]] = (await maria.query(`select count(*) n, avg(capacity) mean, stddev_samp(capacity) sd,
      count(distinct code) d, avg(char_length(name)) lavg from ${mariaName}.depots`)) as unknown as [
      Record<string, number | string>[],
    ];
    expect(rowCount).toBe(Number(truth!.n));
    expect(stats.capacity).toMatchObject({ kind: 'number', nulls: 1, min: 450, max: 1200.5 });
    expect(stats.capacity!.mean).toBeCloseTo(Number(truth!.mean), 9);
    expect(stats.capacity!.stddev).toBeCloseTo(Number(truth!.sd), 9);
    // percentile_cont over 450, 800.25, 950, 1200.5: the median interpolates the middle two.
    expect(stats.capacity!.quantiles!.p50).toBeCloseTo((800.25 + 950) / 2, 9);
    expect(stats.active).toMatchObject({ kind: 'boolean', trueCount: 3, nulls: 1 });
    expect(stats.opened).toMatchObject({ kind: 'temporal', min: '1941-08-01', max: '1953-03-02', nulls: 1 });
    expect(stats.tier!.topValues).toEqual([
      { value: 'gold', count: 3, share: 0.75 },
      { value: 'silver', count: 1, share: 0.25 },
    ]);
    expect(stats.code!.distinct!.value).toBe(Number(truth!.d));
    // Case matters in a shape even under a case-insensitive collation.
    expect(stats.code!.patterns).toEqual([
      { pattern: 'AA-99', share: 0.8 },
      { pattern: 'aa-9', share: 0.2 },
    ]);
    expect(stats.name!.length!.mean).toBeCloseTo(Number(truth!.lavg), 4);
    // Binary values get a null count only (MariaDB's JSON is a longtext, profiled as text).
    expect(stats.photo).toMatchObject({ kind: 'skipped', nulls: 3 });
  });

  describe('the score', () => {
    const round1 = (n: number) => Math.round(n * 10) / 10;
    const urnOf = async (id: string) =>
      (await ctx.db.select({ urn: assets.urn }).from(assets).where(eq(assets.id, id)))[0]!.urn;
    let admin: Client;
    beforeAll(async () => {
      admin = await connectMcpClient(ctx);
    });
    afterAll(async () => {
      await admin?.close();
    });

    /** Completeness as the README states it, from null counts and NOT NULL flags read straight from the source. */
    async function expectedCompleteness(table: string): Promise<number> {
      const cols = await pagila<{ name: string; required: boolean }[]>`select a.attname as name,
          a.attnotnull or exists (select 1 from pg_index i where i.indrelid = a.attrelid and i.indisprimary
            and a.attnum = any(i.indkey)) as required
        from pg_attribute a where a.attrelid = ${`public.${table}`}::regclass and a.attnum > 0 and not a.attisdropped`;
      const [counts] = await pagila.unsafe(
        `select count(*)::int as n, ${cols.map((c, i) => `count("${c.name}")::int as c${i}`).join(', ')} from public.${table}`,
      );
      let weighted = 0;
      let weights = 0;
      cols.forEach((c, i) => {
        const w = c.required ? 3 : 1;
        weighted += w * (counts![`c${i}`] / counts!.n);
        weights += w;
      });
      return round1((100 * weighted) / weights);
    }

    it('scores completeness from the profile and uniqueness from the primary key, other dimensions null', async () => {
      const id = await assetId('public.film', 'pagila');
      const completeness = await expectedCompleteness('film');
      expect(completeness).toBeLessThan(100); // original_language_id is never set
      const result = await admin.callTool({ name: 'quality_get', arguments: { urn: await urnOf(id) } });
      const report = result.structuredContent as {
        score: number;
        dimensions: Record<string, { score: number | null; note?: string; keys?: unknown[] }>;
      };
      expect(report.dimensions.completeness!.score).toBe(completeness);
      expect(report.dimensions.uniqueness!.score).toBe(100);
      expect(report.dimensions.uniqueness!.keys).toEqual([{ column: 'film_id', nonNull: 1000, distinct: 1000 }]);
      for (const d of ['validity', 'consistency', 'timeliness', 'accuracy'])
        expect(report.dimensions[d]!.score).toBeNull();
      expect(report.dimensions.timeliness!.note).toMatch(/no SLA freshness target/);
      expect(report.score).toBe(round1((25 * completeness + 15 * 100) / 40));
    });

    it('weighs rule results by rows, scores freshness against the SLA, and keeps search and the asset page in step', async () => {
      const id = await assetId('public.address', 'pagila');
      const rule = async (
        name: string,
        type: string,
        dimension: string,
        checkedRows: number | null,
        failedRows: number | null,
      ) => {
        const [r] = await ctx.db
          .insert(qualityRules)
          .values({ assetId: id, name, type, dimension, columnName: type === 'schema' ? null : 'phone' })
          .returning({ id: qualityRules.id });
        await ctx.db.insert(qualityResults).values({
          ruleId: r!.id,
          assetId: id,
          passed: (failedRows ?? 1) === 0,
          checkedRows,
          failedRows,
        });
      };
      await rule('phone digits', 'invalid', 'validity', 1000, 100);
      await rule('phone length', 'invalid', 'validity', 3000, 0);
      await rule('required columns', 'schema', 'consistency', null, null);
      await ctx.db.insert(qualitySlas).values({ assetId: id, freshnessHours: 24, updatedBy: 'admin' });
      await ctx.db
        .update(assets)
        .set({ lastModified: new Date(Date.now() - 36 * 3_600_000) })
        .where(eq(assets.id, id));
      const before = (await ctx.db.select({ q: assets.qualityScore }).from(assets).where(eq(assets.id, id)))[0]!.q;

      const scored = await scoreAsset(ctx, id);
      const completeness = await expectedCompleteness('address');
      // validity: (900 + 3000) / 4000 passing rows; consistency: a failed table-level check speaks for every row;
      // timeliness: 36 hours against 24 is half way from the target to twice the target.
      const expected = {
        completeness,
        validity: 97.5,
        consistency: 0,
        uniqueness: 100,
        timeliness: 50,
        accuracy: null,
      };
      expect(scored!.dimensions).toEqual(expected);
      const overall = round1((25 * completeness + 25 * 97.5 + 15 * 0 + 15 * 100 + 10 * 50) / 90);
      expect(scored!.overall).toBe(overall);

      const result = await admin.callTool({ name: 'quality_get', arguments: { urn: await urnOf(id) } });
      const report = result.structuredContent as {
        score: number;
        change: number;
        trend: { overall: number }[];
        dimensions: Record<
          string,
          { rules?: { rule: string; passedRows: number; checkedRows: number }[]; sla?: unknown }
        >;
      };
      expect(report.score).toBe(overall);
      expect(report.trend.map((t) => t.overall).slice(-2)).toEqual([before, overall]);
      expect(report.change).toBe(round1(overall - before!));
      expect(report.dimensions.validity!.rules!.map((r) => [r.rule, r.passedRows, r.checkedRows]).sort()).toEqual([
        ['phone digits', 900, 1000],
        ['phone length', 3000, 3000],
      ]);
      expect(report.dimensions.timeliness!.sla).toEqual({ freshnessHours: 24, hoursSinceChange: 36, score: 50 });

      const page = await admin.callTool({ name: 'catalog_get_asset', arguments: { urn: await urnOf(id) } });
      expect((page.structuredContent as { quality: { score: number } }).quality.score).toBeCloseTo(overall, 4);
      const search = await admin.callTool({
        name: 'catalog_search',
        arguments: { query: 'address', source: 'pagila' },
      });
      const urn = await urnOf(id);
      const hit = (search.structuredContent as { hits: { urn: string; qualityScore: number }[] }).hits.find(
        (h) => h.urn === urn,
      );
      expect(hit!.qualityScore).toBeCloseTo(overall, 4);
      expect((search.content as { text: string }[])[0]!.text).toContain(`quality ${overall}/100`);
      expect((page.content as { text: string }[])[0]!.text).toContain(`Quality: ${overall}/100`);
    });

    it('hides evidence about columns above the caller clearance, and hidden assets entirely', async () => {
      const filmId = await assetId('public.film', 'pagila');
      const viewerCtx = await contextAs(database, { id: 'una', displayName: 'Una', clearance: 'U', roles: ['viewer'] });
      await ctx.db
        .update(columns)
        .set({ classification: 'C' })
        .where(and(eq(columns.assetId, filmId), eq(columns.name, 'length')));
      const viewer = await connectMcpClient(viewerCtx);
      try {
        const result = await viewer.callTool({ name: 'quality_get', arguments: { urn: await urnOf(filmId) } });
        const report = result.structuredContent as {
          score: number;
          dimensions: { completeness: { columns: { column: string }[] } };
        };
        expect(report.score).toBeGreaterThan(0);
        const shown = report.dimensions.completeness.columns.map((c) => c.column);
        expect(shown).toContain('title');
        expect(shown).not.toContain('length');
        await ctx.db.update(assets).set({ classification: 'C' }).where(eq(assets.id, filmId));
        const hidden = await viewer.callTool({ name: 'quality_get', arguments: { urn: await urnOf(filmId) } });
        expect(hidden.isError).toBe(true);
        expect(JSON.stringify(hidden.content)).toMatch(/no asset/);
      } finally {
        await viewer.close();
        await ctx.db.update(assets).set({ classification: 'U' }).where(eq(assets.id, filmId));
        await ctx.db
          .update(columns)
          .set({ classification: null })
          .where(and(eq(columns.assetId, filmId), eq(columns.name, 'length')));
      }
    });
  });

  describe('through MCP, as people with less clearance', () => {
    let viewer: Client;
    let steward: Client;
    const filmUrn = async () =>
      (
        await ctx.db
          .select({ urn: assets.urn })
          .from(assets)
          .where(eq(assets.id, await assetId('public.film', 'pagila')))
      )[0]!.urn;

    beforeAll(async () => {
      const filmId = await assetId('public.film', 'pagila');
      await ctx.db
        .update(columns)
        .set({ classification: 'S' })
        .where(and(eq(columns.assetId, filmId), eq(columns.name, 'replacement_cost')));
      await ctx.db
        .update(columns)
        .set({ sensitivity: 'pii' })
        .where(and(eq(columns.assetId, filmId), eq(columns.name, 'rental_rate')));
      await ctx.db
        .update(columns)
        .set({ sensitivity: 'pii' })
        .where(and(eq(columns.assetId, await assetId('public.customer', 'pagila')), eq(columns.name, 'email')));
      await ctx.db
        .update(assets)
        .set({ classification: 'S' })
        .where(eq(assets.id, await assetId('public.payment', 'pagila')));
      viewer = await connectMcpClient(
        await contextAs(database, { id: 'ana', displayName: 'Ana', clearance: 'C', roles: ['viewer'] }),
      );
      steward = await connectMcpClient(
        await contextAs(database, { id: 'sam', displayName: 'Sam', clearance: 'C', roles: ['steward'] }),
      );
    });
    afterAll(async () => {
      await viewer?.close();
      await steward?.close();
    });

    it('leaves out columns above the caller clearance and masks the values of personal data', async () => {
      const result = await viewer.callTool({ name: 'quality_profile', arguments: { urn: await filmUrn() } });
      expect(result.isError).toBeFalsy();
      type Shown = ColumnProfile & { name: string; masked?: string; withheld?: string[] };
      const profile = (result.structuredContent as { profile: { columns: Shown[] } }).profile;
      const names = profile.columns.map((c) => c.name);
      expect(names).toContain('title');
      expect(names).not.toContain('replacement_cost');
      expect(JSON.stringify(result)).not.toContain('replacement_cost');
      // A PII column of no known kind: its values are redacted, its quantiles left out, its counts kept.
      const rate = profile.columns.find((c) => c.name === 'rental_rate')!;
      expect(rate).toMatchObject({ masked: 'redacted', min: '[redacted]', max: '[redacted]', withheld: ['quantiles'] });
      expect(rate.quantiles).toBeUndefined();
      expect(new Set(rate.topValues!.map((t) => t.value))).toEqual(new Set(['[redacted]']));
      expect(rate.nullRate).toBe(0);
      expect(rate.distinct!.value).toBe(3);

      const customerUrn = (
        await ctx.db
          .select({ urn: assets.urn })
          .from(assets)
          .where(eq(assets.id, await assetId('public.customer', 'pagila')))
      )[0]!.urn;
      const emails = new Set((await pagila<{ email: string }[]>`select email from customer`).map((r) => r.email));
      const shownTo = async (client: Client) =>
        (
          (await client.callTool({ name: 'quality_profile', arguments: { urn: customerUrn } })).structuredContent as {
            profile: { columns: Shown[] };
          }
        ).profile.columns.find((c) => c.name === 'email')!;
      // Emails are partly shown to a viewer (as in sample rows), in full to a steward.
      const masked = await shownTo(viewer);
      expect(masked.masked).toBe('partial');
      for (const t of masked.topValues!) {
        expect(emails.has(t.value)).toBe(false);
        expect(t.value).toMatch(/\*\*\*@/);
      }
      expect(emails.has(masked.min as string)).toBe(false);
      const clear = await shownTo(steward);
      expect(clear.masked).toBeUndefined();
      expect(clear.topValues!.every((t) => emails.has(t.value))).toBe(true);
    });

    it('answers "not found" for an asset above the caller clearance, and needs a steward to profile now', async () => {
      const [payment] = await ctx.db
        .select({ urn: assets.urn })
        .from(assets)
        .where(eq(assets.id, await assetId('public.payment', 'pagila')));
      const hidden = await viewer.callTool({ name: 'quality_profile', arguments: { urn: payment!.urn } });
      expect(hidden.isError).toBe(true);
      expect(JSON.stringify(hidden.content)).toMatch(/no asset/);
      const refused = await viewer.callTool({
        name: 'quality_profile',
        arguments: { urn: await filmUrn(), refresh: true },
      });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toMatch(/steward or owner/);
      const before = await ctx.db
        .select()
        .from(profiles)
        .where(eq(profiles.assetId, await assetId('public.film', 'pagila')));
      const refreshed = await steward.callTool({
        name: 'quality_profile',
        arguments: { urn: await filmUrn(), refresh: true },
      });
      expect(refreshed.isError).toBeFalsy();
      const after = await ctx.db
        .select()
        .from(profiles)
        .where(eq(profiles.assetId, await assetId('public.film', 'pagila')));
      expect(after.length).toBe(before.length + 1);
      const text = (refreshed.content as { text: string }[])[0]!.text;
      expect(text).toMatch(/public\.film: 1000 rows/);
    });

    it('says a never-profiled asset has no profile yet', async () => {
      const [view] = await ctx.db
        .select({ urn: assets.urn })
        .from(assets)
        .innerJoin(sources, eq(sources.id, assets.sourceId))
        .where(and(eq(sources.name, 'northwind'), eq(assets.name, 'orders')));
      await ctx.db.delete(profiles).where(eq(profiles.assetId, await assetId('public.orders', 'northwind')));
      const result = await viewer.callTool({ name: 'quality_profile', arguments: { urn: view!.urn } });
      expect(result.structuredContent).toMatchObject({ profile: null, note: expect.stringMatching(/refresh: true/) });
    });

    it('says an asset that was never scored has no score, rather than a perfect one', async () => {
      const id = await assetId('public.territories', 'northwind');
      await ctx.db.delete(qualityScores).where(eq(qualityScores.assetId, id));
      const [row] = await ctx.db.select({ urn: assets.urn }).from(assets).where(eq(assets.id, id));
      const result = await viewer.callTool({ name: 'quality_get', arguments: { urn: row!.urn } });
      const report = result.structuredContent as {
        score: number | null;
        dimensions: Record<string, { score: number | null }>;
      };
      expect(report.score).toBeNull();
      expect(Object.values(report.dimensions).map((d) => d.score)).toEqual([null, null, null, null, null, null]);
      expect((result.content as { text: string }[])[0]!.text).toMatch(/not scored yet/);
    });
  });
});
