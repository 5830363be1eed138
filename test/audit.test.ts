import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../channels/http/app.js';
import { createDb, type Database, queryRows } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { catalogSearch } from '../mcp-server/catalog/tools.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { readAuditLog, verifyAuditChain } from '../mcp-server/governance/audit.js';
import { catalogGetAsset } from '../mcp-server/read-models/asset-profile-tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { runCli } from './helpers/run-cli.js';
import { contextAs, createTestContext, testRuntimeSource } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('audit of every tool call', () => {
  let database: Database;
  let admin: ServiceContext;
  let analyst: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    await syncSource(admin, warehouseSnapshot());
    await defineDomains(admin, [{ id: 'personnel', name: 'Personnel', restricted: true }]);
    await annotateAssets(admin, [
      { urn: urn('procurement', 'contracts'), classification: 'U' },
      { urn: urn('personnel', 'service_members'), domain: 'personnel', classification: 'C' },
      { urn: urn('intel', 'collection_requirements'), classification: 'TS' },
    ]);
    analyst = await contextAs(database, { id: 'analyst', displayName: 'Ana', clearance: 'U', roles: ['viewer'] });
  });
  afterAll(() => database.close());

  /** The newest audit row, straight from the table (not through the code under test). */
  async function lastEntry() {
    const [row] = await queryRows<Record<string, unknown>>(
      database.db,
      sql`select actor_id, action, target_urn, details from audit_log order by seq desc limit 1`,
    );
    return row;
  }

  it('records a call in process with the principal, tool, target, argument digest and outcome', async () => {
    await runTool(catalogGetAsset, { urn: urn('procurement', 'contracts'), columnLimit: 5 }, analyst);
    expect(await lastEntry()).toEqual({
      actor_id: 'analyst',
      action: 'tool.catalog_get_asset',
      target_urn: urn('procurement', 'contracts'),
      details: {
        // Canonical JSON: keys sorted, no spaces.
        argsDigest: sha256(`{"columnLimit":5,"urn":"${urn('procurement', 'contracts')}"}`),
        outcome: 'ok',
      },
    });
  });

  it('records refused calls with their error code: a hidden asset is not_found, bad input invalid_input', async () => {
    const hidden = urn('intel', 'collection_requirements');
    await expect(runTool(catalogGetAsset, { urn: hidden }, analyst)).rejects.toMatchObject({ code: 'not_found' });
    expect(await lastEntry()).toMatchObject({
      actor_id: 'analyst',
      action: 'tool.catalog_get_asset',
      target_urn: hidden,
      details: { outcome: 'not_found' },
    });
    await expect(runTool(catalogSearch, { query: 'x', limit: -1 }, analyst)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/^invalid arguments for catalog_search: limit: /),
    });
    expect(await lastEntry()).toMatchObject({
      action: 'tool.catalog_search',
      target_urn: null,
      details: { argsDigest: sha256('{"limit":-1,"query":"x"}'), outcome: 'invalid_input' },
    });
  });

  it('records calls over MCP, including arguments the server rejects', async () => {
    const client = await connectMcpClient(analyst);
    const ok = await client.callTool({ name: 'catalog_search', arguments: { query: 'contracts' } });
    expect(ok.isError).toBeFalsy();
    expect(await lastEntry()).toMatchObject({
      action: 'tool.catalog_search',
      details: { argsDigest: sha256('{"query":"contracts"}'), outcome: 'ok' },
    });
    const rejected = await client.callTool({ name: 'catalog_search', arguments: { query: 'x', sort: 'name' } });
    expect(rejected.isError).toBe(true);
    expect(JSON.stringify(rejected.content)).toMatch(/sort/);
    expect(await lastEntry()).toMatchObject({ action: 'tool.catalog_search', details: { outcome: 'invalid_input' } });
    await client.close();
  });

  it('records calls through the JSON API', async () => {
    const app = createApp({
      runtime: testRuntimeSource(database),
      auth: 'local',
      localPrincipal: 'analyst',
      allowedHosts: ['localhost'],
    });
    const response = await app.request('http://localhost/api/tools/catalog_get_asset', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ urn: urn('personnel', 'service_members') }),
    });
    expect(response.status).toBe(404);
    expect(await lastEntry()).toMatchObject({
      actor_id: 'analyst',
      action: 'tool.catalog_get_asset',
      target_urn: urn('personnel', 'service_members'),
      details: { outcome: 'not_found' },
    });
  });

  it('refuses text holding a NUL character with a clear error instead of a database failure', async () => {
    await expect(runTool(catalogSearch, { query: 'a\u0000b' }, analyst)).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'invalid arguments for catalog_search: query contains a NUL character',
    });
  });

  it('shows the log to admins only, without entries about assets the reader may not see', async () => {
    await expect(readAuditLog(analyst, { limit: 10 })).rejects.toMatchObject({ code: 'forbidden' });
    const hidden = urn('personnel', 'service_members');
    // The local admin is TS-cleared but not a member of the restricted personnel domain.
    const seen = await readAuditLog(admin, { limit: 1000 });
    expect(seen.length).toBeGreaterThan(5);
    expect(JSON.stringify(seen)).not.toContain(hidden);
    const member = await contextAs(database, {
      id: 'auditor',
      displayName: 'Auditor',
      clearance: 'TS',
      roles: ['admin'],
      domains: ['personnel'],
    });
    const aboutIt = await readAuditLog(member, { assetUrn: hidden, limit: 10 });
    expect(aboutIt.map((e) => [e.actor, e.action, e.details.outcome])).toEqual([
      ['analyst', 'tool.catalog_get_asset', 'not_found'],
      ['admin', 'asset.annotate', undefined],
    ]);
    expect(await verifyAuditChain(database.db)).toBeNull();
  });

  it('cuts the columns marked above the reader’s clearance out of the entries it shows', async () => {
    const contracts = urn('procurement', 'contracts');
    await annotateAssets(admin, [{ urn: contracts, columns: { contracting_officer: { classification: 'S' } } }]);
    const [asSeenByTs] = await readAuditLog(admin, { assetUrn: contracts, limit: 1 });
    expect(asSeenByTs!.details).toMatchObject({ columns: { contracting_officer: { classification: 'S' } } });
    const confidentialAdmin = await contextAs(database, {
      id: 'c-admin',
      displayName: 'C-cleared admin',
      clearance: 'C',
      roles: ['admin'],
    });
    const [asSeenByC] = await readAuditLog(confidentialAdmin, { assetUrn: contracts, limit: 1 });
    expect(asSeenByC).toMatchObject({ action: 'asset.annotate', details: { columns: {} } });
    expect(JSON.stringify(asSeenByC)).not.toContain('contracting_officer');
  });
});

