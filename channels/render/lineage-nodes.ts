import type { LineageGraphNode } from '../../mcp-server/lineage/graph.js';
import { estimateTextWidth, nodeDetail, nodeMetrics, nodeNamespace } from '../../mcp-server/lineage/layout-text.js';
import { colours, markings, qualityColour, unmarked } from './lineage-theme.js';
import { fitText, num, text, titleElement } from './svg-text.js';

const radius = 6;

/** The classification marking of a node, or the "unmarked" style. */
export function markingOf(node: LineageGraphNode) {
  return node.data.classification ? markings[node.data.classification] : unmarked;
}

/** A rectangle whose top corners are rounded and bottom corners square: the banner across a card's top. */
function topBanner(width: number, height: number, fill: string): string {
  const r = radius;
  return `<path d="M0,${height} V${r} Q0,0 ${r},0 H${width - r} Q${width},0 ${width},${r} V${height} Z" fill="${fill}"/>`;
}

/** What a node's tooltip says: its full name, kind, marking, owner and quality. */
function tooltip(node: LineageGraphNode): string {
  const d = node.data;
  const lines = [d.qualifiedName ?? d.label, nodeDetail(node), markingOf(node).name];
  if (d.owner) lines.push(`owner: ${d.owner}`);
  if (d.qualityScore !== null) lines.push(`quality: ${Math.round(d.qualityScore)}/100`);
  if (d.columns.length) lines.push(`columns: ${d.columns.join(', ')}`);
  if (d.urn) lines.push(d.urn);
  return titleElement(lines);
}

/** An asset card: marking banner, namespace, name, kind and platform, quality bar. */
export function assetCard(node: LineageGraphNode): string {
  const m = nodeMetrics;
  const { width: w, height: h } = node;
  const d = node.data;
  const deprecated = d.status === 'deprecated';
  const marking = markingOf(node);
  const inner = w - 2 * m.paddingX;
  const out: string[] = [];
  const classes = ['node', 'asset', d.focus ? 'focus' : '', deprecated ? 'deprecated' : ''].filter(Boolean);
  out.push(
    `<g class="${classes.join(' ')}" transform="translate(${num(node.position.x)},${num(node.position.y)})"${deprecated ? ' opacity="0.5"' : ''}>`,
  );
  out.push(tooltip(node));
  if (d.focus) {
    out.push(
      `<rect x="-5" y="-5" width="${w + 10}" height="${h + 10}" rx="${radius + 4}" fill="none" stroke="${colours.focus}" stroke-opacity="0.25" stroke-width="5"/>`,
    );
  }
  out.push(
    `<rect x="1.5" y="2.5" width="${w}" height="${h}" rx="${radius}" fill="${colours.shadow}" fill-opacity="0.07"/>`,
  );
  out.push(
    `<rect width="${w}" height="${h}" rx="${radius}" fill="${d.focus ? colours.focusTint : colours.card}" stroke="${d.focus ? colours.focus : colours.border}" stroke-width="${d.focus ? 2.5 : 1}"${deprecated ? ' stroke-dasharray="4 3"' : ''}/>`,
  );
  out.push(topBanner(w, m.bannerHeight, marking.fill));
  out.push(
    text(w / 2, 13, marking.name, { size: 9.5, fill: marking.ink, weight: 'bold', anchor: 'middle', spacing: 1 }),
  );

  const ns = nodeNamespace(d);
  const nameY = ns ? 50 : 44;
  if (ns)
    out.push(
      text(m.paddingX, 33, fitText(ns, inner, m.namespaceSize, { keep: 'end' }), {
        size: m.namespaceSize,
        fill: colours.faint,
      }),
    );
  const name = fitText(d.label, inner, m.nameSize, { bold: true });
  out.push(text(m.paddingX, nameY, name, { size: m.nameSize, fill: colours.ink, weight: 'bold' }));
  if (deprecated) {
    const strike = Math.min(inner, estimateTextWidth(name, m.nameSize, true) - 2);
    out.push(
      `<line x1="${m.paddingX}" y1="${nameY - 4.5}" x2="${num(m.paddingX + strike)}" y2="${nameY - 4.5}" stroke="${colours.ink}" stroke-width="1.2"/>`,
    );
  }

  const detailY = nameY + 17;
  const quality = d.qualityScore;
  const detailRoom = inner - (quality === null ? 0 : m.qualityWidth);
  out.push(
    text(m.paddingX, detailY, fitText(nodeDetail(node), detailRoom, m.detailSize), {
      size: m.detailSize,
      fill: colours.muted,
    }),
  );
  if (quality !== null) out.push(qualityBar(w - m.paddingX, detailY, quality));
  out.push('</g>');
  return out.join('');
}

/** A small bar and number for a 0–100 quality score, right-aligned at `right`, baseline `y`. */
function qualityBar(right: number, y: number, score: number): string {
  const value = Math.max(0, Math.min(100, score));
  const colour = qualityColour(value);
  const barWidth = 34;
  const barX = right - 22 - barWidth;
  return [
    `<g class="quality">`,
    `<rect x="${num(barX)}" y="${y - 7}" width="${barWidth}" height="6" rx="3" fill="${colours.track}"/>`,
    `<rect x="${num(barX)}" y="${y - 7}" width="${num(Math.max(3, (barWidth * value) / 100))}" height="6" rx="3" fill="${colour}"/>`,
    text(right, y, String(Math.round(value)), { size: 11, fill: colour, weight: 'bold', anchor: 'end' }),
    '</g>',
  ].join('');
}

/** A group card: a stack of cards standing for the assets a crowded layer did not show. */
export function groupCard(node: LineageGraphNode): string {
  const { width: w, height: h } = node;
  const marking = markingOf(node);
  const out: string[] = [];
  out.push(`<g class="node group" transform="translate(${num(node.position.x)},${num(node.position.y)})">`);
  out.push(titleElement([`${node.data.count} more assets at this hop, collapsed to keep the picture readable`]));
  for (const offset of [8, 4]) {
    out.push(
      `<rect x="${offset}" y="${offset}" width="${w - 8}" height="${h - 8}" rx="${radius}" fill="${colours.band}" stroke="${colours.border}"/>`,
    );
  }
  out.push(
    `<rect width="${w - 8}" height="${h - 8}" rx="${radius}" fill="${colours.card}" stroke="${colours.faint}" stroke-dasharray="5 3"/>`,
  );
  out.push(topBanner(w - 8, 5, marking.fill));
  const cx = (w - 8) / 2;
  out.push(text(cx, 29, node.data.label, { size: 14, fill: colours.ink, weight: 'bold', anchor: 'middle' }));
  const detail = fitText(nodeDetail(node), w - 8 - 16, 10.5);
  out.push(text(cx, 45, detail, { size: 10.5, fill: colours.muted, anchor: 'middle' }));
  out.push('</g>');
  return out.join('');
}
