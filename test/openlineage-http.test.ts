import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../channels/http/app.js';
import { loopbackHosts } from '../channels/http/host-check.js';
import { type Database, queryRows } from '../db/create-db.js';
import { createApiToken, localAdminId, upsertPrincipal } from '../mcp-server/governance/principals.js';
import { sharedData } from './helpers/source-databases.js';
import { createTestContext, testRuntimeSource } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const event = (file: string) => readFileSync(path.join(sharedData, 'openlineage/events', file), 'utf8');
const url = 'http://127.0.0.1:8787/api/v1/lineage';

describe('POST /api/v1/lineage (the path Marquez serves)', () => {
  let database: Database;
  let stewardToken: string;
  let viewerToken: string;
  const app = (auth: 'local' | 'required') =>
    createApp({
      runtime: testRuntimeSource(database),
      auth,
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
    });
  const post = (body: string, token?: string, auth: 'local' | 'required' = 'required') =>
    app(auth).request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
  const stored = async () =>
    (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from lineage_events`))[0]!.n;

  beforeAll(async () => {
    database = await createTestDb();
    await createTestContext(database);
    await upsertPrincipal(database.db, { id: 'airflow', displayName: 'Airflow', clearance: 'U', roles: ['steward'] });
    await upsertPrincipal(database.db, { id: 'reader', displayName: 'Reader', clearance: 'U', roles: ['viewer'] });
    stewardToken = await createApiToken(database.db, 'airflow', 'openlineage');
    viewerToken = await createApiToken(database.db, 'reader', 'test');
  });
  afterAll(() => database.close());

  it('answers 201 to a producer with a steward token, and 201 again to a replay that changes nothing', async () => {
    const res = await post(event('fluentd/event_simple.json'), stewardToken);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ accepted: 1, replayed: 0, assetsCreated: 4, edgesOpened: 3 });
    const again = await post(event('fluentd/event_simple.json'), stewardToken);
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ accepted: 0, replayed: 1, assetsCreated: 0, edgesOpened: 0 });
    expect(await stored()).toBe(1);
  });

  it('accepts the Python client event whose eventTime has no time zone', async () => {
    const res = await post(event('python-client/serde_example_run_event.json'), stewardToken);
    expect(res.status).toBe(201);
    const [row] = await queryRows<{ t: string }>(
      database.db,
      sql`select to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as t from lineage_events
          where run_id = '69f4acab-b87d-4fc0-b27b-8ea950370ff3'`,
    );
    expect(row!.t).toBe('2021-11-03T10:53:52.427');
  });

  it('answers 400 with the reason, naming the field, and records nothing', async () => {
    const before = await stored();
    const noRunId = await post(event('fluentd/event_no_run_id.json'), stewardToken);
    expect(noRunId.status).toBe(400);
    expect(await noRunId.json()).toEqual({
      error: {
        code: 'invalid_input',
        message: 'invalid OpenLineage event: run.runId is required: a RunEvent must say which run it reports on',
      },
    });
    const badFacet = await post(event('fluentd/event_invalid_dataset_facet.json'), stewardToken);
    expect(badFacet.status).toBe(400);
    expect(((await badFacet.json()) as { error: { message: string } }).error.message).toBe(
      'invalid OpenLineage event: outputs[0].facets.ownership.owners[0].name is required',
    );
    const notJson = await post('{"eventType": "START", ', stewardToken);
    expect(notJson.status).toBe(400);
    expect(await stored()).toBe(before);
  });

  it('answers 401 without a token, 403 to a viewer, and lets the loopback user in on a local server', async () => {
    const anonymous = await post(event('fluentd-docker/test-start.json'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const viewer = await post(event('fluentd-docker/test-start.json'), viewerToken);
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { message: string } }).error.message).toMatch(
      /reader may not record lineage: it needs the steward or owner role/,
    );
    const local = await post(event('fluentd-docker/test-start.json'), undefined, 'local');
    expect(local.status).toBe(201);
  });

  it('refuses a body that is not JSON by content type, before reading it', async () => {
    const res = await app('required').request(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${stewardToken}` },
      body: event('fluentd-docker/test-complete.json'),
    });
    expect(res.status).toBe(415);
  });
});
