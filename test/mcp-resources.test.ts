import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createFilesConnector } from '../mcp-server/connectors/files/files-connector.js';
import type { Logger, ServiceContext } from '../mcp-server/context.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

describe('asset resources', () => {
  let database: Database;
  let ctx: ServiceContext;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    dir = mkdtempSync(path.join(tmpdir(), 'dataops-resources-'));
    writeFileSync(path.join(dir, 'spend.csv'), 'vendor,amount\nAcme,125000.50\nGlobex,83000\n');
    writeFileSync(path.join(dir, 'vendors.v2.json'), '[{"vendor":"Acme","country":"US"}]');
    await syncSource(ctx, await createFilesConnector({ root: dir, name: 'exports' }).discover());
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every listed file asset back by the URI the listing gave (URNs hold %2E)', async () => {
    const client = await connectMcpClient(ctx);
    const { resources } = await client.listResources();
    const files = resources.filter((r) => r.name.endsWith('.csv') || r.name.endsWith('.json'));
    expect(files.map((r) => r.title).sort()).toEqual(['spend.csv (file)', 'vendors.v2.json (file)']);
    for (const resource of files) {
      const { contents } = await client.readResource({ uri: resource.uri });
      const profile = JSON.parse((contents[0] as { text: string }).text) as { urn: string; qualifiedName: string };
      expect(profile.qualifiedName).toBe(resource.name);
      expect(profile.urn).toMatch(/%2E/);
      expect(resource.uri).toBe(`dataops://asset/${encodeURIComponent(profile.urn)}`);
    }
    await client.close();
  });

  it('answers an unknown or malformed asset URI with a message a person can act on', async () => {
    const client = await connectMcpClient(ctx);
    const missing = encodeURIComponent('urn:dataops:files:exports:.nothing%2Ecsv');
    await expect(client.readResource({ uri: `dataops://asset/${missing}` })).rejects.toMatchObject({
      code: -32002,
      message: expect.stringMatching(/not found|no asset/i),
    });
    await expect(client.readResource({ uri: 'dataops://asset/%E0%A4%A' })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('is not a valid asset URI'),
    });
    await client.close();
  });

  it('hides internal failures behind an incident id, on listing and on reading', async () => {
    const logged: unknown[] = [];
    const logger: Logger = { info: () => {}, warn: () => {}, error: (_m, fields) => logged.push(fields) };
    const broken = new Proxy(ctx.db, {
      get: () => () => {
        throw new Error('relation "assets" does not exist at 10.0.0.7 as secret_user');
      },
    });
    const client = await connectMcpClient({ ...ctx, db: broken, logger });
    for (const attempt of [
      () => client.listResources(),
      () =>
        client.readResource({ uri: `dataops://asset/${encodeURIComponent('urn:dataops:files:exports:.spend%2Ecsv')}` }),
    ]) {
      const error = (await attempt().catch((e: unknown) => e)) as { code: number; message: string };
      expect(error.code).toBe(-32603);
      expect(error.message).toMatch(/internal error \(incident [0-9a-f]{8}\); the server log has the details/);
      expect(error.message).not.toMatch(/secret_user|10\.0\.0\.7/);
    }
    expect(logged).toHaveLength(2);
    await client.close();
  });
});
