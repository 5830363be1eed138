import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDocsPath, withNodeTypes } from '../mcp-server/pipelines/nodes/node-docs.js';

// Rewrites the "Node types" section of docs/pipelines.md from the node registry, after adding or changing a node type.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, nodeDocsPath);
writeFileSync(target, withNodeTypes(readFileSync(target, 'utf8')));
process.stdout.write(`wrote the node types of ${nodeDocsPath}\n`);
