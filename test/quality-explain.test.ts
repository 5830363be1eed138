import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace, type Workspace } from '../cli/workspace.js';
import { assets } from '../db/schema/index.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { demoDefects } from '../mcp-server/demo/demo-defects.js';
import { upsertPrincipal } from '../mcp-server/governance/principals.js';
import { runChecks } from '../mcp-server/quality/checks.js';
import type { QualityExplanation } from '../mcp-server/quality/explain.js';
import { scoreAsset } from '../mcp-server/quality/score.js';
import { createDemoCatalog } from './helpers/demo-catalog.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { runCli } from './helpers/run-cli.js';

const demo = (qualifiedName: string) => {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
};

/** "Why is this flagged?" on the demo workspace, whose planted defects its quality rules must find. */
describe('quality_explain on the demo workspace', () => {
  let db: string;
  let cleanup: () => Promise<void>;
  let ws: Workspace;
  let client: Client;
  const secretKey = 'dataops quality explain test key';

  const explain = async (qualifiedName: string, as: Client = client) => {
    const result = await as.callTool({ name: 'quality_explain', arguments: { urn: demo(qualifiedName) } });
    if (result.isError) throw new Error(JSON.stringify(result.content));
    return result.structuredContent as unknown as QualityExplanation;
  };

  beforeAll(async () => {
    ({ db, cleanup } = await createDemoCatalog('dataops_demoexplain'));
    // A catalog on a server keeps source connections only with a workspace key.
    const loaded = await runCli(['--db', db, '--json', 'demo'], { DATAOPS_SECRET_KEY: secretKey });
    expect(loaded.code, loaded.stderr).toBe(0);
    process.env.DATAOPS_SECRET_KEY = secretKey;
    ws = await openWorkspace({ db });
    const defectTables = [...new Set(demoDefects.map((d) => d.table))];
    for (const table of [...defectTables, 'contracts.contracts']) {
      const [asset] = await ws.ctx.db
        .select({ id: assets.id })
        .from(assets)
        .where(eq(assets.urn, demo(table)));
      await runChecks(ws.ctx, { assetId: asset!.id });
      await scoreAsset(ws.ctx, asset!.id);
    }
    client = await connectMcpClient(ws.ctx);
  }, 300_000);
  afterAll(async () => {
    await client?.close();
    await ws?.close();
    delete process.env.DATAOPS_SECRET_KEY;
    await cleanup?.();
  });

  it('names every planted defect as a failing rule, with the count the demo planted', async () => {
    for (const defect of demoDefects) {
      const { failing, flagged } = await explain(defect.table);
      expect(flagged).toBe(true);
      const found = failing.filter((f) =>
        defect.kind === 'duplicates' ? f.type === 'compound_unique' : f.column === defect.column,
      );
      const counted = found.map((f) => {
        const observed = f.observed as { extraCopies?: number; latest?: string };
        if (defect.kind === 'duplicates') return observed.extraCopies;
        if (defect.kind === 'stale') return observed.latest;
        return f.failedRows;
      });
      const expected = defect.kind === 'stale' ? `${defect.latest}.000Z` : defect.expectedCount;
      expect(counted, `${defect.table} ${defect.kind}`).toContain(expected);
    }
  });

  it('explains a table: the failing rule, its share, masked rows, the score and a sentence to read', async () => {
    const people = await explain('personnel.people');
    const email = people.failing.find((f) => f.rule === 'official e-mail present')!;
    expect(email).toMatchObject({ severity: 'critical', dimension: 'completeness', failedRows: 23 });
    expect(email.failedPercent).toBeCloseTo((100 * 23) / email.checkedRows!, 6);
    expect(email.sample.length).toBeGreaterThan(0);
    expect(email.sample.every((row) => row.email === null && typeof row.person_id === 'number')).toBe(true);
    expect(people.explanation).toMatch(
      /checks of personnel\.people fail: "official e-mail present" \(critical\): 23 of \d+ checked rows fail/,
    );
    expect(people.score.overall).not.toBeNull();
    expect(people.score.dimensions.completeness).toBeLessThan(100);

    const events = await explain('logistics.shipment_events');
    expect(events.failing.map((f) => f.rule)).toEqual(['no duplicate events', 'shipment registered']);
    expect(events.failing[0]!.summary).toMatch(/412 duplicated, 412 extra copies/);
    expect(events.failing[1]!.sample).toHaveLength(10);
    expect(events.passing).toBe(1);
  });

  it('points at failing upstream checks as the likely root cause', async () => {
    const spend = await explain('contracts.vendor_spend_by_fy');
    expect(spend.failing).toEqual([]);
    expect(spend.flagged).toBe(true);
    expect(spend.upstream).toContainEqual(
      expect.objectContaining({
        qualifiedName: 'contracts.vendors',
        hops: 1,
        failing: [expect.objectContaining({ rule: 'CAGE code present', severity: 'critical' })],
      }),
    );
    expect(spend.explanation).toMatch(
      /Upstream checks fail too, a likely cause: .*contracts\.vendors \("CAGE code present"\)/,
    );
  });

  it('masks personal data for viewers and hides what a principal may not see', async () => {
    await upsertPrincipal(ws.database.db, {
      id: 'qa-viewer',
      displayName: 'Viewer',
      clearance: 'U',
      roles: ['viewer'],
    });
    const viewer = await connectMcpClient(await ws.contextFor('qa-viewer'));
    const call = await viewer.callTool({ name: 'quality_explain', arguments: { urn: demo('personnel.people') } });
    expect(call.isError).toBe(true);
    expect(JSON.stringify(call.content)).toMatch(/no asset/);
    const spend = await explain('contracts.vendor_spend_by_fy', viewer);
    expect(JSON.stringify(spend)).not.toMatch(/personnel/);
    await viewer.close();
  });
});
