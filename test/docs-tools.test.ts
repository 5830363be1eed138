import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listedTools } from '../mcp-server/listed-tools.js';
import { allTools } from '../mcp-server/registry.js';
import { renderToolsDoc, toolsDocPath } from '../scripts/tools-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('docs/tools.md', () => {
  it('is what `npm run docs:tools` writes from the tool registry', () => {
    const expected = renderToolsDoc(listedTools(allTools));
    let actual = '';
    try {
      actual = readFileSync(path.join(root, toolsDocPath), 'utf8');
    } catch {
      // A missing file reads as empty, so the message below says what to do.
    }
    if (actual !== expected) {
      const documented = new Set([...actual.matchAll(/^### `([a-z0-9_]+)`$/gm)].map((m) => m[1]));
      const missing = listedTools(allTools)
        .map((t) => t.name)
        .filter((name) => !documented.has(name));
      expect.fail(
        `${toolsDocPath} is out of date with the tool registry${missing.length ? ` (missing: ${missing.join(', ')})` : ''}: ` +
          'run `npm run docs:tools` and commit the result',
      );
    }
  });

  it('documents every tool with its annotations and every input parameter', () => {
    const doc = renderToolsDoc(listedTools(allTools));
    for (const tool of listedTools(allTools)) {
      const section = doc.split(`### \`${tool.name}\`\n`)[1]?.split('\n### ')[0] ?? '';
      expect(section, tool.name).toContain(tool.annotations?.readOnlyHint ? 'read-only' : 'writes');
      for (const parameter of Object.keys((tool.inputSchema.properties ?? {}) as object)) {
        expect(section, `${tool.name}.${parameter}`).toContain(`- \`${parameter}\` (`);
      }
    }
  });
});
