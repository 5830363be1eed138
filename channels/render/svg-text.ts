import { estimateTextWidth } from '../../mcp-server/lineage/layout-text.js';

/** The font the pictures are set in; resvg is pointed at the same files (see lineage-png.ts). */
export const fontFamily = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif";

/** Drops what XML 1.0 cannot carry: C0 controls other than tab and newlines, lone surrogates, U+FFFE/U+FFFF. */
function xmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const control = c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d;
    // Iterating by code point leaves a lone surrogate as a one-unit string in the surrogate range.
    const lone = c >= 0xd800 && c <= 0xdfff;
    if (!control && !lone && c !== 0xfffe && c !== 0xffff) out += ch;
  }
  return out;
}

/** Escapes untrusted text for XML content and attribute values, dropping characters XML cannot carry. */
export function escapeXml(text: string): string {
  return xmlChars(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A `<title>` (a tooltip in browsers) of several lines; newlines become `&#10;` so the markup stays on one line. */
export function titleElement(lines: string[]): string {
  return `<title>${lines.map(escapeXml).join('&#10;')}</title>`;
}

/** Shortens `text` with an ellipsis (at the end, or at the start for `keep: 'end'`) to fit `maxWidth` px. */
export function fitText(
  text: string,
  maxWidth: number,
  size: number,
  options: { bold?: boolean; keep?: 'start' | 'end' } = {},
): string {
  const width = (t: string) => estimateTextWidth(t, size, options.bold);
  if (width(text) <= maxWidth) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  // The longest prefix (or suffix) that fits together with the ellipsis.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = options.keep === 'end' ? `…${chars.slice(-mid).join('')}` : `${chars.slice(0, mid).join('')}…`;
    if (width(candidate) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0) return '…';
  return options.keep === 'end' ? `…${chars.slice(-lo).join('')}` : `${chars.slice(0, lo).join('')}…`;
}

/** A number for an SVG attribute: at most two decimals, no trailing zeros. */
export function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** A `<text>` element; `content` is escaped here. */
export function text(
  x: number,
  y: number,
  content: string,
  attrs: { size: number; fill: string; weight?: 'bold'; anchor?: 'middle' | 'end'; spacing?: number; extra?: string },
): string {
  const parts = [`x="${num(x)}"`, `y="${num(y)}"`, `font-size="${attrs.size}"`, `fill="${attrs.fill}"`];
  if (attrs.weight) parts.push(`font-weight="${attrs.weight}"`);
  if (attrs.anchor) parts.push(`text-anchor="${attrs.anchor}"`);
  if (attrs.spacing) parts.push(`letter-spacing="${attrs.spacing}"`);
  if (attrs.extra) parts.push(attrs.extra);
  return `<text ${parts.join(' ')}>${escapeXml(content)}</text>`;
}
