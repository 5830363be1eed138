import { readFileSync } from 'node:fs';
import path from 'node:path';
import { desc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../channels/http/app.js';
import { loopbackHosts } from '../channels/http/host-check.js';
import type { Database } from '../db/create-db.js';
import { auditLog } from '../db/schema/index.js';
import { catalogSearch } from '../mcp-server/catalog/tools.js';
import { localAdminId } from '../mcp-server/governance/principals.js';
import { runTool } from '../mcp-server/run-tool.js';
import { sharedData } from './helpers/source-databases.js';
import { createTestContext, testRuntimeSource } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const origin = 'http://127.0.0.1:8787';
const event = (file: string) => readFileSync(path.join(sharedData, 'openlineage/events', file), 'utf8');
const deep = (levels: number) => `{"query":${'['.repeat(levels)}${']'.repeat(levels)}}`;

describe('bad input over HTTP', () => {
  let database: Database;
  const app = () =>
    createApp({
      runtime: testRuntimeSource(database),
      auth: 'local',
      localPrincipal: localAdminId,
      allowedHosts: loopbackHosts,
    });
  const post = (pathname: string, body: string, type = 'application/json') =>
    app().request(`${origin}${pathname}`, { method: 'POST', headers: { 'content-type': type }, body });
  const error = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
  const lastAudit = async () => (await database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1))[0]!;

  beforeAll(async () => {
    database = await createTestDb();
    await createTestContext(database);
  });
  afterAll(() => database.close());

  it('answers 400 to JSON nested 100,000 levels deep on /api/tools, and audits the refused call', async () => {
    const res = await post('/api/tools/catalog_search', deep(100_000));
    expect(res.status).toBe(400);
    expect(await error(res)).toEqual({
      code: 'invalid_input',
      message:
        'the request body (a JSON object of tool arguments) nests arrays and objects deeper than 200 levels ' +
        '(at line 1, column 209): send flatter JSON',
    });
    expect(await lastAudit()).toMatchObject({
      actorId: localAdminId,
      action: 'tool.catalog_search',
      details: { outcome: 'invalid_input' },
    });
  });

  it('answers 400 to deep JSON on /api/v1/lineage, and audits the refused post', async () => {
    const res = await post('/api/v1/lineage', deep(100_000));
    expect(res.status).toBe(400);
    expect((await error(res)).message).toMatch(/^the request body nests arrays and objects deeper than 200 levels/);
    expect(await lastAudit()).toMatchObject({
      action: 'lineage.ingest',
      details: { origin: 'openlineage', outcome: 'invalid_input' },
    });
  });

  it('refuses deep arguments from any surface (MCP too) before validating them, and audits the call', async () => {
    const ctx = await createTestContext(database);
    const args = JSON.parse(deep(50_000)) as unknown;
    await expect(runTool(catalogSearch, args, ctx)).rejects.toThrow(
      'invalid arguments for catalog_search: nested deeper than 200 levels of arrays and objects',
    );
    expect(await lastAudit()).toMatchObject({ action: 'tool.catalog_search', details: { outcome: 'invalid_input' } });
  });

  it('points at the line and column where the JSON breaks', async () => {
    const tools = await post('/api/tools/catalog_search', '{\n  "query": "film",\n  "limit" 3\n}');
    expect(tools.status).toBe(400);
    expect((await error(tools)).message).toBe(
      "the request body (a JSON object of tool arguments) is not valid JSON: line 3, column 11: expected ':' after the property name",
    );
    expect(await lastAudit()).toMatchObject({ action: 'tool.catalog_search', details: { outcome: 'invalid_input' } });
    const lineage = await post('/api/v1/lineage', event('fluentd/event_simple.json').replace('"job":', '"job"'));
    expect(lineage.status).toBe(400);
    expect((await error(lineage)).message).toMatch(
      /^the request body is not valid JSON: line \d+, column \d+: expected ':' after the property name$/,
    );
  });

  it('accepts NDJSON by its content type, and says how to send it when it comes as application/json', async () => {
    const lines = ['fluentd-docker/test-start.json', 'fluentd-docker/test-complete.json']
      .map((f) => JSON.stringify(JSON.parse(event(f))))
      .join('\n');
    const asJson = await post('/api/v1/lineage', lines);
    expect(asJson.status).toBe(400);
    expect((await error(asJson)).message).toMatch(
      /line 2, column 1: unexpected text after the end of the JSON value \(for one event per line, send Content-Type: application\/x-ndjson\)$/,
    );
    const res = await post('/api/v1/lineage', `${lines}\n`, 'application/x-ndjson');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ events: 2, accepted: 2 });
    const broken = await post('/api/v1/lineage', `${lines}\n{"eventType": "START",}`, 'application/x-ndjson');
    expect(broken.status).toBe(400);
    expect((await error(broken)).message).toBe(
      'the request body is not valid JSON: line 3, column 23: expected a property name in double quotes',
    );
  });

  it('refuses a RunEvent without a run, or whose runId is not a UUID, and creates nothing', async () => {
    const start = JSON.parse(event('fluentd-docker/test-start.json')) as Record<string, unknown>;
    const noRun: Record<string, unknown> = { ...start, job: { namespace: 'bad-input', name: 'no-run' } };
    delete noRun.run;
    const res = await post('/api/v1/lineage', JSON.stringify(noRun));
    expect(res.status).toBe(400);
    expect((await error(res)).message).toBe(
      'invalid OpenLineage event: run.runId is required: a RunEvent must say which run it reports on',
    );
    const notUuid = await post(
      '/api/v1/lineage',
      JSON.stringify({ ...start, run: { runId: 'run-1' }, job: { namespace: 'bad-input', name: 'no-uuid' } }),
    );
    expect(notUuid.status).toBe(400);
    expect((await error(notUuid)).message).toBe(
      'invalid OpenLineage event: run.runId must be a UUID such as 0193a8b0-0000-7000-8000-000000000001, not "run-1"',
    );
    const search = await post('/api/tools/catalog_search', JSON.stringify({ query: 'no-run no-uuid' }));
    const hits = ((await search.json()) as { hits: { name: string }[] }).hits.map((h) => h.name);
    expect(hits).not.toContain('no-run');
    expect(hits).not.toContain('no-uuid');
  });
});
