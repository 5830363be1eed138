import type { LineageColumnEdge, LineageGraphEdge, LineageGraphNode } from '../../mcp-server/lineage/graph.js';
import { estimateTextWidth } from '../../mcp-server/lineage/layout.js';
import { colours } from './lineage-theme.js';
import { num, text, titleElement } from './svg-text.js';

const arrowLength = 9;

/**
 * A filled arrowhead with its tip at (x, y), pointing right (`dir` 1) or left (-1). Drawn as a plain path
 * rather than an SVG marker: resvg 2.6 panics, taking the process down, on a marker whose path lies off
 * the canvas, and every edge here ends horizontally anyway.
 */
export function arrowhead(x: number, y: number, dir: 1 | -1, fill: string): string {
  const base = x - dir * arrowLength;
  return `<path d="M${num(x)},${num(y)} L${num(base)},${num(y - 4.5)} L${num(base)},${num(y + 4.5)} Z" fill="${fill}"/>`;
}

interface Point {
  x: number;
  y: number;
}

/**
 * A cubic curve from source to target: right side to left side when the target lies to the right (the
 * usual case), left to right when it lies to the left, and a loop out of the right sides when both sit in
 * one column (a foreign key between two tables of the same hop).
 */
function route(
  s: LineageGraphNode,
  t: LineageGraphNode,
): { d: string; mid: Point; tip: Point; dir: 1 | -1; rightmost: number } {
  const sy = s.position.y + s.height / 2;
  const ty = t.position.y + t.height / 2;
  const sRight = s.position.x + s.width;
  const tRight = t.position.x + t.width;
  let a: Point;
  let b: Point;
  let c1: Point;
  let c2: Point;
  if (t.position.x >= sRight) {
    a = { x: sRight, y: sy };
    b = { x: t.position.x, y: ty };
    const bend = Math.max(30, (b.x - a.x) / 2);
    c1 = { x: a.x + bend, y: a.y };
    c2 = { x: b.x - bend, y: b.y };
  } else if (tRight <= s.position.x) {
    a = { x: s.position.x, y: sy };
    b = { x: tRight, y: ty };
    const bend = Math.max(30, (a.x - b.x) / 2);
    c1 = { x: a.x - bend, y: a.y };
    c2 = { x: b.x + bend, y: b.y };
  } else {
    a = { x: sRight, y: sy };
    b = { x: tRight, y: ty };
    const out = Math.max(a.x, b.x) + 28;
    c1 = { x: out, y: a.y };
    c2 = { x: out, y: b.y };
  }
  // Every curve ends horizontally; stop it where the arrowhead's base is so the line does not poke through.
  const tip = b;
  const dir: 1 | -1 = c2.x <= b.x ? 1 : -1;
  b = { x: b.x - dir * arrowLength, y: b.y };
  c2 = { x: c2.x - dir * arrowLength, y: c2.y };
  // The curve's point at t = 0.5.
  const mid = {
    x: (a.x + 3 * c1.x + 3 * c2.x + b.x) / 8,
    y: (a.y + 3 * c1.y + 3 * c2.y + b.y) / 8,
  };
  const d = `M${num(a.x)},${num(a.y)} C${num(c1.x)},${num(c1.y)} ${num(c2.x)},${num(c2.y)} ${num(b.x)},${num(b.y)}`;
  return { d, mid, tip, dir, rightmost: Math.max(a.x, tip.x, c1.x, c2.x) };
}

function describeColumn(c: LineageColumnEdge): string {
  const how = [c.transformationType, c.transformationSubtype].filter(Boolean).join(' ');
  return `${c.from} → ${c.to ?? '(whole row)'}${how ? ` (${how})` : ''}`;
}

/** How far right an edge may reach, so the canvas leaves room for same-column loops. */
export function edgeExtent(edge: LineageGraphEdge, byId: Map<string, LineageGraphNode>): number {
  const s = byId.get(edge.source);
  const t = byId.get(edge.target);
  return s && t ? route(s, t).rightmost : 0;
}

/** One edge: its curve and arrow, dashed for `references`, with a column-count tag and tooltip. */
export function edgeSvg(edge: LineageGraphEdge, byId: Map<string, LineageGraphNode>): { path: string; tag: string } {
  const s = byId.get(edge.source);
  const t = byId.get(edge.target);
  if (!s || !t) return { path: '', tag: '' };
  const { d, mid, tip, dir } = route(s, t);
  const strong = s.data.focus || t.data.focus;
  const faded = s.data.status === 'deprecated' || t.data.status === 'deprecated';
  const kind = edge.data.kind;
  const columns = edge.data.columns;
  const what = `${kind === 'references' ? 'references (foreign key)' : 'derives'}: ${s.data.qualifiedName ?? s.data.label} → ${t.data.qualifiedName ?? t.data.label}`;
  const title = titleElement([what, `learned from ${edge.data.origin}`, ...columns.map(describeColumn)]);
  const attrs = [
    `d="${d}"`,
    'fill="none"',
    `stroke="${strong ? colours.edgeStrong : colours.edge}"`,
    `stroke-width="${strong ? 1.8 : 1.4}"`,
  ];
  if (kind === 'references') attrs.push('stroke-dasharray="6 4"');
  const head = arrowhead(tip.x, tip.y, dir, strong ? colours.edgeStrong : colours.edge);
  const path = `<g class="edge ${kind}"${faded ? ' opacity="0.5"' : ''}>${title}<path ${attrs.join(' ')}/>${head}</g>`;
  if (columns.length === 0) return { path, tag: '' };
  const label = `${columns.length} col${columns.length === 1 ? '' : 's'}`;
  const w = estimateTextWidth(label, 10) + 12;
  const tag = [
    `<g class="columns">${title}`,
    `<rect x="${num(mid.x - w / 2)}" y="${num(mid.y - 8)}" width="${num(w)}" height="16" rx="8" fill="#FFFFFF" stroke="${colours.border}"/>`,
    text(mid.x, mid.y + 3.5, label, { size: 10, fill: colours.muted, anchor: 'middle' }),
    '</g>',
  ].join('');
  return { path, tag };
}
