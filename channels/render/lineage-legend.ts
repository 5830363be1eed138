import type { LineageGraph } from '../../mcp-server/lineage/graph.js';
import { estimateTextWidth } from '../../mcp-server/lineage/layout-text.js';
import { arrowhead } from './lineage-edges.js';
import { colours, markingOrder, markings, qualityColour } from './lineage-theme.js';
import { num, text } from './svg-text.js';

interface Item {
  width: number;
  /** Draws the item with its left edge at x and its vertical centre at y. */
  draw(x: number, y: number): string;
}

const size = 10.5;
const gap = 20;
const rowHeight = 22;

function label(x: number, y: number, s: string, fill: string = colours.muted): string {
  return text(x, y + 3.8, s, { size, fill });
}

function labelled(symbolWidth: number, s: string, symbol: (x: number, y: number) => string): Item {
  return {
    width: symbolWidth + 6 + estimateTextWidth(s, size),
    draw: (x, y) => symbol(x, y) + label(x + symbolWidth + 6, y, s),
  };
}

function items(graph: LineageGraph): Item[] {
  const list: Item[] = markingOrder.map((c) => {
    const m = markings[c];
    return labelled(24, m.name.charAt(0) + m.name.slice(1).toLowerCase(), (x, y) =>
      [
        `<rect x="${num(x)}" y="${num(y - 7)}" width="24" height="14" rx="3" fill="${m.fill}"/>`,
        text(x + 12, y + 3.3, c, { size: 9, fill: m.ink, weight: 'bold', anchor: 'middle' }),
      ].join(''),
    );
  });
  list.push(
    labelled(
      22,
      'focus',
      (x, y) =>
        `<rect x="${num(x)}" y="${num(y - 7)}" width="22" height="14" rx="3" fill="${colours.focusTint}" stroke="${colours.focus}" stroke-width="2"/>`,
    ),
  );
  const line = (dash: boolean) => (x: number, y: number) =>
    `<path d="M${num(x)},${num(y)} H${num(x + 21)}" stroke="${colours.edgeStrong}" stroke-width="1.6"${dash ? ' stroke-dasharray="6 4"' : ''}/>` +
    arrowhead(x + 30, y, 1, colours.edgeStrong);
  list.push(labelled(30, 'derives (data flows →)', line(false)));
  if (graph.edges.some((e) => e.data.kind === 'references'))
    list.push(labelled(30, 'references (foreign key)', line(true)));
  list.push(qualityItem());
  if (graph.edges.some((e) => e.data.columns.length > 0)) {
    list.push(
      labelled(
        36,
        'column mappings',
        (x, y) =>
          `<rect x="${num(x)}" y="${num(y - 7)}" width="36" height="14" rx="7" fill="#FFFFFF" stroke="${colours.border}"/>` +
          text(x + 18, y + 3.3, '2 cols', { size: 8.5, fill: colours.muted, anchor: 'middle' }),
      ),
    );
  }
  if (graph.nodes.some((n) => n.data.status === 'deprecated')) {
    const w = estimateTextWidth('deprecated', size, true);
    list.push({
      width: w,
      draw: (x, y) =>
        `<g opacity="0.5">${text(x, y + 3.8, 'deprecated', { size, fill: colours.ink, weight: 'bold' })}<line x1="${num(x)}" y1="${num(y)}" x2="${num(x + w)}" y2="${num(y)}" stroke="${colours.ink}" stroke-width="1.2"/></g>`,
    });
  }
  if (graph.nodes.some((n) => n.type === 'group')) {
    list.push(
      labelled(
        24,
        'collapsed: more assets in that hop',
        (x, y) =>
          `<rect x="${num(x + 4)}" y="${num(y - 5)}" width="20" height="12" rx="3" fill="${colours.band}" stroke="${colours.border}"/>` +
          `<rect x="${num(x)}" y="${num(y - 8)}" width="20" height="12" rx="3" fill="#FFFFFF" stroke="${colours.faint}" stroke-dasharray="3 2"/>`,
      ),
    );
  }
  return list;
}

function qualityItem(): Item {
  const bands: [string, number][] = [
    ['80+', 90],
    ['50–79', 65],
    ['<50', 30],
  ];
  const head = estimateTextWidth('quality', size) + 6;
  const widths = bands.map(([s]) => 18 + 4 + estimateTextWidth(s, size));
  return {
    width: head + widths.reduce((a, b) => a + b + 8, 0),
    draw: (x, y) => {
      const out = [label(x, y, 'quality')];
      let cx = x + head;
      bands.forEach(([s, score], i) => {
        out.push(
          `<rect x="${num(cx)}" y="${num(y - 3)}" width="18" height="6" rx="3" fill="${qualityColour(score)}"/>`,
        );
        out.push(label(cx + 22, y, s));
        cx += widths[i]! + 8;
      });
      return out.join('');
    },
  };
}

/** The legend, flowed into rows no wider than `maxWidth`; returns its markup and height. */
export function legendSvg(
  graph: LineageGraph,
  x: number,
  y: number,
  maxWidth: number,
): { svg: string; height: number } {
  const out: string[] = ['<g class="legend">'];
  let cx = x;
  let row = 0;
  for (const item of items(graph)) {
    if (cx > x && cx + item.width > x + maxWidth) {
      row++;
      cx = x;
    }
    out.push(item.draw(cx, y + row * rowHeight + rowHeight / 2));
    cx += item.width + gap;
  }
  out.push('</g>');
  return { svg: out.join(''), height: (row + 1) * rowHeight };
}

/** The narrowest the legend can be laid out in without a single item overflowing. */
export function legendMinWidth(graph: LineageGraph): number {
  return Math.max(...items(graph).map((i) => i.width));
}
