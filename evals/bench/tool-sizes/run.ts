import { measureAllToolsets, modelShareTarget, type ToolSizes, wholeListTarget } from './measure.js';

// `npm run bench:tool-sizes`: how much of a model's context the tool list takes, per toolset and in total.
// Sizes are JSON bytes of the listed tools; tokens are approximated as bytes / 4.
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const tokens = (n: number) => `~${Math.round(n / 4).toLocaleString('en')}`;

const rows = measureAllToolsets();
const header = [
  'toolset',
  'tools',
  'descriptions',
  'input schemas',
  'output schemas',
  'model share',
  'model tokens',
  'tools/list',
  'tools/list tokens',
];
const cells = (r: ToolSizes) => [
  r.label,
  String(r.tools),
  kb(r.descriptionBytes),
  kb(r.inputSchemaBytes),
  kb(r.outputSchemaBytes),
  kb(r.modelShareBytes),
  tokens(r.modelShareBytes),
  kb(r.wholeListBytes),
  tokens(r.wholeListBytes),
];
const table = [header, ...rows.map(cells)];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write(
  `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cells(r)))].join('\n')}\n`,
);

const all = rows.find((r) => r.label === 'all')!;
const verdict = (measured: number, target: number) =>
  `${kb(measured)} of ${kb(target)} (${measured <= target ? 'met' : 'missed'})`;
process.stdout.write(
  `\nall tools, model share (names, descriptions, input schemas): ${verdict(all.modelShareBytes, modelShareTarget)}\n` +
    `all tools, whole tools/list: ${verdict(all.wholeListBytes, wholeListTarget)}\n`,
);
