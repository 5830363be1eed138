import type { z } from 'zod';
import type { ServiceContext } from './context.js';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

// The few kinds of tool there are. Every hint is spelled out, since the MCP defaults are the cautious ones
// (a tool that says nothing is destructive and open-world), and `--read-only` selects on `readOnlyHint`.
/** Reads the catalog only; calling it twice gives the same answer. */
export const readOnly = { readOnlyHint: true, idempotentHint: true, openWorldHint: false } as const;
/** Adds something (a comment, a rule, a version); calling it twice adds it twice. */
export const additive = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
} as const;
/** Sets something to a given state; calling it twice changes nothing more. */
export const idempotent = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;
/** Removes or overwrites something; calling it twice may remove more. */
export const destructive = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: false,
} as const;
/** Removes or overwrites something by name; calling it twice changes nothing more. */
export const idempotentDestructive = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
} as const;

/** The same kind of tool, reaching beyond the catalog: it reads the source databases the catalog describes. */
export function openWorld(annotations: ToolAnnotations): ToolAnnotations {
  return { ...annotations, openWorldHint: true };
}

/**
 * A tool is data plus a pure handler: one adapter (server.ts) registers every tool with the MCP SDK,
 * and the same definitions serve the in-process agent. Names are `<domain>_<verb>[_<noun>]`, fit for
 * MCP and Bedrock alike.
 */
export interface ToolDefinition<
  I extends z.ZodObject = z.ZodObject,
  O extends z.ZodObject = z.ZodObject,
  N extends string = string,
> {
  name: N;
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

/** Keeps the tool's literal name and schemas in its type, so the registry can map names to schemas. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject, N extends string>(
  tool: ToolDefinition<I, O, N>,
): ToolDefinition<I, O, N> {
  return tool;
}

/** Marks text that came from data (descriptions, comments) so a model treats it as content, not instructions. */
export function fenceUntrusted(text: string | null | undefined): string {
  if (!text) return '';
  return `«${text.replace(/[«»]/g, '"')}»`;
}
