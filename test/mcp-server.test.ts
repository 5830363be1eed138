import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { warehouseSnapshot } from './fixtures/warehouse-snapshot.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const urn = (namespace: string, name: string) => assetUrn('postgres', 'warehouse', namespace, name);

describe('MCP server', () => {
  let database: Database;
  let admin: Client;
  let analyst: Client;
  let steward: Client;

  beforeAll(async () => {
    database = await createTestDb();
    const adminCtx = await createTestContext(database);
    await syncSource(adminCtx, warehouseSnapshot());
    await defineDomains(adminCtx, [
      { id: 'procurement', name: 'Procurement', restricted: false },
      { id: 'personnel', name: 'Personnel', restricted: true },
    ]);
    await annotateAssets(adminCtx, [
      { urn: urn('procurement', 'contracts'), domain: 'procurement', tags: ['finance'], classification: 'U' },
      { urn: urn('procurement', 'vendor_spend'), domain: 'procurement', tags: ['finance'], classification: 'C' },
      {
        urn: urn('personnel', 'service_members'),
        domain: 'personnel',
        classification: 'C',
        columns: { ssn: { sensitivity: 'pii' } },
      },
      { urn: urn('intel', 'collection_requirements'), classification: 'TS' },
    ]);
    admin = await connectMcpClient(adminCtx);
    analyst = await connectMcpClient(
      await contextAs(database, { id: 'analyst', displayName: 'Ana Analyst', clearance: 'U', roles: ['viewer'] }),
    );
    steward = await connectMcpClient(
      await contextAs(database, {
        id: 'steward',
        displayName: 'Sam Steward',
        clearance: 'S',
        roles: ['steward'],
        domains: ['personnel'],
      }),
    );
  });
  afterAll(() => database.close());

  it('lists tools with snake_case names, input and output schemas and annotations', async () => {
    const { tools } = await admin.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'catalog_search',
        'catalog_get_asset',
        'catalog_list_columns',
        'catalog_browse',
        'catalog_update_asset',
      ]),
    );
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-z0-9_]{1,64}$/);
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations?.readOnlyHint).toBeTypeOf('boolean');
      expect(tool.inputSchema.additionalProperties).toBe(false);
    }
  });

  it('finds contracts by name, by a typo and by meaning, exact name first', async () => {
    const exact = await admin.callTool({ name: 'catalog_search', arguments: { query: 'contracts' } });
    const hits = (exact.structuredContent as { hits: { name: string }[] }).hits;
    expect(hits[0]!.name).toBe('contracts');

    const typo = await admin.callTool({ name: 'catalog_search', arguments: { query: 'contrcts' } });
    expect((typo.structuredContent as { hits: { name: string }[] }).hits.map((h) => h.name)).toContain('contracts');

    const meaning = await admin.callTool({ name: 'catalog_search', arguments: { query: 'expenditure', limit: 3 } });
    const meaningHits = (meaning.structuredContent as { hits: { name: string; matchedBy: string[] }[] }).hits;
    expect(meaningHits.map((h) => h.name)).toContain('vendor_spend');
    expect(meaningHits.find((h) => h.name === 'vendor_spend')!.matchedBy).toEqual(['meaning']);
  });

  it('never shows or counts an asset above the caller’s clearance or outside its need-to-know', async () => {
    const all = await analyst.callTool({ name: 'catalog_search', arguments: { query: '', limit: 50 } });
    const result = all.structuredContent as {
      total: number;
      hits: { name: string; classification: string }[];
      facets: { classification: { value: string }[] };
    };
    const names = result.hits.map((h) => h.name);
    expect(names).toContain('contracts');
    expect(names).not.toContain('vendor_spend');
    expect(names).not.toContain('service_members');
    expect(names).not.toContain('collection_requirements');
    expect(result.total).toBe(names.length);
    expect(result.facets.classification.map((f) => f.value)).toEqual(['U']);

    const hidden = await analyst.callTool({
      name: 'catalog_get_asset',
      arguments: { urn: urn('intel', 'collection_requirements') },
    });
    const unknown = await analyst.callTool({
      name: 'catalog_get_asset',
      arguments: { urn: urn('intel', 'no_such_table') },
    });
    expect(hidden.isError).toBe(true);
    // The same words as for an asset that does not exist: nothing tells the analyst it is there.
    const text = (r: typeof hidden) => (r.content as { text: string }[])[0]!.text;
    expect(text(hidden)).toBe(text(unknown).replace('no_such_table', 'collection_requirements'));

    const stewardView = await steward.callTool({ name: 'catalog_search', arguments: { query: 'personnel roster' } });
    expect((stewardView.structuredContent as { hits: { name: string }[] }).hits.map((h) => h.name)).toContain(
      'service_members',
    );
  });

  it('browses a domain with facet counts and pages through it with a cursor', async () => {
    const first = await admin.callTool({ name: 'catalog_browse', arguments: { domain: 'procurement', limit: 1 } });
    const page = first.structuredContent as {
      total: number;
      hits: { name: string }[];
      facets: { tag: { value: string; count: number }[]; classification: { value: string; count: number }[] };
      nextCursor: string;
    };
    expect(page.total).toBe(2);
    expect(page.facets.tag).toEqual([{ value: 'finance', count: 2 }]);
    expect(page.facets.classification).toEqual([
      { value: 'C', count: 1 },
      { value: 'U', count: 1 },
    ]);
    const second = await admin.callTool({
      name: 'catalog_browse',
      arguments: { domain: 'procurement', limit: 1, cursor: page.nextCursor },
    });
    const rest = second.structuredContent as { hits: { name: string }[]; nextCursor: string | null };
    expect([...page.hits, ...rest.hits].map((h) => h.name).sort()).toEqual(['contracts', 'vendor_spend']);
    expect(rest.nextCursor).toBeNull();
  });

  it('returns a full profile and filters columns', async () => {
    const profile = await steward.callTool({
      name: 'catalog_get_asset',
      arguments: { urn: urn('personnel', 'service_members') },
    });
    const asset = profile.structuredContent as {
      columns: { name: string }[];
      stats: { columnCount: number };
      domain: string;
    };
    expect(asset.stats.columnCount).toBe(7);
    expect(asset.domain).toBe('personnel');
    const pii = await steward.callTool({
      name: 'catalog_list_columns',
      arguments: { urn: urn('personnel', 'service_members'), sensitivity: 'pii' },
    });
    expect((pii.structuredContent as { columns: { name: string }[] }).columns.map((c) => c.name)).toEqual(['ssn']);
    const page = await steward.callTool({
      name: 'catalog_list_columns',
      arguments: { urn: urn('personnel', 'service_members'), limit: 5 },
    });
    const first = page.structuredContent as { total: number; columns: unknown[]; nextCursor: string };
    expect(first.total).toBe(7);
    const next = await steward.callTool({
      name: 'catalog_list_columns',
      arguments: { urn: urn('personnel', 'service_members'), limit: 5, cursor: first.nextCursor },
    });
    expect((next.structuredContent as { columns: unknown[]; nextCursor: string | null }).columns).toHaveLength(2);
  });

  it('rejects unknown arguments, oversize limits and forged cursors with a clear error', async () => {
    const unknownArg = await admin.callTool({ name: 'catalog_search', arguments: { query: 'x', sort: 'name' } });
    expect(unknownArg.isError).toBe(true);
    expect(JSON.stringify(unknownArg.content)).toMatch(/sort/);
    const oversize = await admin.callTool({ name: 'catalog_search', arguments: { query: 'x', limit: 5000 } });
    expect(oversize.isError).toBe(true);
    expect(JSON.stringify(oversize.content)).toMatch(/limit/);
    const forged = await admin.callTool({ name: 'catalog_search', arguments: { query: 'x', cursor: 'garbage' } });
    expect(JSON.stringify(forged.content)).toMatch(/cursor is not one this server issued/);
  });

  it('lets a steward curate an asset, audited, and refuses a viewer', async () => {
    const denied = await analyst.callTool({
      name: 'catalog_update_asset',
      arguments: { urn: urn('procurement', 'contracts'), addTags: ['x'] },
    });
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.content)).toMatch(/steward or owner role/);

    const updated = await steward.callTool({
      name: 'catalog_update_asset',
      arguments: {
        urn: urn('procurement', 'contracts'),
        description: 'Every awarded contract, one row per PIID',
        addTags: ['gold'],
      },
    });
    const asset = updated.structuredContent as {
      description: string;
      tags: string[];
      recentActivity: { type: string; actor: string }[];
    };
    expect(asset.description).toBe('Every awarded contract, one row per PIID');
    expect(asset.tags).toEqual(['finance', 'gold']);
    expect(asset.recentActivity[0]).toMatchObject({ type: 'metadata_updated', actor: 'steward' });

    const found = await analyst.callTool({ name: 'catalog_search', arguments: { query: 'PIID' } });
    expect((found.structuredContent as { hits: { name: string }[] }).hits[0]!.name).toBe('contracts');
  });

  it('serves asset resources and prompts', async () => {
    const { resources } = await analyst.listResources();
    expect(resources.map((r) => r.name)).toContain('procurement.contracts');
    expect(resources.map((r) => r.name)).not.toContain('intel.collection_requirements');
    const read = await analyst.readResource({ uri: `dataops://asset/${urn('procurement', 'contracts')}` });
    expect(JSON.parse((read.contents[0] as { text: string }).text).name).toBe('contracts');
    const { prompts } = await admin.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['find_data', 'explain_asset', 'plan_change']));
    const plan = await admin.getPrompt({
      name: 'plan_change',
      arguments: { urn: 'urn:x', change: 'drop column amount' },
    });
    expect(plan.messages[0]!.content).toMatchObject({ text: expect.stringContaining('lineage_impact') });
  });
});
