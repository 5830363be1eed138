import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { assets, auditLog } from '../db/schema/index.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { listColumns } from '../mcp-server/catalog/assets.js';
import { searchCatalog } from '../mcp-server/catalog/search.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);

describe('sync guards and markings', () => {
  let database: Database;
  let admin: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    await defineDomains(admin, [{ id: 'procurement', name: 'Procurement', restricted: false }]);
    await syncSource(admin, warehouseSnapshot(), { classification: 'C', domain: 'procurement' });
  });
  afterAll(() => database.close());

  it('gives new assets the marking and domain the ingest asked for, so nothing lands public by default', async () => {
    const contracts = await database.db.query.assets.findFirst({
      where: eq(assets.urn, urn('procurement', 'contracts')),
    });
    expect(contracts).toMatchObject({ classification: 'C', domainId: 'procurement' });
    const analyst = await contextAs(database, { id: 'u', displayName: 'U', clearance: 'U', roles: ['steward'] });
    expect((await searchCatalog(analyst, { query: '' })).total).toBe(0);
  });

  it('refuses a sync by a steward who may not see everything the source holds', async () => {
    const steward = await contextAs(database, { id: 'u', displayName: 'U', clearance: 'U', roles: ['steward'] });
    await expect(syncSource(steward, warehouseSnapshot())).rejects.toThrow(
      'u may not sync source warehouse: ask its owner or an admin',
    );
  });

  it('refuses the same source name from another location unless told it moved', async () => {
    const moved = { ...warehouseSnapshot(), location: 'postgres://warehouse@other-host:5432/warehouse' };
    await expect(syncSource(admin, moved)).rejects.toThrow(
      /was read from postgres:\/\/warehouse@db.example.*--relocate/,
    );
    expect(await syncSource(admin, moved, { relocate: true })).toMatchObject({ added: 0, updated: 0 });
  });

  it('deprecates only inside the scope it synced, and never a file it failed to read', async () => {
    const moved = 'postgres://warehouse@other-host:5432/warehouse';
    const onlyLogistics = { ...warehouseSnapshot(), location: moved };
    onlyLogistics.assets = onlyLogistics.assets.filter((a) => a.namespace === 'logistics');
    expect(await syncSource(admin, onlyLogistics, { scope: ['logistics'] })).toMatchObject({ deprecated: 0 });

    const unreadable = { ...warehouseSnapshot(), location: moved };
    unreadable.assets = unreadable.assets.filter((a) => a.name !== 'vendors');
    unreadable.errors = [{ object: 'procurement.vendors', message: 'permission denied for table vendors' }];
    expect(await syncSource(admin, unreadable)).toMatchObject({ deprecated: 0 });
  });

  it('refreshes changed statistics without calling the asset changed', async () => {
    const busier = { ...warehouseSnapshot(), location: 'postgres://warehouse@other-host:5432/warehouse' };
    busier.assets[0]!.rowCount = 5000;
    expect(await syncSource(admin, busier)).toMatchObject({ updated: 0, refreshed: 1 });
    const contracts = await database.db.query.assets.findFirst({
      where: eq(assets.urn, urn('procurement', 'contracts')),
    });
    expect(contracts!.rowCount).toBe(5000);
  });

  it('hides columns marked above the reader, from profiles, column lists and search', async () => {
    await annotateAssets(admin, [
      {
        urn: urn('personnel', 'service_members'),
        classification: 'C',
        columns: { clearance_level: { classification: 'S' } },
      },
    ]);
    const reader = await contextAs(database, { id: 'c', displayName: 'C reader', clearance: 'C', roles: ['viewer'] });
    const profile = await getAssetProfile(reader, urn('personnel', 'service_members'));
    expect(profile.columns.map((c) => c.name)).not.toContain('clearance_level');
    expect(profile.stats.columnCount).toBe(6);
    expect((await listColumns(reader, { urn: urn('personnel', 'service_members'), filter: 'clearance' })).total).toBe(
      0,
    );
    const hits = (await searchCatalog(reader, { query: 'clearance_level' })).hits.map((h) => h.name);
    expect(hits).not.toContain('service_members');
  });

  it('makes tags set by a steward searchable', async () => {
    await annotateAssets(admin, [{ urn: urn('logistics', 'parts_catalog'), tags: ['sustainment'] }]);
    const hits = (await searchCatalog(admin, { query: 'sustainment' })).hits.map((h) => h.name);
    expect(hits[0]).toBe('parts_catalog');
  });

  it('keeps the audit log append-only and its chain intact', async () => {
    const [entries] = await database.db.select({ n: sql<number>`count(*)::int` }).from(auditLog);
    expect(entries!.n).toBeGreaterThan(3);
    await expect(database.db.update(auditLog).set({ action: 'forged' })).rejects.toThrow();
    await expect(database.db.delete(auditLog)).rejects.toThrow();
    const { verifyAuditChain } = await import('../mcp-server/governance/audit.js');
    expect(await verifyAuditChain(database.db)).toBeNull();
  });

  it('re-embeds assets whose vectors came from another model', async () => {
    await database.db.update(assets).set({ embeddingModel: 'some-older-model' }).where(eq(assets.name, 'vendors'));
    const summary = await syncSource(admin, {
      ...warehouseSnapshot(),
      location: 'postgres://warehouse@other-host:5432/warehouse',
    });
    expect(summary.updated).toBe(1);
    const vendors = await database.db.query.assets.findFirst({ where: eq(assets.name, 'vendors') });
    expect(vendors!.embeddingModel).toBe(admin.embedder.modelId);
  });
});
