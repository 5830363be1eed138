import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../cli/workspace.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { lineageImpact } from '../mcp-server/lineage/analysis.js';
import type { LineageGraph } from '../mcp-server/lineage/graph.js';
import { createDemoCatalog } from './helpers/demo-catalog.js';
import { runCli } from './helpers/run-cli.js';

const demo = (qualifiedName: string) => {
  const [namespace, name] = qualifiedName.split('.') as [string, string];
  return assetUrn('postgres', 'demo', namespace, name);
};

/** The demo workspace, loaded by `dataops demo` into an embedded catalog or one on the server. */
describe('lineage of the demo workspace', () => {
  let db: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ db, cleanup } = await createDemoCatalog('dataops_demolineage'));
    const loaded = await runCli(['--db', db, '--json', 'demo']);
    expect(loaded.code, loaded.stderr).toBe(0);
  }, 180_000);
  afterAll(() => cleanup());

  it('prints the column lineage of a view, resolved by its qualified name', async () => {
    const result = await runCli(['--db', db, 'lineage', 'contracts.vendor_spend_by_fy', '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const graph = JSON.parse(result.stdout) as LineageGraph;
    const into = (from: string) =>
      graph.edges
        .find((e) => e.source === demo(from) && e.target === demo('contracts.vendor_spend_by_fy'))
        ?.data.columns.map((c) => `${c.from}→${c.to ?? '*'} ${c.transformationSubtype}`);
    expect(into('contracts.payments')).toEqual(
      expect.arrayContaining(['amount→paid_usd AGGREGATION', 'paid_on→fiscal_year TRANSFORMATION', 'status→* FILTER']),
    );
    expect(into('contracts.obligations')).toEqual(
      expect.arrayContaining(['amount→obligated_usd AGGREGATION', 'fiscal_year→fiscal_year IDENTITY']),
    );
    expect(into('contracts.vendors')).toEqual(expect.arrayContaining(['legal_name→legal_name IDENTITY']));
    const scorecard = graph.nodes.find((n) => n.id === demo('performance.vendor_scorecard'));
    expect(scorecard?.data.layer).toBe(1);
    expect(graph.nodes.every((n) => n.width > 0 && n.height > 0)).toBe(true);
  });

  it('draws a legible PNG of it', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dataops-png-')), 'lineage.png');
    const result = await runCli([
      '--db',
      db,
      'lineage',
      'contracts.vendor_spend_by_fy',
      '--format',
      'png',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const png = readFileSync(out);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const svg = await runCli(['--db', db, 'lineage', 'contracts.vendor_spend_by_fy', '--format', 'svg']);
    expect(svg.stdout).toContain('vendor_spend_by_fy');
    expect(svg.stdout).toContain('obligations');
    // The rendered picture has ink: it is not blank, and wide enough for three layers of boxes.
    const image = new Resvg(svg.stdout).render();
    expect(image.width).toBeGreaterThan(600);
    const pixels = image.pixels;
    let dark = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! < 80 && pixels[i + 3]! > 0) dark++;
    expect(dark).toBeGreaterThan(1000);
    rmSync(path.dirname(out), { recursive: true, force: true });
  });

  it('names the downstream assets of a table and their owners', async () => {
    const ws = await openWorkspace({ db });
    try {
      const impact = await lineageImpact(ws.ctx, { urn: demo('contracts.payments') });
      const derived = impact.assets.filter((a) => a.dependency !== 'references');
      expect(derived.map((a) => `${a.qualifiedName} ${a.dependency} ${a.owner}`)).toEqual([
        'contracts.contract_burn_rate derived j.alvarez',
        'contracts.vendor_spend_by_fy derived m.okafor',
        'performance.vendor_scorecard transitive m.okafor',
      ]);
      expect(impact.owners.map((o) => o.owner)).toEqual(expect.arrayContaining(['j.alvarez', 'm.okafor']));
    } finally {
      await ws.close();
    }
  });

  it('says clearly when the asset is unknown or the format is wrong', async () => {
    const unknown = await runCli(['--db', db, 'lineage', 'contracts.nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('dataops: no asset named contracts.nope: try dataops search contracts.nope\n');
    const format = await runCli(['--db', db, 'lineage', 'contracts.vendors', '--format', 'gif']);
    expect(format.stderr).toBe('dataops: --format must be text, json, svg or png, not "gif"\n');
  });
});
