import { nodePalette, type PaletteEntry } from './index.js';
import type { NodeCategory } from './node-module.js';

/** The "Node types" section of docs/pipelines.md, written from the registry so it cannot drift from the code. */

export const nodeDocsPath = 'docs/pipelines.md';
export const nodeDocsStart =
  '<!-- node-types: generated from mcp-server/pipelines/nodes by scripts/generate-node-docs.ts -->';
export const nodeDocsEnd = '<!-- /node-types -->';

const categoryTitles: Record<NodeCategory, string> = {
  source: 'Sources',
  transform: 'Transforms',
  quality: 'Quality',
  governance: 'Governance',
  destination: 'Destinations',
};

/** `text` in lines of at most 116 characters (the docs' width), continued lines indented by `indent`. */
function wrap(text: string, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > 116) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

function ports(entry: PaletteEntry): string {
  if (entry.inputs.length === 0) return 'no input';
  return entry.inputs
    .map((p) => {
      const handle = p.handle === null ? 'its input' : `handle \`${p.handle}\``;
      return p.arity === 'many' ? `${handle} (${p.min ?? 1} or more edges)` : handle;
    })
    .join(', ');
}

/** The markdown between the markers: per category, each type's label, summary, inputs, config fields and example. */
export function renderNodeTypes(): string {
  const palette = nodePalette();
  const out: string[] = [];
  for (const [category, title] of Object.entries(categoryTitles)) {
    const entries = palette.filter((e) => e.category === category);
    if (entries.length === 0) continue;
    out.push(`### ${title}`, '');
    for (const e of entries) {
      out.push(`#### \`${e.type}\`: ${e.label}`, '', wrap(e.summary), '');
      out.push(`Inputs: ${ports(e)}${e.output ? '' : '; nothing reads its output'}.`, '');
      for (const [field, text] of Object.entries(e.fields)) out.push(wrap(`- \`${field}\`: ${text}`, '  '));
      out.push('', `Example config: \`${JSON.stringify(e.example)}\``, '');
    }
  }
  return out.join('\n');
}

/** `document` with its node-types section replaced by what the registry says now. */
export function withNodeTypes(document: string): string {
  const start = document.indexOf(nodeDocsStart);
  const end = document.indexOf(nodeDocsEnd);
  if (start < 0 || end < start) throw new Error(`${nodeDocsPath} has no node-types markers`);
  return `${document.slice(0, start + nodeDocsStart.length)}\n\n${renderNodeTypes()}\n${document.slice(end)}`;
}
