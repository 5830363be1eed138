import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { compactSchema, shareRepeatedShapes } from './compact-schema.js';
import { portableSchema } from './portable-schema.js';
import type { ToolDefinition } from './tool.js';

const listed = new Map<string, Tool>();

/**
 * The tools as clients list them (tools/list): input and output schemas in the compact, portable spelling
 * most clients accept. A model reads the name, description and input schema of every tool on every turn,
 * so those carry what a caller must respect and nothing more; output schemas keep every type and required
 * field a client validates structuredContent against, with repeated shapes written once.
 */
export function listedTools(tools: readonly ToolDefinition[]): Tool[] {
  return tools.map((tool) => {
    let entry = listed.get(tool.name);
    if (!entry) {
      entry = {
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: compactSchema(
          portableSchema(z.toJSONSchema(tool.input, { target: 'draft-7', io: 'input' })),
          'input',
        ) as Tool['inputSchema'],
        outputSchema: shareRepeatedShapes(
          compactSchema(portableSchema(z.toJSONSchema(tool.output, { target: 'draft-7', io: 'output' })), 'output'),
        ) as Tool['outputSchema'],
        annotations: toolAnnotations(tool),
      };
      listed.set(tool.name, entry);
    }
    return entry;
  });
}

/** The annotations as listed: the title is the tool's own `title`, so it is not repeated here. */
export function toolAnnotations(tool: ToolDefinition): Tool['annotations'] {
  return { ...tool.annotations };
}
