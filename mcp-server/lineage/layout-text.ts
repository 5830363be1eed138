import type { Classification } from '../../db/schema/types.js';
import type { LineageGraphNode, LineageNodeData } from './graph.js';

/** Card geometry shared with the SVG renderer, so what is measured here is what gets drawn there. */
export const nodeMetrics = {
  assetHeight: 76,
  groupHeight: 64,
  minWidth: 176,
  maxWidth: 300,
  paddingX: 12,
  bannerHeight: 18,
  nameSize: 13,
  namespaceSize: 10.5,
  detailSize: 11,
  /** Room the quality bar and its number take on the detail line. */
  qualityWidth: 64,
} as const;

// Advance widths of DejaVu Sans (the font the pictures use) in em, for the characters names are made of.
// biome-ignore format: a table reads better packed
const charWidths: Record<string, number> = {
  a: 0.613, b: 0.635, c: 0.55, d: 0.635, e: 0.615, f: 0.352, g: 0.635, h: 0.634, i: 0.278, j: 0.278, k: 0.579,
  l: 0.278, m: 0.974, n: 0.634, o: 0.612, p: 0.635, q: 0.635, r: 0.411, s: 0.521, t: 0.392, u: 0.634, v: 0.592,
  w: 0.818, x: 0.592, y: 0.592, z: 0.525, ' ': 0.318, '.': 0.318, ',': 0.318, ':': 0.337, ';': 0.337, _: 0.5,
  '-': 0.361, '/': 0.337, '(': 0.39, ')': 0.39, '+': 0.838, '·': 0.318, I: 0.295, J: 0.295, M: 0.863, W: 0.989,
  m0: 0,
};

/** Estimated width in px of `text` set in DejaVu Sans at `size` px (bold is about an eighth wider). */
export function estimateTextWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    const known = charWidths[ch];
    if (known !== undefined) em += known;
    else if (ch >= '0' && ch <= '9') em += 0.636;
    else if (ch >= 'A' && ch <= 'Z') em += 0.7;
    else em += ch.charCodeAt(0) > 0x2e80 ? 1 : 0.62;
  }
  return em * size * (bold ? 1.13 : 1);
}

/** Classification markings, lowest to highest. */
export const markingOrder: Classification[] = ['U', 'C', 'S', 'TS'];
/** Classification markings as banners spell them. */
export const markingNames: Record<Classification, string> = {
  U: 'UNCLASSIFIED',
  C: 'CONFIDENTIAL',
  S: 'SECRET',
  TS: 'TOP SECRET',
};

/** The namespace shown above a node's name: its qualified name without the trailing name. */
export function nodeNamespace(data: LineageNodeData): string | null {
  const q = data.qualifiedName;
  if (!q || q === data.label || !q.endsWith(data.label)) return null;
  const ns = q.slice(0, q.length - data.label.length).replace(/[./:]$/, '');
  return ns || null;
}

/** The detail line of a node: its kind and platform, or what a group stands for. */
export function nodeDetail(node: Pick<LineageGraphNode, 'type' | 'data'>): string {
  const d = node.data;
  if (node.type === 'group') {
    const what = d.kind
      ? `${d.kind.replace(/_/g, ' ')}${d.count === 1 ? '' : 's'}`
      : d.count === 1
        ? 'asset'
        : 'assets';
    // The group's banner shows the highest marking among its members; above unclassified it is spelt out.
    const above = d.classification && d.classification !== 'U' ? `, up to ${markingNames[d.classification]}` : '';
    return `${d.count} ${what} not shown${above}`;
  }
  const parts = [d.kind ? d.kind.replace(/_/g, ' ') : 'asset'];
  if (d.platform) parts.push(d.platform);
  if (d.status === 'deprecated') parts.push('deprecated');
  return parts.join(' · ');
}

/** Width and height of a node's card: room for its name, namespace and detail line, within bounds. */
export function nodeSize(node: LineageGraphNode): { width: number; height: number } {
  const m = nodeMetrics;
  const ns = nodeNamespace(node.data);
  const quality = node.type === 'asset' && node.data.qualityScore !== null ? m.qualityWidth : 0;
  const content = Math.max(
    estimateTextWidth(node.data.label, m.nameSize, true),
    ns ? estimateTextWidth(ns, m.namespaceSize) : 0,
    estimateTextWidth(nodeDetail(node), m.detailSize) + quality,
  );
  // Even widths keep the centres of a layer's nodes, and so its column, on whole pixels.
  const width = 2 * Math.ceil(Math.min(m.maxWidth, Math.max(m.minWidth, content + 2 * m.paddingX)) / 2);
  return { width, height: node.type === 'group' ? m.groupHeight : m.assetHeight };
}
