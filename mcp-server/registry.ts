import type { z } from 'zod';
import { DataOpsError } from '../core/errors.js';
import { catalogTools } from './catalog/tools.js';
import { governanceTools } from './governance/tools.js';
import { lineageTools } from './lineage/tools.js';
import { pipelineTools } from './pipelines/tools.js';
import { qualityTools } from './quality/tools.js';
import { assetProfileTools } from './read-models/asset-profile-tools.js';
import { socialTools } from './social/tools.js';
import type { ToolDefinition } from './tool.js';

/**
 * The tool registry: every tool by name and toolset, with its schemas. The MCP adapter (server.ts), the
 * JSON API and the agent all start from here, so none of them needs another's module to reach a tool.
 */
const registered = [
  ...catalogTools,
  ...assetProfileTools,
  ...lineageTools,
  ...qualityTools,
  ...governanceTools,
  ...socialTools,
  ...pipelineTools,
] as const;

type RegisteredTool = (typeof registered)[number];
export type ToolName = RegisteredTool['name'];

/** Every tool, in the order clients list them: grouped by toolset. */
export const allTools: readonly ToolDefinition[] = registered as unknown as readonly ToolDefinition[];

/** Each tool's zod input and output schema by name, typed: `z.infer<(typeof toolSchemas)['catalog_search']['input']>`. */
export const toolSchemas = Object.fromEntries(
  registered.map((tool) => [tool.name, { input: tool.input, output: tool.output }]),
) as { [T in RegisteredTool as T['name']]: { input: T['input']; output: T['output'] } };

/** The arguments a tool accepts (before defaults apply) and the answer it returns, by tool name. */
export type ToolInput<N extends ToolName> = z.input<(typeof toolSchemas)[N]['input']>;
export type ToolOutput<N extends ToolName> = z.output<(typeof toolSchemas)[N]['output']>;

const byName = new Map(allTools.map((tool) => [tool.name, tool]));

/** The tool of that name, or undefined. */
export function toolByName(name: string): ToolDefinition | undefined {
  return byName.get(name);
}

/** Toolsets are the domains; a tool belongs to the one its name starts with (`<domain>_<verb>`). */
export const toolsetNames = ['catalog', 'lineage', 'quality', 'governance', 'social', 'pipelines'] as const;
export type ToolsetName = (typeof toolsetNames)[number];

export function toolsetOf(tool: Pick<ToolDefinition, 'name'>): ToolsetName {
  const prefix = tool.name.split('_')[0] as ToolsetName;
  if (!toolsetNames.includes(prefix)) throw new Error(`tool ${tool.name} is in no toolset`);
  return prefix;
}

/** Which tools a server (or one HTTP session) offers: some toolsets (default all), and only read-only tools if asked. */
export interface ToolSelection {
  toolsets?: readonly ToolsetName[];
  readOnly?: boolean;
}

/** The tools a selection offers, in registry order. */
export function selectTools(selection: ToolSelection = {}): ToolDefinition[] {
  const toolsets = new Set(selection.toolsets ?? toolsetNames);
  return allTools.filter(
    (tool) => toolsets.has(toolsetOf(tool)) && (!selection.readOnly || tool.annotations.readOnlyHint),
  );
}

/**
 * Toolset names from a comma-separated list (`--toolsets`, DATAOPS_TOOLSETS, a session's header); `all` or an
 * empty list means every toolset. An unknown name is refused with the valid ones.
 */
export function parseToolsets(list: string, from: string): ToolsetName[] | undefined {
  const names = list
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => name !== 'all' && !toolsetNames.includes(name as ToolsetName));
  if (unknown.length > 0) {
    throw new DataOpsError(
      'invalid_input',
      `${from}: unknown toolset${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the toolsets are ${toolsetNames.join(', ')} (or all)`,
    );
  }
  // `all` is every toolset: with a session's headers, every toolset the server offers.
  if (names.length === 0 || names.includes('all')) return undefined;
  return [...new Set(names as ToolsetName[])];
}

/**
 * A session's selection inside the server's: a session may narrow what the server offers, never widen it.
 * Toolsets the server does not offer are refused, so a client is not left wondering where a tool went.
 */
export function narrowSelection(server: ToolSelection, session: ToolSelection, from: string): ToolSelection {
  const offered = server.toolsets ?? toolsetNames;
  const outside = (session.toolsets ?? []).filter((name) => !offered.includes(name));
  if (outside.length > 0) {
    throw new DataOpsError(
      'invalid_input',
      `${from}: this server does not offer the toolset${outside.length > 1 ? 's' : ''} ${outside.join(', ')}; it offers ${offered.join(', ')}`,
    );
  }
  return { toolsets: session.toolsets ?? server.toolsets, readOnly: Boolean(server.readOnly || session.readOnly) };
}

/** Why a registered tool is not offered under a selection, and how to enable it; null when it is offered. */
export function notEnabledReason(tool: ToolDefinition, selection: ToolSelection): string | null {
  const toolset = toolsetOf(tool);
  if (selection.toolsets && !selection.toolsets.includes(toolset)) {
    return (
      `tool ${tool.name} is not enabled on this server: it is in the ${toolset} toolset, and the server offers ${selection.toolsets.join(', ')}. ` +
      `Enable it with --toolsets (or DATAOPS_TOOLSETS) including ${toolset}, or on /mcp with the X-MCP-Toolsets header`
    );
  }
  if (selection.readOnly && !tool.annotations.readOnlyHint) {
    return (
      `tool ${tool.name} is not enabled on this server: it writes, and the server (or this session) is read-only. ` +
      'Enable it by starting the server without --read-only (DATAOPS_READ_ONLY) and connecting without the X-MCP-Readonly header'
    );
  }
  return null;
}
