import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ResvgRenderOptions, renderAsync } from '@resvg/resvg-js';
import type { LineageGraph } from '../../mcp-server/lineage/graph.js';
import { renderLineageSvg } from './lineage-svg.js';

export interface LineagePngOptions {
  /** Pixels per SVG unit; 2 keeps 11 px text sharp on high-density screens and in chat previews. */
  scale?: number;
  /** Extra font files (TTF/OTF), e.g. for names in scripts DejaVu lacks. */
  fontFiles?: string[];
}

/** Where Debian/Ubuntu (fonts-dejavu-core) and Fedora put DejaVu; the first that exists is used. */
const dejavuDirs = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF'];

/** Font options for resvg: DejaVu Sans named explicitly, plus whatever the system has for other scripts. */
export function fontOptions(extra: string[] = []): NonNullable<ResvgRenderOptions['font']> {
  const dir = dejavuDirs.find((d) => existsSync(join(d, 'DejaVuSans.ttf')));
  const files = dir ? ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(dir, f)).filter(existsSync) : [];
  return {
    loadSystemFonts: true,
    fontFiles: [...files, ...extra],
    fontDirs: dir ? [dir] : [],
    defaultFontFamily: 'DejaVu Sans',
    sansSerifFamily: 'DejaVu Sans',
  };
}

/** Rasterises the lineage picture to PNG with resvg (no browser): the same drawing as the SVG, at `scale`. */
export async function renderLineagePng(graph: LineageGraph, options: LineagePngOptions = {}): Promise<Buffer> {
  const svg = renderLineageSvg(graph);
  const image = await renderAsync(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    background: '#FFFFFF',
    font: fontOptions(options.fontFiles),
    shapeRendering: 2,
    textRendering: 1,
    logLevel: 'off',
  });
  return image.asPng();
}
