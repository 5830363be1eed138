import type { z } from 'zod';
import { runTool } from '../mcp-server/run-tool.js';
import type { ToolDefinition } from '../mcp-server/tool.js';
import type { GlobalOptions, Workspace } from './workspace.js';

export type WithWorkspace = <A extends unknown[]>(
  run: (ws: Workspace, options: GlobalOptions, ...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;

/** What main.ts lends the command groups kept in their own files. */
export interface CliKit {
  withWorkspace: WithWorkspace;
  print: (options: GlobalOptions, data: unknown, text: string) => void;
  positiveInteger: (option: string, value: string, max?: number) => number;
  /** A URN as given, or the URN of the one visible asset with this qualified name. */
  resolveAsset: (ws: Workspace, asset: string) => Promise<string>;
}

/**
 * A command action that runs one MCP tool as --as, through runTool (validated, audited, the same messages as
 * MCP), and prints its text rendering, or its structured output with --json.
 */
export function toolAction<I extends z.ZodObject, O extends z.ZodObject, A extends unknown[]>(
  kit: CliKit,
  tool: ToolDefinition<I, O>,
  build: (ws: Workspace, ...args: A) => Promise<Record<string, unknown>> | Record<string, unknown>,
) {
  return kit.withWorkspace(async (ws, options, ...args: A) => {
    const output = await runTool(tool, await build(ws, ...args), ws.ctx);
    kit.print(options, output, tool.render(output));
  });
}
