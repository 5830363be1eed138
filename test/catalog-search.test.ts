import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { searchCatalog } from '../mcp-server/catalog/search.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { DiscoveredAsset, SourceSnapshot } from '../mcp-server/connectors/types.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);
const names = (result: { hits: { name: string }[] }) => result.hits.map((h) => h.name);

/** A source of `count` small tables about fuel, for a sync large enough to change how it writes. */
function fuelDepot(count: number, duplicate = false): SourceSnapshot {
  const assets: DiscoveredAsset[] = Array.from({ length: count }, (_, i) => ({
    kind: 'table',
    namespace: 'depot',
    name: duplicate && i === count - 1 ? 'fuel_issues_0' : `fuel_issues_${i}`,
    description: `Fuel issued at depot ${i}`,
    columns: [{ name: 'gallons', position: 1, dataType: 'numeric', nullable: false, isPrimaryKey: false }],
  }));
  return { kind: 'postgres', name: 'depot', location: 'postgres://depot.example/depot', errors: [], assets };
}

describe('catalog search', () => {
  let database: Database;
  let admin: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    await defineDomains(admin, [
      { id: 'procurement', name: 'Procurement', restricted: false },
      { id: 'personnel', name: 'Personnel', restricted: true },
    ]);
    await syncSource(admin, warehouseSnapshot());
    await annotateAssets(admin, [
      { urn: urn('procurement', 'vendor_spend'), domain: 'procurement', tags: ['finance'] },
      { urn: urn('procurement', 'contracts'), domain: 'procurement', tags: ['finance', 'awards'] },
      { urn: urn('personnel', 'service_members'), domain: 'personnel' },
      { urn: urn('personnel', 'clearance_investigations'), domain: 'personnel' },
    ]);
  });
  afterAll(() => database.close());

  it('finds by meaning inside a source or a tag, counting only what the filter keeps', async () => {
    const bySource = await searchCatalog(admin, { query: 'expenditure', filters: { source: 'warehouse' } });
    expect(names(bySource)).toContain('vendor_spend');
    expect(bySource.facets.source).toEqual([{ value: 'warehouse', count: bySource.total }]);

    const byTag = await searchCatalog(admin, { query: 'expenditure', filters: { tag: 'finance' } });
    expect(names(byTag)).toContain('vendor_spend');
    expect(byTag.facets.tag.find((t) => t.value === 'finance')).toEqual({ value: 'finance', count: byTag.total });
    expect(byTag.hits.every((h) => h.tags.includes('finance'))).toBe(true);
  });

  it('never returns or counts a restricted domain’s assets for a non-member, whatever the query', async () => {
    const outsider = await contextAs(database, { id: 'o', displayName: 'O', clearance: 'TS', roles: ['viewer'] });
    const member = await contextAs(database, {
      id: 'm',
      displayName: 'M',
      clearance: 'TS',
      roles: ['viewer'],
      domains: ['personnel'],
    });
    for (const query of ['service members', 'servce_membres', 'personnel roster', 'clearance']) {
      const seen = await searchCatalog(outsider, { query });
      expect(names(seen)).not.toContain('service_members');
      expect(names(seen)).not.toContain('clearance_investigations');
      expect(seen.facets.domain.map((d) => d.value)).not.toContain('personnel');
      expect(seen.total).toBe(seen.facets.kind.reduce((n, k) => n + k.count, 0));
    }
    expect(names(await searchCatalog(member, { query: 'service members' }))).toContain('service_members');
  });

  it('keeps the vector index through a large first sync, and after one that fails', async () => {
    const indexed = async () =>
      (
        await queryRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from pg_indexes where indexname = 'assets_embedding_idx'`,
        )
      )[0]!.n;
    await expect(syncSource(admin, fuelDepot(1200, true))).rejects.toThrow(/nothing was changed/);
    expect(await indexed()).toBe(1);
    expect((await searchCatalog(admin, { query: 'fuel', filters: { source: 'depot' } })).total).toBe(0);

    expect(await syncSource(admin, fuelDepot(1200))).toMatchObject({ added: 1200 });
    expect(await indexed()).toBe(1);
    const meaning = await searchCatalog(admin, { query: 'petrol', limit: 5 });
    expect(meaning.hits.some((h) => h.name.startsWith('fuel_issues_') && h.matchedBy.includes('meaning'))).toBe(true);
  });
});
