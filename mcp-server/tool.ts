import type { z } from 'zod';
import type { ServiceContext } from './context.js';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/**
 * A tool is data plus a pure handler: one adapter (server.ts) registers every tool with the MCP SDK,
 * and the same definitions serve the in-process agent. Names are `<domain>_<verb>[_<noun>]`, fit for
 * MCP and Bedrock alike.
 */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  /** Written as a prompt: when to use the tool and what it returns. */
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  handler(input: z.infer<I>, ctx: ServiceContext): Promise<z.infer<O>>;
  /** A compact text rendering of the output for clients that show text only. */
  render(output: z.infer<O>): string;
}

export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  tool: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return tool;
}

/** Marks text that came from data (descriptions, comments) so a model treats it as content, not instructions. */
export function fenceUntrusted(text: string | null | undefined): string {
  if (!text) return '';
  return `«${text.replace(/[«»]/g, '"')}»`;
}
