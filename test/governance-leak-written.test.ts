import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDataOpsError } from '../core/errors.js';
import type { Database } from '../db/create-db.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { allTools } from '../mcp-server/registry.js';
import { errorMessage, runTool } from '../mcp-server/run-tool.js';
import { createLeakFixture, type LeakFixture, levels } from './helpers/leak-fixture.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/**
 * The leak matrix for names a caller writes (issue 12): a pipeline's destination and quarantine tables. Each
 * principal of the matrix builds, tests, runs and deploys the same pipeline twice, once into the table of an
 * asset of every marking and once into a table the catalog has never heard of (`zghost_<level>`, which
 * exists in the database): every answer must be the same but for the name, whether the caller may see the
 * asset or not. A pipeline writes only tables it created, so both are refused, and neither is touched.
 * (The names callers read, and the other names they write — lineage edges, relationships rules, access
 * requests — are in governance-leak-matrix.test.ts.)
 */
type Input = Record<string, unknown>;

interface Answer {
  code: string;
  text: string;
}

async function call(ctx: ServiceContext, name: string, input: Input): Promise<Answer> {
  const tool = allTools.find((t) => t.name === name)!;
  try {
    const output = await runTool(tool, input, ctx);
    return { code: 'ok', text: `${JSON.stringify(output)}\n${tool.render(output as never)}` };
  } catch (error) {
    return { code: isDataOpsError(error) ? error.code : 'internal', text: errorMessage(error, ctx) };
  }
}

/** One answer as compared: the table's name, times, fresh ids and durations put aside. */
const comparable = (answer: Answer, table: string) =>
  `${answer.code} ${answer.text
    // Not the columns of the `out` table the pipeline reads (`zmark_out_id`), when `zmark_out` is the one written.
    .replace(new RegExp(`${table}(?!_(id|amount)\\b)`, 'g'), '<table>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/"(ms|totalMs)":\d+/g, '"$1":<ms>')
    .replace(/\d+ ?ms\b/g, '<ms>')}`;

const row = { zmark_out_id: 1, zmark_out_amount: 5 };
const uses = ['append', 'upsert', 'replace', 'quarantine'] as const;

/**
 * What a steward does with a pipeline from the visible `out` table into `table`, with every answer:
 * build it (a destination in `mode`, or a quarantine table), test it, run it in dev, deploy it to prod and
 * run it there.
 */
async function writeInto(ctx: ServiceContext, f: LeakFixture, table: string, use: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  const step = async (name: string, input: Input) => {
    const answer = await call(ctx, name, input);
    answers.push(answer);
    return answer;
  };
  const created = await step('pipelines_create', { name: `${ctx.principal.id} ${use} into ${table}` });
  const pipeline = (JSON.parse(created.text.split('\n')[0]!) as { id: string }).id;
  const add = (input: Input) => step('pipelines_add_node', { pipeline, ...input });
  await add({ id: 'src', type: 'source_dataset', config: { urn: f.assets.out.urn } });
  let last = 'src';
  if (use === 'quarantine') {
    await add({
      id: 'checked',
      type: 'validate',
      after: 'src',
      config: {
        rules: [{ check: 'range', column: 'zmark_out_amount', max: 0 }],
        onFail: 'quarantine',
        quarantineTable: { schema: 'zns', table },
      },
    });
    last = 'checked';
  }
  const mode = use === 'quarantine' ? 'replace' : use;
  await add({
    id: 'dest',
    type: 'destination_table',
    after: last,
    // A quarantining pipeline's own output goes to a new table; its quarantine is the name under test.
    config: { schema: 'zns', table: use === 'quarantine' ? `${table}_kept` : table, mode, key: ['zmark_out_id'] },
  });
  await step('pipelines_add_test', {
    pipeline,
    name: 'rows pass through',
    inputs: { src: [row] },
    expect: { dest: use === 'quarantine' ? [] : [row] },
  });
  await step('pipelines_run', { pipeline, timeoutSeconds: 30 });
  await step('pipelines_deploy', { pipeline, environment: 'prod', runNow: true });
  await step('pipelines_run', { pipeline, environment: 'prod', timeoutSeconds: 30 });
  return answers;
}

