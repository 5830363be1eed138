import type { Classification } from '../../db/schema/types.js';
import type { LineageGraph, LineageGraphNode } from '../../mcp-server/lineage/graph.js';
import { layoutLineage, lineageEdgeRoutes } from '../../mcp-server/lineage/layout.js';
import { edgeExtent, edgeSvg } from './lineage-edges.js';
import { legendMinWidth, legendSvg } from './lineage-legend.js';
import { assetCard, groupCard } from './lineage-nodes.js';
import { colours, markingOrder, markings } from './lineage-theme.js';
import { fitText, fontFamily, num, text } from './svg-text.js';

const margin = 28;
const minContentWidth = 640;
const bannerHeight = 22;
/** Room above the graph for the column headers. */
const headerRoom = 34;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function hopHeader(layer: number): string {
  if (layer === 0) return 'FOCUS';
  return `${plural(Math.abs(layer), 'hop')} ${layer < 0 ? 'upstream' : 'downstream'}`.toUpperCase();
}

function formatAsOf(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function highestMarking(nodes: LineageGraphNode[]): Classification | null {
  let best = -1;
  for (const n of nodes) if (n.data.classification) best = Math.max(best, markingOrder.indexOf(n.data.classification));
  return best < 0 ? null : markingOrder[best]!;
}

function titleLines(graph: LineageGraph, nodes: LineageGraphNode[]): { title: string; subtitle: string } {
  const focus = nodes.find((n) => n.data.focus) ?? nodes.find((n) => n.id === graph.focus);
  const name = focus ? (focus.data.qualifiedName ?? focus.data.label) : graph.focus;
  const title = graph.focusColumn ? `Lineage of column ${graph.focusColumn} in ${name}` : `Lineage of ${name}`;
  const direction = {
    upstream: 'Upstream: where the data comes from',
    downstream: 'Downstream: what depends on it',
    both: 'Upstream and downstream',
  }[graph.direction];
  const assets = nodes.reduce((sum, n) => sum + (n.type === 'group' ? n.data.count : 1), 0);
  const parts = [
    direction,
    // Lineage going on past the depth shown is said next to the depth, where asking for more would help.
    `up to ${plural(graph.depth, 'hop')}${graph.truncated && graph.truncatedBy === 'depth' ? ', more beyond' : ''}`,
    `as of ${formatAsOf(graph.asOf)}`,
    plural(assets, 'asset'),
  ];
  if (graph.truncated && graph.truncatedBy !== 'depth') parts.push('cut short by a limit: more lineage exists');
  return { title, subtitle: parts.join(' · ') };
}

function banner(y: number, width: number, marking: Classification): string {
  const m = markings[marking];
  return (
    `<rect class="banner" x="0" y="${y}" width="${num(width)}" height="${bannerHeight}" fill="${m.fill}"/>` +
    text(width / 2, y + 15, m.name, { size: 11, fill: m.ink, weight: 'bold', anchor: 'middle', spacing: 1.5 })
  );
}

/** Column bands and their headers, one per hop from the focus. */
function columns(nodes: LineageGraphNode[], top: number, bottom: number): string {
  const layers = new Map<number, { left: number; right: number }>();
  for (const n of nodes) {
    const span = layers.get(n.data.layer) ?? { left: Number.POSITIVE_INFINITY, right: Number.NEGATIVE_INFINITY };
    span.left = Math.min(span.left, n.position.x);
    span.right = Math.max(span.right, n.position.x + n.width);
    layers.set(n.data.layer, span);
  }
  const out: string[] = [];
  for (const [layer, { left, right }] of [...layers].sort((a, b) => a[0] - b[0])) {
    const fill = layer === 0 ? colours.focusTint : colours.band;
    out.push(
      `<rect x="${num(left - 12)}" y="${num(top)}" width="${num(right - left + 24)}" height="${num(bottom - top)}" rx="10" fill="${fill}"/>`,
    );
    const header = layer === 0 ? colours.focus : colours.faint;
    out.push(
      text((left + right) / 2, top + 18, hopHeader(layer), {
        size: 9.5,
        fill: header,
        weight: 'bold',
        anchor: 'middle',
        spacing: 1.2,
      }),
    );
  }
  return out.join('');
}

/**
 * Draws a lineage graph as a self-contained SVG: hop columns left (upstream) to right (downstream), the
 * focus highlighted, a classification banner, name, kind and quality on every card, dashed foreign keys,
 * column-mapping counts, a legend, and the picture's highest marking above and below. A graph without
 * positions is laid out first. All text from the graph is escaped.
 */
export function renderLineageSvg(graph: LineageGraph): string {
  const laidOut = graph.nodes.some((n) => !(n.width > 0 && n.height > 0)) ? layoutLineage(graph) : graph;
  const nodes = laidOut.nodes;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const routes = lineageEdgeRoutes(laidOut);
  const via = (id: string) => routes?.get(id);

  const minX = Math.min(0, ...nodes.map((n) => n.position.x)) - 12;
  // Routed edges may swing above or below every node; the column tags on them are 8 px tall each way.
  const bends = [...(routes?.values() ?? [])].flat().map((p) => p.y);
  const minY = Math.min(0, ...nodes.map((n) => n.position.y), ...bends.map((y) => y - 10));
  const maxX = Math.max(
    minX + 1,
    ...nodes.map((n) => n.position.x + n.width + 12),
    ...laidOut.edges.map((e) => edgeExtent(e, byId, via(e.id)) + 4),
  );
  const maxY = Math.max(minY + 1, ...nodes.map((n) => n.position.y + n.height), ...bends.map((y) => y + 10));
  const graphWidth = maxX - minX;
  const graphHeight = maxY - minY + headerRoom + 12;

  const contentWidth = Math.max(graphWidth, minContentWidth, legendMinWidth(laidOut));
  const width = Math.ceil(contentWidth + 2 * margin);
  const marking = highestMarking(nodes);
  const top = marking ? bannerHeight : 0;
  const { title, subtitle } = titleLines(laidOut, nodes);

  const titleY = top + margin + 14;
  const graphTop = titleY + 34;
  const offsetX = margin + (contentWidth - graphWidth) / 2 - minX;
  const offsetY = graphTop + headerRoom - minY;
  const legendTop = graphTop + graphHeight + 18;
  const legend = legendSvg(laidOut, margin, legendTop, contentWidth);
  const height = Math.ceil(legendTop + legend.height + margin / 2 + (marking ? bannerHeight : 0));

  const edges = laidOut.edges.map((e) => edgeSvg(e, byId, via(e.id)));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${fontFamily}">`,
    `<rect width="${width}" height="${height}" fill="#FFFFFF"/>`,
  ];
  if (marking) out.push(banner(0, width, marking));
  out.push(
    `<g class="title">`,
    text(margin, titleY, fitText(title, contentWidth, 17, { bold: true }), {
      size: 17,
      fill: colours.ink,
      weight: 'bold',
    }),
    text(margin, titleY + 20, fitText(subtitle, contentWidth, 11.5), {
      size: 11.5,
      fill: laidOut.truncated ? colours.warning : colours.muted,
    }),
    '</g>',
  );
  out.push(`<g class="graph" transform="translate(${num(offsetX)},${num(offsetY)})">`);
  out.push(columns(nodes, minY - headerRoom, maxY + 12));
  out.push(...edges.map((e) => e.path), ...edges.map((e) => e.tag));
  out.push(...nodes.map((n) => (n.type === 'group' ? groupCard(n) : assetCard(n))));
  out.push('</g>', legend.svg);
  if (marking) out.push(banner(height - bannerHeight, width, marking));
  out.push('</svg>');
  return out.join('\n');
}
