import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { and, eq, isNull, sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { assets, columnLineage, columns, jobRuns, lineageEdges, lineageEvents, sources } from '../db/schema/index.js';
import { annotateAssets } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { ingestOpenLineage } from '../mcp-server/lineage/openlineage.js';
import { getLineage } from '../mcp-server/lineage/queries.js';
import { sharedData } from './helpers/source-databases.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

/** A run id as the spec wants it (a UUID), the same for the same name. */
function runUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const events = path.join(sharedData, 'openlineage/events');
const load = (file: string) => JSON.parse(readFileSync(path.join(events, file), 'utf8')) as Record<string, unknown>;
const facetExample = (file: string) =>
  JSON.parse(readFileSync(path.join(sharedData, 'openlineage/facet-examples', file), 'utf8')) as Record<
    string,
    unknown
  >;

/** Rows in every table OpenLineage ingestion may write to. */
async function counts(database: Database) {
  const [row] = await queryRows<Record<string, number>>(
    database.db,
    sql`select (select count(*) from sources)::int as sources, (select count(*) from assets)::int as assets,
      (select count(*) from columns)::int as columns, (select count(*) from lineage_edges)::int as edges,
      (select count(*) from column_lineage)::int as column_lineage,
      (select count(*) from lineage_events)::int as events, (select count(*) from job_runs)::int as runs,
      (select count(*) from activity_events)::int as activity, (select count(*) from audit_log)::int as audit,
      (select max(updated_at) from assets) as assets_updated, (select max(updated_at) from job_runs) as runs_updated`,
  );
  return row!;
}

const job = (namespace: string, name: string) => assetUrn('openlineage', namespace, 'job', name);
const dataset = (namespace: string, name: string) => assetUrn('openlineage', namespace, 'dataset', name);

async function assetByUrn(database: Database, urn: string) {
  const [row] = await database.db.select().from(assets).where(eq(assets.urn, urn));
  return row;
}

/** Current edges of one job: `from -> to` by qualified name. */
async function currentEdges(database: Database, jobUrn: string) {
  const rows = await queryRows<{ from_name: string; to_name: string }>(
    database.db,
    sql`select f.qualified_name as from_name, t.qualified_name as to_name from lineage_edges e
        join assets f on f.id = e.from_asset_id join assets t on t.id = e.to_asset_id
        where e.origin = 'openlineage' and e.valid_to is null and (f.urn = ${jobUrn} or t.urn = ${jobUrn})
        order by 1, 2`,
  );
  // Sorted here, not by the database's collation, which differs between PGlite and a server.
  return rows.map((r) => `${r.from_name} -> ${r.to_name}`).sort();
}

describe('OpenLineage ingestion', () => {
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
  });
  afterAll(() => database.close());

  it('records the full fluentd event: the job, its run, both datasets, their lineage and schema', async () => {
    const summary = await ingestOpenLineage(ctx, [load('fluentd/event_full.json')]);
    expect(summary).toMatchObject({ events: 1, accepted: 1, replayed: 0, assetsCreated: 2, runsChanged: 1 });

    const jobAsset = (await assetByUrn(database, job('my-scheduler-namespace', 'myjob.mytask')))!;
    expect(jobAsset).toMatchObject({ kind: 'job', name: 'myjob.mytask', description: 'string' });
    expect(jobAsset.definition).toBe('SELECT * FROM foo');
    expect(jobAsset.embedding).not.toBeNull();
    const [source] = await database.db.select().from(sources).where(eq(sources.id, jobAsset.sourceId!));
    expect(source).toMatchObject({ kind: 'openlineage', name: 'my-scheduler-namespace' });

    // The same dataset is read and written: one asset, an edge into the job and one out of it.
    const table = (await assetByUrn(database, dataset('my-datasource-namespace', 'instance.schema.table')))!;
    expect(table).toMatchObject({
      kind: 'table',
      namespace: 'instance.schema',
      name: 'table',
      qualifiedName: 'instance.schema.table',
      description: 'canonical representation of entity Foo',
    });
    const tableColumns = await database.db.select().from(columns).where(eq(columns.assetId, table.id));
    expect(tableColumns.map((c) => [c.name, c.dataType, c.description])).toEqual([['column1', 'VARCHAR', 'string']]);
    expect(await currentEdges(database, jobAsset.urn)).toEqual([
      'instance.schema.table -> myjob.mytask',
      'myjob.mytask -> instance.schema.table',
    ]);

    const [run] = await database.db.select().from(jobRuns).where(eq(jobRuns.jobAssetId, jobAsset.id));
    expect(run).toMatchObject({ runId: 'ea041791-68bc-4ae1-bd89-4c8106a157e4', state: 'COMPLETE', startedAt: null });
    expect(run!.endedAt!.toISOString()).toBe('2020-12-28T19:51:01.641Z');
    expect(Object.keys(run!.facets)).toEqual(expect.arrayContaining(['nominalTime', 'parent', 'additionalProp1']));

    // The payload keeps every facet, data-quality assertions included, for the quality work.
    const [stored] = await database.db.select().from(lineageEvents).where(eq(lineageEvents.jobAssetId, jobAsset.id));
    const input = (stored!.payload.inputs as { inputFacets: Record<string, { assertions?: unknown[] }> }[])[0]!;
    expect(input.inputFacets.dataQualityAssertions!.assertions).toHaveLength(2);
  });

  it('accepts an eventTime without a time zone as UTC (the Python client sends them)', async () => {
    const summary = await ingestOpenLineage(ctx, [
      load('python-client/serde_example_run_event.json'),
      load('python-client/serde_example_job_event.json'),
      load('python-client/serde_example_dataset_event.json'),
    ]);
    expect(summary).toMatchObject({ events: 3, accepted: 3 });
    const stored = await database.db
      .select({ category: lineageEvents.category, eventTime: lineageEvents.eventTime })
      .from(lineageEvents)
      .where(eq(lineageEvents.producer, 'https://github.com/OpenLineage/OpenLineage/tree/0.0.1/client/python'));
    expect(stored.map((e) => [e.category, e.eventTime.toISOString()]).sort()).toEqual([
      ['dataset', '2021-11-03T10:53:52.427Z'],
      ['job', '2021-11-03T10:53:52.427Z'],
      ['run', '2021-11-03T10:53:52.427Z'],
    ]);
    // A JobEvent's datasets are the job's lineage; the DatasetEvent describes a dataset in the same namespace.
    expect(await currentEdges(database, job('openlineage', 'name'))).toEqual([
      'dataset_a -> name',
      'name -> dataset_b',
    ]);
    const described = (await assetByUrn(database, dataset('openlineage', 'name')))!;
    const described_columns = await database.db.select().from(columns).where(eq(columns.assetId, described.id));
    expect(described_columns.map((c) => `${c.name}:${c.dataType}`).sort()).toEqual(['a:string', 'b:string']);
    // The job and the dataset share a namespace and a name, but not an asset.
    expect((await assetByUrn(database, job('openlineage', 'name')))!.kind).toBe('job');
  });

  it.each([
    ['fluentd/event_no_run_id.json', /run\.runId is required/],
    ['fluentd/event_invalid_run_facet.json', /run\.facets\.parent\.run\.runId is required/],
    ['fluentd/event_invalid_job_facet.json', /job\.facets\.ownership\.owners\[0\]\.name is required/],
    ['fluentd/event_invalid_dataset_facet.json', /outputs\[0\]\.facets\.ownership\.owners\[0\]\.name is required/],
    ['fluentd/event_invalid_input_dataset_facet.json', /inputs\[0\]\.inputFacets\.dataQualityMetrics needs/],
    [
      'fluentd/event_invalid_output_dataset_facet.json',
      /outputs\[0\]\.outputFacets\.outputStatistics\.rowCount must be an integer/,
    ],
  ])('refuses %s, naming the field, and writes nothing', async (file, reason) => {
    const before = await counts(database);
    const refused = ingestOpenLineage(ctx, [load(file)]);
    await expect(refused).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(reason) });
    expect(await counts(database)).toEqual(before);
  });

  it('refuses a whole batch when one event in it is invalid, saying which', async () => {
    const before = await counts(database);
    const batch = [load('fluentd/event_simple.json'), load('fluentd/event_no_run_id.json')];
    await expect(ingestOpenLineage(ctx, batch)).rejects.toThrow(/^event 2: invalid OpenLineage event: run\.runId/);
    expect(await counts(database)).toEqual(before);
  });

  it('changes nothing when the same events are replayed: no rows, no activity, no edge churn', async () => {
    const files = ['fluentd/event_full.json', 'fluentd-docker/test-start.json', 'fluentd-docker/test-complete.json'];
    await ingestOpenLineage(ctx, files.map(load));
    const before = await counts(database);
    const again = await ingestOpenLineage(ctx, files.map(load));
    expect(again).toMatchObject({ accepted: 0, replayed: 3, edgesOpened: 0, edgesClosed: 0, runsChanged: 0 });
    // Key order does not make an event new.
    const reordered = Object.fromEntries(Object.entries(load('fluentd/event_simple.json')).reverse());
    await ingestOpenLineage(ctx, [load('fluentd/event_simple.json')]);
    const afterSimple = await counts(database);
    expect(await ingestOpenLineage(ctx, [reordered])).toMatchObject({ replayed: 1 });
    expect(await counts(database)).toEqual(afterSimple);
    expect(before.events).toBe(afterSimple.events! - 1);
  });

  it('follows a run from START to COMPLETE and does not reopen it on a late START', async () => {
    const jobAsset = (await assetByUrn(database, job('my-namespace', 'my-job')))!;
    const [run] = await database.db.select().from(jobRuns).where(eq(jobRuns.jobAssetId, jobAsset.id));
    expect(run).toMatchObject({ runId: 'd46e465b-d358-4d32-83d4-df660ff614dd', state: 'COMPLETE' });
    expect(run!.startedAt!.toISOString()).toBe('2019-05-09T19:49:24.201Z');
    expect(run!.endedAt!.toISOString()).toBe('2019-05-09T19:50:24.201Z');
    expect(await currentEdges(database, jobAsset.urn)).toEqual(['my-input -> my-job', 'my-job -> my-output']);

    const lateStart = { ...load('fluentd-docker/test-start.json'), eventTime: '2019-05-09T19:51:00Z' };
    await ingestOpenLineage(ctx, [lateStart]);
    const [after] = await database.db.select().from(jobRuns).where(eq(jobRuns.jobAssetId, jobAsset.id));
    expect(after!.state).toBe('COMPLETE');
  });

  it('keeps inputs seen earlier in a run, and lets a completed run drop what the job no longer reads', async () => {
    const ns = 'accumulate';
    const runEvent = (runId: string, eventType: string, time: string, inputs: string[], outputs: string[]) => ({
      eventType,
      eventTime: time,
      run: { runId: runUuid(runId) },
      job: { namespace: ns, name: 'load' },
      inputs: inputs.map((name) => ({ namespace: ns, name })),
      outputs: outputs.map((name) => ({ namespace: ns, name })),
      producer: 'test',
    });
    const jobUrn = job(ns, 'load');
    await ingestOpenLineage(ctx, [runEvent('r1', 'START', '2024-01-01T00:00:00Z', ['a', 'b'], [])]);
    await ingestOpenLineage(ctx, [runEvent('r1', 'COMPLETE', '2024-01-01T00:10:00Z', [], ['out'])]);
    expect(await currentEdges(database, jobUrn)).toEqual(['a -> load', 'b -> load', 'load -> out']);

    // A second run that has started but not finished only adds.
    const midRun = await ingestOpenLineage(ctx, [runEvent('r2', 'START', '2024-01-02T00:00:00Z', ['c'], [])]);
    expect(midRun).toMatchObject({ edgesOpened: 1, edgesClosed: 0 });
    expect(await currentEdges(database, jobUrn)).toEqual(['a -> load', 'b -> load', 'c -> load', 'load -> out']);

    // When it completes, its datasets are the job's lineage: a and b are closed, not deleted.
    const done = await ingestOpenLineage(ctx, [runEvent('r2', 'COMPLETE', '2024-01-02T00:10:00Z', ['b'], ['out'])]);
    expect(done).toMatchObject({ edgesOpened: 0, edgesClosed: 1 });
    expect(await currentEdges(database, jobUrn)).toEqual(['b -> load', 'c -> load', 'load -> out']);
    const a = (await assetByUrn(database, dataset(ns, 'a')))!;
    const closed = await database.db.select().from(lineageEdges).where(eq(lineageEdges.fromAssetId, a.id));
    expect(closed).toHaveLength(1);
    expect(closed[0]!.validTo).not.toBeNull();

    // A failed run never takes lineage away.
    await ingestOpenLineage(ctx, [runEvent('r3', 'FAIL', '2024-01-03T00:00:00Z', ['d'], [])]);
    expect(await currentEdges(database, jobUrn)).toEqual(['b -> load', 'c -> load', 'd -> load', 'load -> out']);
  });

  it('keeps what an earlier event said about the job when a later one leaves the facet out', async () => {
    const start = {
      ...load('fluentd-docker/test-start.json'),
      run: { runId: runUuid('facets-1') },
      job: {
        namespace: 'facets',
        name: 'etl',
        facets: {
          jobType: { processingType: 'BATCH', integration: 'AIRFLOW', jobType: 'TASK' },
          documentation: { description: 'Nightly load of the warehouse' },
        },
      },
    };
    const complete = {
      ...load('fluentd-docker/test-complete.json'),
      run: { runId: runUuid('facets-1') },
      job: { namespace: 'facets', name: 'etl' },
    };
    await ingestOpenLineage(ctx, [start]);
    const before = (await assetByUrn(database, job('facets', 'etl')))!;
    await ingestOpenLineage(ctx, [complete]);
    const after = (await assetByUrn(database, job('facets', 'etl')))!;
    expect(after.description).toBe('Nightly load of the warehouse');
    expect(after.properties.openlineage).toMatchObject({ integration: 'AIRFLOW', jobType: 'TASK' });
    expect(after.updatedAt).toEqual(before.updatedAt);
  });

  it('turns the ColumnLineageDatasetFacet examples into column lineage on the job-to-output edge', async () => {
    const withFacet = (name: string, facets: Record<string, unknown>) => ({
      eventType: 'COMPLETE',
      eventTime: '2024-02-01T00:00:00Z',
      run: { runId: runUuid(`run-${name}`) },
      job: { namespace: 'columns', name },
      inputs: [],
      outputs: [{ namespace: 'columns', name: `${name}_out`, facets }],
      producer: 'test',
    });
    await ingestOpenLineage(ctx, [
      withFacet('snowflake', facetExample('ColumnLineageDatasetFacet-1.json')),
      withFacet('spark', facetExample('ColumnLineageDatasetFacet-2.json')),
    ]);
    const rows = async (jobName: string) =>
      queryRows<{
        from_asset: string;
        from_column: string;
        to_column: string | null;
        type: string;
        subtype: string;
        sql: string | null;
      }>(
        database.db,
        sql`select f.qualified_name as from_asset, c.from_column, c.to_column, c.transformation_type as type,
              c.transformation_subtype as subtype, c.sql
            from column_lineage c join lineage_edges e on e.id = c.edge_id join assets j on j.id = e.from_asset_id
            join assets f on f.id = c.from_asset_id
            where j.urn = ${job('columns', jobName)} and e.valid_to is null
            order by c.to_column nulls last, f.qualified_name, c.from_column`,
      );
    const snowflake = await rows('snowflake');
    expect(snowflake).toHaveLength(12);
    expect(snowflake.filter((r) => r.to_column === 'NAME')).toEqual([
      {
        from_asset: 'CUSTOMERS',
        from_column: 'ID',
        to_column: 'NAME',
        type: 'INDIRECT',
        subtype: 'JOIN',
        sql: 'ON (DISCOUNTS.CUSTOMERS_ID=CUSTOMERS.ID)',
      },
      {
        from_asset: 'CUSTOMERS',
        from_column: 'NAME',
        to_column: 'NAME',
        type: 'DIRECT',
        subtype: 'IDENTITY',
        sql: null,
      },
      {
        from_asset: 'DISCOUNTS',
        from_column: 'CUSTOMERS_ID',
        to_column: 'NAME',
        type: 'INDIRECT',
        subtype: 'JOIN',
        sql: 'ON (DISCOUNTS.CUSTOMERS_ID=CUSTOMERS.ID)',
      },
    ]);
    // The datasets the facet names are inputs of the job even though the event listed none.
    expect(await currentEdges(database, job('columns', 'snowflake'))).toEqual([
      'CUSTOMERS -> snowflake',
      'DISCOUNTS -> snowflake',
      'snowflake -> snowflake_out',
    ]);

    const spark = await rows('spark');
    expect(spark.find((r) => r.to_column === 'ageNextYear')).toMatchObject({
      from_asset: '/iceberg_warehouse/some-database/people',
      from_column: 'age',
      type: 'DIRECT',
      subtype: 'TRANSFORMATION',
    });
    expect(spark.find((r) => r.to_column === 'firstName')).toMatchObject({
      from_column: 'first_name',
      subtype: 'IDENTITY',
    });
    // The facet's `dataset` list affects the whole output: no target column.
    expect(spark.filter((r) => r.to_column === null).map((r) => `${r.from_column}:${r.type}:${r.subtype}`)).toEqual([
      'age:INDIRECT:FILTER',
      'first_name:INDIRECT:SORT',
      'last_name:INDIRECT:SORT',
    ]);
    const people = (await assetByUrn(
      database,
      dataset('s3://test-bucket', '/iceberg_warehouse/some-database/people'),
    ))!;
    expect(people).toMatchObject({ kind: 'file', name: 'people', namespace: '/iceberg_warehouse/some-database' });
  });

  it('traces columns that only the columnLineage facet names, on the output and on the inputs it reads', async () => {
    // The Spark example as a producer sends it: a schema facet that lists some columns, and column lineage
    // for more (ageNextYear is computed; the input `people` comes with no schema at all).
    const spark = facetExample('ColumnLineageDatasetFacet-2.json');
    await ingestOpenLineage(ctx, [
      {
        eventType: 'COMPLETE',
        eventTime: '2024-02-03T00:00:00Z',
        run: { runId: '0b8f2a1e-0000-4000-8000-00000000c01a' },
        job: { namespace: 'columns', name: 'lineage_only' },
        inputs: [],
        outputs: [
          {
            namespace: 'columns',
            name: 'people_next_year',
            facets: { ...spark, schema: { fields: [{ name: 'id', type: 'long' }] } },
          },
        ],
        producer: 'test',
      },
    ]);
    const output = dataset('columns', 'people_next_year');
    const people = dataset('s3://test-bucket', '/iceberg_warehouse/some-database/people');
    const columnsOf = async (urn: string) =>
      (
        await database.db
          .select({ name: columns.name, type: columns.dataType })
          .from(columns)
          .innerJoin(assets, eq(assets.id, columns.assetId))
          .where(eq(assets.urn, urn))
      )
        .map((c) => `${c.name}:${c.type}`)
        .sort();
    expect(await columnsOf(output)).toEqual([
      'ageNextYear:unknown',
      'firstName:unknown',
      'id:long',
      'lastName:unknown',
    ]);
    expect(await columnsOf(people)).toEqual(
      expect.arrayContaining(['age:unknown', 'first_name:unknown', 'id:unknown', 'last_name:unknown']),
    );

    const upstream = await getLineage(ctx, { urn: output, column: 'ageNextYear', direction: 'upstream', depth: 2 });
    const intoOutput = upstream.edges.flatMap((e) => e.data.columns).filter((c) => c.to === 'ageNextYear');
    expect(intoOutput).toEqual([
      { from: 'age', to: 'ageNextYear', transformationType: 'DIRECT', transformationSubtype: 'TRANSFORMATION' },
    ]);
    expect(upstream.nodes.map((n) => n.id)).toContain(people);

    const downstream = await getLineage(ctx, { urn: people, column: 'first_name', direction: 'downstream', depth: 2 });
    expect(downstream.nodes.map((n) => n.id)).toContain(output);
    expect(downstream.edges.flatMap((e) => e.data.columns).map((c) => `${c.from}→${c.to ?? '*'}`)).toEqual(
      expect.arrayContaining(['first_name→firstName']),
    );
  });

  it('reads the older per-field transformationType when an input field has no transformations', async () => {
    await ingestOpenLineage(ctx, [
      {
        eventType: 'COMPLETE',
        eventTime: '2024-02-02T00:00:00Z',
        run: { runId: runUuid('legacy-1') },
        job: { namespace: 'columns', name: 'legacy' },
        outputs: [
          {
            namespace: 'columns',
            name: 'masked_out',
            facets: {
              columnLineage: {
                fields: {
                  email_hash: {
                    inputFields: [{ namespace: 'columns', name: 'users', field: 'email' }],
                    transformationType: 'MASKED',
                    transformationDescription: 'sha256(email)',
                  },
                  id: {
                    inputFields: [{ namespace: 'columns', name: 'users', field: 'id' }],
                    transformationType: 'IDENTITY',
                  },
                },
              },
            },
          },
        ],
        producer: 'test',
      },
    ]);
    const rows = await database.db
      .select({
        from: columnLineage.fromColumn,
        to: columnLineage.toColumn,
        type: columnLineage.transformationType,
        subtype: columnLineage.transformationSubtype,
        sql: columnLineage.sql,
      })
      .from(columnLineage)
      .innerJoin(lineageEdges, eq(lineageEdges.id, columnLineage.edgeId))
      .innerJoin(assets, eq(assets.id, lineageEdges.fromAssetId))
      .where(and(eq(assets.urn, job('columns', 'legacy')), isNull(lineageEdges.validTo)));
    expect(rows.sort((a, b) => a.from.localeCompare(b.from))).toEqual([
      { from: 'email', to: 'email_hash', type: 'DIRECT', subtype: 'TRANSFORMATION', sql: 'sha256(email)' },
      { from: 'id', to: 'id', type: 'DIRECT', subtype: 'IDENTITY', sql: null },
    ]);
  });

  it('lets only stewards, owners and admins record lineage', async () => {
    const viewer = await contextAs(database, {
      id: 'ol-viewer',
      displayName: 'Viewer',
      clearance: 'U',
      roles: ['viewer'],
    });
    await expect(ingestOpenLineage(viewer, [load('fluentd/event_simple.json')])).rejects.toMatchObject({
      code: 'forbidden',
    });
    const steward = await contextAs(database, {
      id: 'ol-steward',
      displayName: 'Steward',
      clearance: 'U',
      roles: ['steward'],
    });
    const event = { ...load('fluentd/event_simple.json'), eventTime: '2021-01-01T00:00:00Z' };
    await expect(ingestOpenLineage(steward, [event])).resolves.toMatchObject({ accepted: 1 });
  });
});

