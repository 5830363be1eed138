import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LineageGraph } from '../../mcp-server/lineage/graph.js';
import { layoutLineage } from '../../mcp-server/lineage/layout.js';
import { demoLineageGraph, loneLineageGraph, wideLineageGraph } from '../../test/fixtures/lineage-graphs.js';
import { renderLineagePng } from './lineage-png.js';
import { renderLineageSvg } from './lineage-svg.js';

interface Decoded {
  width: number;
  height: number;
  /** RGBA, row by row. */
  pixels: Buffer;
}

/** Decodes the 8-bit RGBA, non-interlaced PNGs resvg writes (chunks, zlib, scanline filters). */
function decodePng(png: Buffer): Decoded {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect({ depth: body[8], colour: body[9], interlace: body[12] }).toEqual({ depth: 8, colour: 6, interlace: 0 });
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const at = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? pixels[at + x - 4]! : 0;
      const b = y > 0 ? pixels[at - stride + x]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const c = x >= 4 && y > 0 ? pixels[at - stride + x - 4]! : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[at + x] = (line[x]! + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** Pixels in a box (image coordinates) dark enough to be the cards' ink (#0F172A) or its anti-aliasing. */
function darkPixels(image: Decoded, box: { x: number; y: number; w: number; h: number }): number {
  let count = 0;
  for (let y = Math.max(0, box.y); y < Math.min(image.height, box.y + box.h); y++) {
    for (let x = Math.max(0, box.x); x < Math.min(image.width, box.x + box.w); x++) {
      const i = (y * image.width + x) * 4;
      if (image.pixels[i]! < 90 && image.pixels[i + 1]! < 90 && image.pixels[i + 2]! < 110) count++;
    }
  }
  return count;
}

/** Where the focus card's name is drawn, in SVG units: the graph's and the card's translations plus the baseline. */
function focusNameBox(svg: string): { x: number; y: number; w: number; h: number } {
  const graph = svg.match(/<g class="graph" transform="translate\(([-\d.]+),([-\d.]+)\)"/)!;
  const card = svg.match(/<g class="node asset focus" transform="translate\(([-\d.]+),([-\d.]+)\)"/)!;
  const line = svg.split('\n').find((l) => l.startsWith('<g class="node asset focus"'))!;
  const name = line.match(/<text x="([\d.]+)" y="([\d.]+)" font-size="13"[^>]*font-weight="bold">/)!;
  return {
    x: Number(graph[1]) + Number(card[1]) + Number(name[1]),
    y: Number(graph[2]) + Number(card[2]) + Number(name[2]) - 11,
    w: 110,
    h: 14,
  };
}

const scaled = (box: { x: number; y: number; w: number; h: number }, s: number) => ({
  x: Math.floor(box.x * s),
  y: Math.floor(box.y * s),
  w: Math.ceil(box.w * s),
  h: Math.ceil(box.h * s),
});

describe('renderLineagePng', () => {
  it('rasterises the SVG at twice its size, with the focus name drawn in legible text', async () => {
    const graph = layoutLineage(demoLineageGraph());
    const svg = renderLineageSvg(graph);
    const [, w, h] = svg.match(/<svg [^>]*width="(\d+)" height="(\d+)"/)!;
    const png = await renderLineagePng(graph);
    const image = decodePng(png);
    expect(image.width).toBe(2 * Number(w));
    expect(image.height).toBe(2 * Number(h));

    // Text really rendered (fonts found): the name's box has ink, while the same box shifted into the
    // empty band above the first upstream card does not.
    const box = focusNameBox(svg);
    expect(darkPixels(image, scaled(box, 2))).toBeGreaterThan(150);
    expect(darkPixels(image, scaled({ ...box, y: box.y - 90 }, 2))).toBe(0);

    // Not blank: white background, and the marking colours appear.
    expect([...image.pixels.subarray(0, 4)]).toEqual([0xff, 0x8c, 0x00, 0xff]);
    const colours = new Set<number>();
    for (let i = 0; i < image.pixels.length; i += 4 * 97) colours.add(image.pixels.readUInt32BE(i));
    expect(colours.size).toBeGreaterThan(20);
  });

  it('renders the 60-node graph collapsed, and a lone focus, at sane sizes', async () => {
    const wide = decodePng(await renderLineagePng(layoutLineage(wideLineageGraph(60))));
    expect(wide.width).toBeGreaterThan(1500);
    expect(wide.width).toBeLessThan(4000);
    expect(wide.height).toBeLessThan(3200);

    const lone: LineageGraph = loneLineageGraph();
    const image = decodePng(await renderLineagePng(lone, { scale: 1 }));
    const svg = renderLineageSvg(lone);
    expect(image.width).toBe(Number(svg.match(/width="(\d+)"/)![1]));
    expect(darkPixels(image, focusNameBox(svg))).toBeGreaterThan(30);
  });
});
