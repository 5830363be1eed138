import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { listedTools } from '../../../mcp-server/listed-tools.js';
import { selectTools, type ToolSelection, type ToolsetName, toolsetNames } from '../../../mcp-server/registry.js';

/** Targets for every tool listed at once: what a model reads, and the whole tools/list result. */
export const modelShareTarget = 25 * 1024;
export const wholeListTarget = 60 * 1024;

export interface ToolSizes {
  label: string;
  tools: number;
  descriptionBytes: number;
  inputSchemaBytes: number;
  outputSchemaBytes: number;
  /** What a model receives of each tool: name, description and input schema, as JSON. */
  modelShareBytes: number;
  /** The tools/list result as a client receives it (`{"tools": [...]}`), output schemas and annotations included. */
  wholeListBytes: number;
}

const bytes = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

/** The sizes of the tools/list a server with this selection answers (the bytes are deterministic). */
export function measureToolSizes(label: string, selection: ToolSelection = {}): ToolSizes {
  const tools: Tool[] = listedTools(selectTools(selection));
  return {
    label,
    tools: tools.length,
    descriptionBytes: tools.reduce((sum, t) => sum + bytes(t.description), 0),
    inputSchemaBytes: tools.reduce((sum, t) => sum + bytes(t.inputSchema), 0),
    outputSchemaBytes: tools.reduce((sum, t) => sum + bytes(t.outputSchema), 0),
    modelShareBytes: tools.reduce(
      (sum, t) => sum + bytes({ name: t.name, description: t.description, inputSchema: t.inputSchema }),
      0,
    ),
    wholeListBytes: bytes({ tools }),
  };
}

/** One row per toolset, then the read-only selection and every tool. */
export function measureAllToolsets(): ToolSizes[] {
  return [
    ...toolsetNames.map((name: ToolsetName) => measureToolSizes(name, { toolsets: [name] })),
    measureToolSizes('read-only', { readOnly: true }),
    measureToolSizes('all', {}),
  ];
}