describe('OpenLineage datasets of a database the catalog already reads', () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_src_ol');
    const source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(`
      create table public.orders (id int primary key, customer text, amount numeric);
      comment on column public.orders.id is 'Order number';
      create schema mart;
      create table mart.daily_revenue (day date, revenue numeric)`);
    await source.end();
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'shop' }).discover());
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('maps postgres://host:port + database.schema.table onto the ingested asset instead of duplicating it', async () => {
    const assetsBefore = await database.db.select({ id: assets.id }).from(assets);
    const summary = await ingestOpenLineage(ctx, [
      {
        eventType: 'COMPLETE',
        eventTime: '2024-03-01T00:00:00Z',
        run: { runId: '0b8f2a1e-0000-4000-8000-000000000001' },
        job: { namespace: 'airflow', name: 'revenue.daily' },
        // localhost is the same server as the source's 127.0.0.1.
        inputs: [
          {
            namespace: 'postgres://localhost:5432',
            name: `${scratch.name}.public.orders`,
            facets: {
              schema: {
                fields: [
                  { name: 'id', type: 'INTEGER', description: 'Replaced? No: the database says it' },
                  { name: 'customer', type: 'TEXT', description: 'Who ordered' },
                  { name: 'not_in_db', type: 'TEXT' },
                ],
              },
              documentation: { description: 'Orders as the warehouse receives them' },
            },
          },
        ],
        outputs: [{ namespace: 'postgres://127.0.0.1:5432', name: `${scratch.name}.mart.daily_revenue` }],
        producer: 'test',
      },
    ]);
    // Only the job is new.
    expect(summary.assetsCreated).toBe(1);
    expect((await database.db.select({ id: assets.id }).from(assets)).length).toBe(assetsBefore.length + 1);
    expect(await currentEdges(database, job('airflow', 'revenue.daily'))).toEqual([
      'public.orders -> revenue.daily',
      'revenue.daily -> mart.daily_revenue',
    ]);

    // The connector's columns stay; only what it did not know is filled in.
    const orders = (await assetByUrn(database, assetUrn('postgres', 'shop', 'public', 'orders')))!;
    expect(orders.description).toBe('Orders as the warehouse receives them');
    const orderColumns = await database.db.select().from(columns).where(eq(columns.assetId, orders.id));
    expect(orderColumns.map((c) => [c.name, c.dataType, c.description]).sort()).toEqual([
      ['amount', 'numeric', null],
      ['customer', 'text', 'Who ordered'],
      ['id', 'integer', 'Order number'],
    ]);

    // Re-syncing the source keeps the lineage and the filled-in column description.
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'shop' }).discover());
    expect(await currentEdges(database, job('airflow', 'revenue.daily'))).toHaveLength(2);
  });

  it('never maps a dataset onto an asset the poster may not see, so the reply cannot reveal it', async () => {
    await annotateAssets(ctx, [{ urn: assetUrn('postgres', 'shop', 'public', 'orders'), classification: 'TS' }]);
    const steward = await contextAs(database, {
      id: 'ol-u-steward',
      displayName: 'Steward',
      clearance: 'U',
      roles: ['steward'],
    });
    const event = (runId: string) => ({
      eventType: 'COMPLETE',
      eventTime: '2024-03-02T00:00:00Z',
      run: { runId: runUuid(runId) },
      job: { namespace: 'airflow', name: 'orders.audit' },
      inputs: [{ namespace: 'postgres://127.0.0.1:5432', name: `${scratch.name}.public.orders` }],
      producer: 'test',
    });
    const summary = await ingestOpenLineage(steward, [event('hidden-1')]);
    // As if the table were not in the catalog: it becomes an OpenLineage dataset.
    expect(summary.assetsCreated).toBe(2);
    expect(await currentEdges(database, job('airflow', 'orders.audit'))).toEqual([
      `${scratch.name}.public.orders -> orders.audit`,
    ]);
    // Someone cleared for it gets the real asset.
    await ingestOpenLineage(ctx, [event('hidden-2')]);
    const edges = await currentEdges(database, job('airflow', 'orders.audit'));
    expect(edges).toContain('public.orders -> orders.audit');
  });
});

