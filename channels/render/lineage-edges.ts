import type { LineageColumnEdge, LineageGraphEdge, LineageGraphNode } from '../../mcp-server/lineage/graph.js';
import type { Point } from '../../mcp-server/lineage/layout.js';
import { estimateTextWidth } from '../../mcp-server/lineage/layout-text.js';
import { colours } from './lineage-theme.js';
import { num, text, titleElement } from './svg-text.js';

const arrowLength = 9;

/**
 * A filled arrowhead with its tip at (x, y), pointing right (`dir` 1), left (-1) or down. Drawn as a plain path
 * rather than an SVG marker: resvg 2.6 panics, taking the process down, on a marker whose path lies off
 * the canvas, and every edge here ends horizontally anyway.
 */
export function arrowhead(x: number, y: number, dir: 1 | -1 | 'down', fill: string): string {
  if (dir === 'down') {
    const top = y - arrowLength;
    return `<path d="M${num(x)},${num(y)} L${num(x - 4.5)},${num(top)} L${num(x + 4.5)},${num(top)} Z" fill="${fill}"/>`;
  }
  const base = x - dir * arrowLength;
  return `<path d="M${num(x)},${num(y)} L${num(base)},${num(y - 4.5)} L${num(base)},${num(y + 4.5)} Z" fill="${fill}"/>`;
}

/**
 * A smooth curve from source to target, leaving and entering horizontally: right side to left side when
 * the target lies to the right (the usual case), left to right when it lies to the left, and a loop out of
 * the right sides when both sit in one column. `via` are the gaps the layout kept for the edge in the
 * columns it crosses; the curve passes through them so it runs between nodes rather than over them.
 */
function route(
  s: LineageGraphNode,
  t: LineageGraphNode,
  via: Point[] = [],
): { d: string; mid: Point; tip: Point; dir: 1 | -1 | 'down'; rightmost: number } {
  if (s.id === t.id) return selfLoop(s);
  const sy = s.position.y + s.height / 2;
  const ty = t.position.y + t.height / 2;
  const sRight = s.position.x + s.width;
  const tRight = t.position.x + t.width;
  let points: Point[];
  let tip: Point;
  let dir: 1 | -1;
  let loop = 0;
  if (t.position.x >= sRight) {
    tip = { x: t.position.x, y: ty };
    dir = 1;
    points = [{ x: sRight, y: sy }, ...via];
  } else if (tRight <= s.position.x) {
    tip = { x: tRight, y: ty };
    dir = -1;
    points = [{ x: s.position.x, y: sy }, ...via];
  } else {
    tip = { x: tRight, y: ty };
    dir = -1;
    points = [{ x: sRight, y: sy }];
    loop = Math.max(sRight, tRight) + 28;
  }
  // Stop the line where the arrowhead's base is, so it does not poke through the tip.
  points.push({ x: tip.x - dir * arrowLength, y: tip.y });
  const first = points[0]!;
  let d = `M${num(first.x)},${num(first.y)}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i - 1]!;
    const q = points[i]!;
    const bend = (q.x - p.x) / 2;
    const [c1, c2] = loop ? [loop, loop] : [p.x + bend, q.x - bend];
    d += ` C${num(c1)},${num(p.y)} ${num(c2)},${num(q.y)} ${num(q.x)},${num(q.y)}`;
  }
  let mid: Point;
  if (via.length) mid = via[Math.floor((via.length - 1) / 2)]!;
  else {
    // The single segment's point at t = 0.5.
    const p = points[0]!;
    const q = points[1]!;
    const [c1, c2] = loop ? [loop, loop] : [(p.x + q.x) / 2, (p.x + q.x) / 2];
    mid = { x: (p.x + 3 * c1 + 3 * c2 + q.x) / 8, y: (p.y + q.y) / 2 };
  }
  return { d, mid, tip, dir, rightmost: Math.max(loop, tip.x, ...points.map((p) => p.x)) };
}

/**
 * A node's edge to itself (a self-referencing foreign key): a small loop over the right end of the card's
 * top, in the gap above it, clear of the sides where the node's other edges leave and arrive. Its column
 * tag sits beside the loop, in the same gap.
 */
function selfLoop(n: LineageGraphNode): { d: string; mid: Point; tip: Point; dir: 'down'; rightmost: number } {
  const right = n.position.x + n.width;
  const top = n.position.y;
  const from = { x: right - 46, y: top };
  const tip = { x: right - 14, y: top };
  const end = { x: tip.x, y: top - arrowLength };
  const d = `M${num(from.x)},${num(from.y)} C${num(from.x - 4)},${num(top - 24)} ${num(end.x)},${num(top - 24)} ${num(end.x)},${num(end.y)}`;
  return { d, mid: { x: from.x - 26, y: top - 10 }, tip, dir: 'down', rightmost: right };
}

function describeColumn(c: LineageColumnEdge): string {
  const how = [c.transformationType, c.transformationSubtype].filter(Boolean).join(' ');
  return `${c.from} → ${c.to ?? '(whole row)'}${how ? ` (${how})` : ''}`;
}

/** How far right an edge may reach, so the canvas leaves room for same-column loops. */
export function edgeExtent(edge: LineageGraphEdge, byId: Map<string, LineageGraphNode>, via?: Point[]): number {
  const s = byId.get(edge.source);
  const t = byId.get(edge.target);
  return s && t ? route(s, t, via).rightmost : 0;
}

/** One edge: its curve and arrow, dashed for `references`, with a column-count tag and tooltip. */
export function edgeSvg(
  edge: LineageGraphEdge,
  byId: Map<string, LineageGraphNode>,
  via?: Point[],
): { path: string; tag: string } {
  const s = byId.get(edge.source);
  const t = byId.get(edge.target);
  if (!s || !t) return { path: '', tag: '' };
  const { d, mid, tip, dir } = route(s, t, via);
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