/** A catalog for the CLI: an embedded directory, or a scratch database when the suite runs on a server. */
async function catalogTarget(): Promise<{ db: string; open: () => Promise<Database>; cleanup: () => Promise<void> }> {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_audit');
    return { db: scratch.url, open: () => createDb({ target: scratch.url }), cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-audit-'));
  return {
    db: dir,
    // The CLI keeps the embedded catalog in a folder of its own inside --db.
    open: () => createDb({ target: path.join(dir, 'catalog') }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('dataops audit', () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;
  beforeAll(async () => {
    target = await catalogTarget();
  });
  afterAll(() => target.cleanup());

  it('verifies an intact chain, lists entries, and detects a tampered row by its sequence number', async () => {
    const cli = (...args: string[]) => runCli(['--db', target.db, ...args]);
    expect((await cli('principal', 'add', 'ana', '--name', 'Ana', '--clearance', 'U')).code).toBe(0);
    expect((await cli('--as', 'ana', 'search', 'anything')).code).toBe(0);
    expect((await cli('search', 'contracts')).code).toBe(0);

    const intact = await cli('audit', 'verify');
    expect(intact.stdout).toBe('audit log intact: 3 entries verified\n');
    expect(intact.code).toBe(0);

    const log = await cli('--json', 'audit', 'log', '--limit', '2');
    expect(JSON.parse(log.stdout)).toMatchObject([
      { seq: 3, actor: 'admin', action: 'tool.catalog_search', details: { outcome: 'ok' } },
      { seq: 2, actor: 'ana', action: 'tool.catalog_search', details: { outcome: 'ok' } },
    ]);
    const refused = await cli('--as', 'ana', 'audit', 'log');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^dataops: ana may not read the audit log: it needs the admin role/);

    // An insider with superuser rights switches the append-only trigger off and rewrites who searched.
    const database = await target.open();
    try {
      await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
      await database.db.execute(sql`update audit_log set actor_id = 'admin' where seq = 2`);
      await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    } finally {
      await database.close();
    }
    const tampered = await cli('audit', 'verify');
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^audit log altered: entry 2 does not match the hash chain/);
    const json = await cli('--json', 'audit', 'verify');
    expect(JSON.parse(json.stdout)).toEqual({ intact: false, checked: 1, firstAlteredSeq: 2 });
  });
});
