import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listedTools } from '../mcp-server/listed-tools.js';
import { allTools } from '../mcp-server/registry.js';
import { renderToolsDoc, toolsDocPath } from './tools-doc.js';

// Writes docs/tools.md from the tool registry: `npm run docs:tools` after adding or changing a tool.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, toolsDocPath);
mkdirSync(path.dirname(target), { recursive: true });
writeFileSync(target, renderToolsDoc(listedTools(allTools)));
process.stdout.write(`wrote ${toolsDocPath} (${listedTools(allTools).length} tools)\n`);
