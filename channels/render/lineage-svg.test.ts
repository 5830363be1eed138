import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import type { LineageGraph } from '../../mcp-server/lineage/graph.js';
import { layoutLineage } from '../../mcp-server/lineage/layout.js';
import {
  assetNode,
  demoLineageGraph,
  edge,
  loneLineageGraph,
  starLineageGraph,
  wideLineageGraph,
} from '../../test/fixtures/lineage-graphs.js';
import { renderLineageSvg } from './lineage-svg.js';

/** Parses the SVG with resvg's strict XML parser (roxmltree): throws on anything that is not well-formed. */
function parse(svg: string): Resvg {
  return new Resvg(svg, { font: { loadSystemFonts: false } });
}

/** The markup of each card whose class starts with `cls` (the renderer puts every card on its own line). */
function groupsOf(svg: string, cls: string): string[] {
  return svg.split('\n').filter((line) => line.startsWith(`<g class="${cls}`));
}

describe('renderLineageSvg', () => {
  const svg = renderLineageSvg(layoutLineage(demoLineageGraph()));

  it('is a well-formed, self-contained SVG of a sensible size', () => {
    const parsed = parse(svg);
    expect(parsed.width).toBeGreaterThan(800);
    expect(parsed.width).toBeLessThan(2000);
    expect(parsed.height).toBeGreaterThan(300);
    expect(parsed.height).toBeLessThan(1000);
    expect(svg).not.toMatch(/href=|<image|<script|@import|url\((?!#)/);
    expect(svg).toContain(`font-family="'DejaVu Sans'`);
  });

  it('keeps everything it draws on the canvas', () => {
    const hostile = demoLineageGraph();
    hostile.nodes.push(assetNode('x.'.padEnd(300, 'w'), 3, { label: 'W'.repeat(300) }));
    const graphs = [demoLineageGraph(), wideLineageGraph(60), starLineageGraph(40), loneLineageGraph(), hostile];
    for (const graph of graphs) {
      const drawn = renderLineageSvg(layoutLineage(graph));
      const canvas = parse(drawn);
      // Without the white background, the bounding box is that of the content.
      const content = parse(drawn.replace(/<rect width="\d+" height="\d+" fill="#FFFFFF"\/>/, '')).getBBox()!;
      expect(content.x).toBeGreaterThanOrEqual(0);
      expect(content.y).toBeGreaterThanOrEqual(0);
      expect(content.x + content.width).toBeLessThanOrEqual(canvas.width);
      expect(content.y + content.height).toBeLessThanOrEqual(canvas.height);
    }
  });

  it('says what the picture shows: focus, direction, depth, as-of', () => {
    expect(svg).toContain('>Lineage of contracts.vendor_spend_by_fy</text>');
    expect(svg).toMatch(/Upstream and downstream · up to 3 hops · as of 2026-11-25 21:30 UTC · 10 assets/);
    expect(svg).toContain('>2 HOPS UPSTREAM</text>');
    expect(svg).toContain('>FOCUS</text>');
    expect(svg).toContain('>2 HOPS DOWNSTREAM</text>');
  });

  it('highlights the focus asset, and only it', () => {
    const focus = groupsOf(svg, 'node asset focus');
    expect(focus).toHaveLength(1);
    expect(focus[0]).toContain('>vendor_spend_by_fy</text>');
    expect(focus[0]).toContain('stroke="#6D28D9"');
    expect(svg.match(/class="node asset focus/g)).toHaveLength(1);
  });

  it('marks every card with its classification in the US banner colours, and the picture with the highest', () => {
    const cards = groupsOf(svg, 'node asset');
    expect(cards).toHaveLength(10);
    const scorecard = cards.find((c) => c.includes('>vendor_scorecard<'))!;
    expect(scorecard).toContain('fill="#C8102E"');
    expect(scorecard).toContain('>SECRET</text>');
    const vendors = cards.find((c) => c.includes('>vendors<'))!;
    expect(vendors).toContain('fill="#007A33"');
    expect(vendors).toContain('>UNCLASSIFIED</text>');
    expect(cards.find((c) => c.includes('>obligations<'))).toContain('>CONFIDENTIAL</text>');
    expect(cards.find((c) => c.includes('Risk'))).toContain('fill="#FF8C00"');
    // The data product is TOP SECRET, so the picture's top and bottom banners are too.
    expect(svg.match(/<rect class="banner"[^>]*fill="#FF8C00"/g)).toHaveLength(2);
  });

  it('escapes names from the catalog', () => {
    expect(svg).toContain('>Vendor &lt;Spend&gt; &amp; &quot;Risk&quot;</text>');
    expect(svg).not.toContain('Vendor <Spend>');

    const hostile = demoLineageGraph();
    const evil = assetNode('x.</text><script>alert(1)</script>', 1, {
      label: '</text><script>alert(1)</script>\u0001\uD800 & \u00e9t\u00e9',
      owner: '"><svg onload=alert(1)>',
    });
    hostile.nodes.push(evil);
    hostile.edges.push(edge(hostile.nodes.find((n) => n.data.focus)!, evil));
    const rendered = renderLineageSvg(layoutLineage(hostile));
    expect(() => parse(rendered)).not.toThrow();
    expect(rendered).not.toContain('<script');
    expect(rendered).not.toContain('<svg onload');
    expect(rendered).toContain('&lt;/text&gt;&lt;script&gt;');
  });

  it('shows kind, platform and quality on each card, and dims and strikes deprecated assets', () => {
    const cards = groupsOf(svg, 'node asset');
    const vendors = cards.find((c) => c.includes('>vendors<'))!;
    expect(vendors).toContain('>table · postgres</text>');
    expect(vendors).toMatch(/<g class="quality">.*>94<\/text>/);
    expect(vendors).toContain('fill="#15803D"');
    expect(cards.find((c) => c.includes('>obligations<'))).toContain('fill="#B91C1C"');
    expect(cards.find((c) => c.includes('>refresh_vendor_spend<'))).toContain('>job · openlineage</text>');
    expect(cards.find((c) => c.includes('>refresh_vendor_spend<'))).not.toContain('class="quality"');

    const payments = cards.find((c) => c.includes('>payments<'))!;
    expect(payments).toMatch(/^<g class="node asset deprecated"[^>]*opacity="0.5"/);
    expect(payments).toContain('<line');
    expect(payments).toContain('deprecated</text>');
  });

  it('draws derives solid and references dashed, with arrows and column mappings', () => {
    const references = [...svg.matchAll(/<g class="edge references"[^>]*>.*?<\/g>/gs)].map((m) => m[0]);
    const derives = [...svg.matchAll(/<g class="edge derives"[^>]*>.*?<\/g>/gs)].map((m) => m[0]);
    expect(references).toHaveLength(2);
    expect(derives).toHaveLength(9);
    for (const e of references) expect(e).toContain('stroke-dasharray');
    for (const e of derives) expect(e).not.toContain('stroke-dasharray');
    // Each edge carries its arrowhead: a filled triangle after the line.
    for (const e of [...references, ...derives]) expect(e).toMatch(/<path d="M[^"]+ Z" fill="#[0-9A-F]{6}"\/><\/g>$/);
    expect(svg).toContain('>2 cols</text>');
    expect(svg).toContain('>1 col</text>');
    expect(svg).toContain('amount → obligated_usd (DIRECT AGGREGATION)');
    expect(svg).toContain('contract_id → (whole row) (INDIRECT JOIN)');
  });

  it('has a legend for markings, edges, quality and what the picture contains', () => {
    const legend = svg.slice(svg.indexOf('<g class="legend">'));
    for (const item of ['Unclassified', 'Confidential', 'Secret', 'Top secret', 'focus', 'references (foreign key)']) {
      expect(legend).toContain(`>${item}</text>`);
    }
    expect(legend).toContain('>quality</text>');
    expect(legend).toContain('>deprecated</text>');
    expect(legend).not.toContain('collapsed');
  });

  it('draws collapsed layers as group cards', () => {
    const wide = renderLineageSvg(layoutLineage(wideLineageGraph(60)));
    expect(() => parse(wide)).not.toThrow();
    const groups = groupsOf(wide, 'node group');
    expect(groups).toHaveLength(1);
    expect(groups[0]).toContain('>+49 more</text>');
    expect(groups[0]).toContain('49 views not shown, up to SECRET');
    expect(wide).toContain('>collapsed: more assets in that hop</text>');
    expect(wide).toMatch(/Upstream and downstream · up to 3 hops · .* · 65 assets/);
  });

  it('draws a lone focus, and lays out a graph that has no positions yet', () => {
    const lone = renderLineageSvg(loneLineageGraph());
    expect(() => parse(lone)).not.toThrow();
    expect(groupsOf(lone, 'node asset focus')).toHaveLength(1);
    expect(lone).not.toContain('class="edge');

    const unplaced: LineageGraph = demoLineageGraph();
    const drawn = renderLineageSvg(unplaced);
    const corners = [...drawn.matchAll(/<g class="node asset[^"]*" transform="translate\(([-\d.]+),([-\d.]+)\)"/g)];
    expect(new Set(corners.map((m) => `${m[1]},${m[2]}`)).size).toBe(10);
  });

  it('marks a truncated graph and a column-level graph in the title', () => {
    const graph = {
      ...demoLineageGraph(),
      truncated: true,
      focusColumn: 'obligated_usd',
      direction: 'upstream' as const,
    };
    const drawn = renderLineageSvg(graph);
    expect(drawn).toContain('>Lineage of column obligated_usd in contracts.vendor_spend_by_fy</text>');
    expect(drawn).toContain('Upstream: where the data comes from');
    expect(drawn).toContain('cut short by a limit');
  });
});