describe('OpenLineage datasets of a MySQL database the catalog already reads', () => {
  const name = `dataops_ol_${randomBytes(4).toString('hex')}`;
  let database: Database;
  let ctx: ServiceContext;
  let maria: mysql.Connection;

  beforeAll(async () => {
    maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
    await maria.query(
      `create database ${name}; create table ${name}.invoices (id int primary key, total decimal(10,2))`,
    );
    database = await createTestDb();
    ctx = await createTestContext(database);
    await syncSource(
      ctx,
      await createMysqlConnector({ url: `mysql://root@127.0.0.1:3306/${name}`, name: 'erp' }).discover(),
    );
  });
  afterAll(async () => {
    await maria.query(`drop database ${name}`);
    await maria.end();
    await database.close();
  });

  it('maps mysql://host:port + database.table onto the ingested table', async () => {
    const summary = await ingestOpenLineage(ctx, [
      {
        eventType: 'COMPLETE',
        eventTime: '2024-04-01T00:00:00Z',
        run: { runId: runUuid('mysql-1') },
        job: { namespace: 'spark', name: 'export_invoices' },
        inputs: [{ namespace: 'mysql://127.0.0.1:3306', name: `${name}.invoices` }],
        outputs: [{ namespace: 's3://exports', name: '/invoices.parquet' }],
        producer: 'test',
      },
    ]);
    expect(summary.assetsCreated).toBe(2);
    expect(await currentEdges(database, job('spark', 'export_invoices'))).toEqual([
      `${name}.invoices -> export_invoices`,
      'export_invoices -> /invoices.parquet',
    ]);
    const invoices = (await assetByUrn(database, assetUrn('mysql', 'erp', name, 'invoices')))!;
    expect(invoices.kind).toBe('table');
  });
});

