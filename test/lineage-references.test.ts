import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderLineagePng } from '../channels/render/lineage-png.js';
import { renderLineageSvg } from '../channels/render/lineage-svg.js';
import type { Database } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import type { LineageGraph } from '../mcp-server/lineage/graph.js';
import { getLineage } from '../mcp-server/lineage/queries.js';
import { getAssetProfile } from '../mcp-server/read-models/asset-profile.js';
import { callTool, connectMcpClient } from './helpers/mcp-client.js';
import { createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

/**
 * Foreign-key lineage of the real Northwind schema, where employees.reports_to references the table's
 * own key (fk_employees_employees), and the notes that say what to ask for when more lineage exists.
 */

const northwind = (name: string) => assetUrn('postgres', 'northwind', 'public', name);
const employees = northwind('employees');
const edgeNames = (graph: LineageGraph) =>
  graph.edges.map((e) => `${e.source.split('.').pop()} -> ${e.target.split('.').pop()} ${e.data.kind}`).sort();

describe('foreign-key lineage of Northwind', () => {
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    await syncSource(ctx, await createPostgresConnector({ url: inject('northwindUrl'), name: 'northwind' }).discover());
  });
  afterAll(() => database.close());

  it('draws the self-referencing key employees.reports_to -> employees.employee_id that the profile counts', async () => {
    const profile = await getAssetProfile(ctx, employees);
    // Northwind: employees references itself; employees, orders and employee_territories reference it.
    expect(profile.foreignKeys).toEqual({ references: 1, referencedBy: 3 });

    const graph = await getLineage(ctx, { urn: employees, includeReferences: true, depth: 1 });
    expect(edgeNames(graph)).toEqual([
      'employees -> employee_territories references',
      'employees -> employees references',
      'employees -> orders references',
    ]);
    const loop = graph.edges.find((e) => e.source === employees && e.target === employees)!;
    expect(loop.data.columns).toEqual([
      { from: 'employee_id', to: 'reports_to', transformationType: null, transformationSubtype: null },
    ]);
    expect(graph.nodes.filter((n) => n.id === employees)).toHaveLength(1);

    const client = await connectMcpClient(ctx);
    const answer = await callTool(client, 'lineage_get', { urn: employees, includeReferences: true, depth: 1 });
    expect(answer.text).toContain(
      '- public.employees is referenced by public.employees [postgres]: employee_id→reports_to',
    );
    await client.close();
  });

  it('draws the self-reference as a loop over the card in SVG and PNG', async () => {
    const graph = await getLineage(ctx, { urn: employees, includeReferences: true, depth: 1 });
    const svg = renderLineageSvg(graph);
    const card = graph.nodes.find((n) => n.id === employees)!;
    const right = card.position.x + card.width;
    const loop = svg.match(
      /references \(foreign key\): public\.employees → public\.employees[^<]*<\/title><path d="([^"]+)"/,
    );
    expect(loop, 'the loop edge is drawn').not.toBeNull();
    // Out of the card's top and back into it near its right end, rising into the gap above the card,
    // away from the sides where the edges to orders and employee_territories leave.
    const numbers = loop![1]!.match(/-?[0-9.]+/g)!.map(Number);
    const xs = numbers.filter((_, i) => i % 2 === 0);
    const ys = numbers.filter((_, i) => i % 2 === 1);
    const top = card.position.y;
    expect(ys[0]).toBe(top);
    expect(Math.min(...xs)).toBeGreaterThan(card.position.x + card.width / 2);
    expect(Math.max(...xs)).toBeLessThan(right);
    expect(Math.min(...ys)).toBeLessThan(top - 10);
    expect(Math.max(...ys)).toBeLessThanOrEqual(top);
    const png = await renderLineagePng(graph);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  it('says to ask for more depth when lineage goes on beyond the last hop, and for less when the size limit stops it', async () => {
    const client = await connectMcpClient(ctx);
    // order_details references orders, one hop beyond what depth 1 shows downstream of employees.
    const shallow = await callTool(client, 'lineage_get', {
      urn: employees,
      direction: 'downstream',
      includeReferences: true,
      depth: 1,
    });
    expect(shallow.structuredContent).toMatchObject({ truncated: true, truncatedBy: 'depth' });
    expect(shallow.text).toContain('more lineage lies beyond 1 hop; ask for more depth (up to 20) to see it');
    expect(shallow.text).not.toContain('less depth');

    const deeper = await callTool(client, 'lineage_get', {
      urn: employees,
      direction: 'downstream',
      includeReferences: true,
      depth: 2,
    });
    expect(deeper.structuredContent).toMatchObject({ truncated: false });
    expect(edgeNames(deeper.structuredContent as LineageGraph)).toContain('orders -> order_details references');
    expect(deeper.text).not.toContain('more lineage');
    await client.close();

    const crowded = await getLineage(ctx, {
      urn: employees,
      direction: 'downstream',
      includeReferences: true,
      depth: 2,
      maxNodes: 2,
    });
    expect(crowded).toMatchObject({ truncated: true, truncatedBy: 'size' });
    expect(renderLineageSvg(crowded)).toContain('cut short by a limit');
    expect(renderLineageSvg(shallow.structuredContent as LineageGraph)).toContain('up to 1 hop, more beyond ·');
  });
});
