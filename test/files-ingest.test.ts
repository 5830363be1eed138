import { createRequire } from 'node:module';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { assets, columns, sources } from '../db/schema/index.js';
import { searchCatalog } from '../mcp-server/catalog/search.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createFilesConnector } from '../mcp-server/connectors/files/files-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const vegaData = path.join(path.dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..', 'data');

describe('files ingested into the catalog (vega-datasets)', () => {
  let database: Database;
  let ctx: ServiceContext;
  const ingest = async () => syncSource(ctx, await createFilesConnector({ root: vegaData, name: 'vega' }).discover());

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
  });
  afterAll(() => database.close());

  it('catalogs every readable file with its schema and exact row count', async () => {
    const summary = await ingest();
    expect(summary.added).toBeGreaterThan(40);
    const cars = await database.db.query.assets.findFirst({ where: eq(assets.name, 'cars.json') });
    expect(cars).toMatchObject({ kind: 'file', rowCount: 406 });
    const carColumns = await database.db.select().from(columns).where(eq(columns.assetId, cars!.id));
    expect(carColumns.find((c) => c.name === 'Miles_per_Gallon')).toMatchObject({
      dataType: 'double precision',
      nullable: true,
    });
    const [source] = await database.db.select().from(sources).where(eq(sources.name, 'vega'));
    expect(source!.lastSyncErrors).toEqual(summary.errors);
  });

  it('re-ingests without change', async () => {
    const summary = await ingest();
    expect(summary).toMatchObject({ added: 0, updated: 0, deprecated: 0, unchanged: summary.assets });
  });

  it('finds a file by what its columns hold', async () => {
    const result = await searchCatalog(ctx, { query: 'horsepower', filters: { kind: 'file' } });
    expect(result.hits[0]!.name).toBe('cars.json');
  });
});