describe("OpenLineage events from dbt's integration, for a warehouse the catalog reads", () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_src_oldbt');
    const source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(`
      create table raw_customers (id int, first_name text, last_name text);
      create table raw_orders (id int, user_id int, order_date date, status text);
      create table raw_payments (id int, order_id int, payment_method text, amount int);
      create view stg_customers as select id as customer_id, first_name, last_name from raw_customers;
      create view stg_orders as select id as order_id, user_id as customer_id, order_date, status from raw_orders;
      create view stg_payments as select id as payment_id, order_id, payment_method, amount / 100 as amount from raw_payments;
      create table customers (customer_id int, first_name text, last_name text, number_of_orders bigint);
      create table orders (order_id int, customer_id int, status text, amount int)`);
    await source.end();
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'jaffle' }).discover());
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('records the jobs and their runs, and finds every dataset among the ingested tables and views', async () => {
    const template = readFileSync(
      path.join(sharedData, 'dbt/jaffle_shop-postgres-dbt1.3-v7/expected_openlineage_events.template.json'),
      'utf8',
    );
    // The template leaves run ids to the test and names a placeholder server and the `postgres` database.
    type Dataset = { name: string };
    const events = (
      JSON.parse(template.replaceAll('POSTGRES_HOST:1234', '127.0.0.1:5432')) as {
        run: { runId: string };
        job: { name: string };
        inputs: Dataset[];
        outputs: Dataset[];
      }[]
    ).map((event) => {
      for (const d of [...event.inputs, ...event.outputs]) d.name = d.name.replace(/^postgres\./, `${scratch.name}.`);
      event.run.runId = runUuid(`run-of-${event.job.name}`);
      return event;
    });
    const assetsBefore = (await database.db.select({ id: assets.id }).from(assets)).length;
    const summary = await ingestOpenLineage(ctx, events);
    expect(summary).toMatchObject({ events: 10, accepted: 10, assetsCreated: 5 });
    expect((await database.db.select({ id: assets.id }).from(assets)).length).toBe(assetsBefore + 5);

    const customersJob = job('job-namespace', 'postgres.public.jaffle_shop.customers');
    expect(await currentEdges(database, customersJob)).toEqual([
      'postgres.public.jaffle_shop.customers -> public.customers',
      'public.stg_customers -> postgres.public.jaffle_shop.customers',
      'public.stg_orders -> postgres.public.jaffle_shop.customers',
      'public.stg_payments -> postgres.public.jaffle_shop.customers',
    ]);
    const jobAsset = (await assetByUrn(database, customersJob))!;
    // dbt 1.3 compiled no SQL for customers; orders carries its query in the sql facet.
    expect(jobAsset.definition).toBeNull();
    const ordersJob = (await assetByUrn(database, job('job-namespace', 'postgres.public.jaffle_shop.orders')))!;
    expect(ordersJob.definition).toMatch(/^\s*with orders as/);
    const [run] = await database.db.select().from(jobRuns).where(eq(jobRuns.jobAssetId, jobAsset.id));
    expect(run!.state).toBe('COMPLETE');
    expect(run!.startedAt).not.toBeNull();
    expect(run!.endedAt!.getTime()).toBeGreaterThan(run!.startedAt!.getTime());
    // The schema facet does not add columns to a table the connector reads.
    const customers = (await assetByUrn(database, assetUrn('postgres', 'jaffle', 'public', 'customers')))!;
    const names = await database.db
      .select({ name: columns.name })
      .from(columns)
      .where(eq(columns.assetId, customers.id));
    expect(names.map((c) => c.name).sort()).toEqual(['customer_id', 'first_name', 'last_name', 'number_of_orders']);
  });
});