describe('leak matrix: the tables a pipeline writes', () => {
  let database: Database;
  let fixture: LeakFixture;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDb();
    scratch = await createScratchDatabase(serverUrl, 'dataops_leak_written');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe('create schema zns');
    for (const level of levels) {
      for (const name of [`zmark_${level}`, `zghost_${level}`]) {
        await source.unsafe(`create table zns.${name} (${name}_id integer primary key, ${name}_amount numeric);
          insert into zns.${name} values (1, 5)`);
      }
    }
    fixture = await createLeakFixture(database, { connection: scratch.url });
  }, 120_000);

  afterAll(async () => {
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  it('answers for a hidden table exactly as for one the catalog does not know, and writes neither', async () => {
    const problems: string[] = [];
    let refusals = 0;
    for (const [p, principal] of fixture.principals.entries()) {
      const sees = await fixture.visibleTo(principal);
      for (const [l, level] of levels.entries()) {
        // Each principal writes each marking's table one way; over the matrix, every way meets every marking.
        const use = uses[(p + l) % uses.length]!;
        const asset = fixture.assets[level];
        const ghost = fixture.ghosts[level];
        const hidden = await writeInto(principal.ctx, fixture, asset.name, use);
        const absent = await writeInto(principal.ctx, fixture, ghost.name, use);
        const where = `${principal.key} ${use} into ${level} (${sees.has(level) ? 'visible' : 'hidden'})`;
        for (const [i, answer] of hidden.entries()) {
          const [a, b] = [comparable(answer, asset.name), comparable(absent[i]!, ghost.name)];
          if (a !== b) problems.push(`${where}, step ${i}:\n  asset: ${a.slice(0, 400)}\n  ghost: ${b.slice(0, 400)}`);
        }
        const deployed = hidden.at(-2)!;
        if (deployed.text.includes('as its') && deployed.text.includes('the table exists')) refusals++;
        for (const secret of asset.secrets.filter((s) => s !== asset.name && !sees.has(level))) {
          if (hidden.some((a) => a.text.includes(secret))) problems.push(`${where}: reveals ${secret}`);
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
    // Every prod deploy was refused as taken (what the comparison compared), and no table was written.
    expect(refusals).toBe(fixture.principals.length * levels.length);
    for (const level of levels) {
      for (const name of [`zmark_${level}`, `zghost_${level}`]) {
        const rows = await source.unsafe(`select * from zns.${name}`);
        expect(
          rows.map((r) => ({ ...r })),
          name,
        ).toEqual([{ [`${name}_id`]: 1, [`${name}_amount`]: '5' }]);
      }
    }
  }, 600_000);

  it('writes only tables it created, never a system schema, and publishes only those', async () => {
    const ts = fixture.principals.find((p) => p.key === 'ts')!.ctx;
    const ok = async (name: string, input: Input) => {
      const answer = await call(ts, name, input);
      expect(answer.code, answer.text).toBe('ok');
      return JSON.parse(answer.text.split('\n')[0]!);
    };
    const build = async (name: string, destination: Input, validate?: Input) => {
      const { id } = await ok('pipelines_create', { name });
      await ok('pipelines_add_node', {
        pipeline: id,
        id: 'src',
        type: 'source_dataset',
        config: { urn: fixture.assets.out.urn },
      });
      if (validate)
        await ok('pipelines_add_node', {
          pipeline: id,
          id: 'checked',
          type: 'validate',
          after: 'src',
          config: validate,
        });
      const saved = await ok('pipelines_add_node', {
        pipeline: id,
        id: 'dest',
        type: 'destination_table',
        after: validate ? 'checked' : 'src',
        config: { schema: 'zns', mode: 'append', ...destination },
      });
      const issues = (saved.issues as { message: string }[]).map((i) => i.message);
      if (issues.length === 0) {
        await ok('pipelines_add_test', {
          pipeline: id,
          name: 'passes',
          inputs: { src: [row] },
          expect: { dest: [row] },
        });
      }
      return { id: id as string, issues };
    };

    // Postgres's own schemas are refused while the pipeline is built, so nothing can deploy into them.
    const system = await build('into the system catalog', { schema: 'information_schema', table: 'zsneak' });
    expect(system.issues).toEqual([
      'node `dest` (destination_table): its table information_schema.zsneak is in information_schema, a schema Postgres keeps for itself (information_schema and every pg_ schema); write to a schema of your own, such as public',
    ]);
    const quarantined = await build(
      'quarantine into pg_temp',
      { table: 'zchecked' },
      {
        rules: [{ check: 'range', column: 'zmark_out_amount', max: 0 }],
        onFail: 'quarantine',
        quarantineTable: { schema: 'pg_catalog', table: 'zsneak' },
      },
    );
    expect(quarantined.issues).toEqual([
      expect.stringMatching(
        /^node `checked` \(validate\): its quarantine table is in pg_catalog, a schema Postgres keeps for itself/,
      ),
    ]);
    const refused = await call(ts, 'pipelines_deploy', { pipeline: system.id, environment: 'dev' });
    expect(refused.text).toMatch(/does not validate: .*information_schema, a schema Postgres keeps for itself/);
    const [sneaked] = await source.unsafe(
      `select to_regclass('information_schema.zsneak_dev') as a, to_regclass('pg_catalog.zsneak') as b`,
    );
    expect(sneaked).toEqual({ a: null, b: null });

    // Its own source table, in append mode: refused, its rows and its catalog entry as they were.
    const own = await build('append into what it reads', { table: 'zmark_out' });
    const deploy = await call(ts, 'pipelines_deploy', { pipeline: own.id, environment: 'prod' });
    expect(deploy.code).toBe('invalid_input');
    expect(deploy.text).toMatch(
      /node `dest` may not use zns\.zmark_out as its append table: the table exists and this pipeline did not write it/,
    );
    expect((await source.unsafe('select count(*)::int as n from zns.zmark_out'))[0]!.n).toBe(1);
    const profile = await ok('catalog_get_asset', { urn: fixture.assets.out.urn });
    expect([profile.owner, profile.tags]).toEqual(['zown_out', ['ztag_out']]);

    // A table it creates is its own: published as its product, and appended to by the runs after.
    const fresh = await build('append into a new table', { table: 'zfresh' });
    const first = await ok('pipelines_deploy', { pipeline: fresh.id, environment: 'prod' });
    expect(first.run.status, first.run.error).toBe('succeeded');
    expect(first.run.stats.published.map((p: { urn: string }) => p.urn)).toEqual([
      expect.stringMatching(/zns\.zfresh$/),
    ]);
    expect((await ok('pipelines_run', { pipeline: fresh.id, environment: 'prod' })).status).toBe('succeeded');
    expect((await source.unsafe('select count(*)::int as n from zns.zfresh'))[0]!.n).toBe(2);

    // A table made by someone else after the deploy is refused by the run itself, and left as it was.
    const later = await build('append into a table made later', { table: 'zlater' });
    await ok('pipelines_deploy', { pipeline: later.id, environment: 'prod', runNow: false });
    await source.unsafe('create table zns.zlater (zmark_out_id integer, zmark_out_amount numeric)');
    const run = await ok('pipelines_run', { pipeline: later.id, environment: 'prod' });
    expect([run.status, run.stats.failedNode]).toEqual(['failed', 'dest']);
    expect(run.error).toMatch(/^node `dest` may not use zns\.zlater as its append table: the table exists/);
    expect((await source.unsafe('select count(*)::int as n from zns.zlater'))[0]!.n).toBe(0);
  }, 300_000);
});
