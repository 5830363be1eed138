import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ZodError } from 'zod';
import { codedError, DataOpsError, type ErrorCode, zodProblems } from '../core/errors.js';
import type { ServiceContext } from './context.js';
import { recordToolCall } from './governance/audit.js';
import { maxJsonDepth, nestsDeeperThan } from './json-text.js';
import type { ToolDefinition } from './tool.js';

/**
 * Runs a tool as the context's principal: validates the arguments, calls the handler and records the call
 * (principal, tool, target, argument digest, outcome) in the audit log. Every surface (MCP over stdio and
 * HTTP, the JSON API, the CLI) calls tools only through here, so no call goes unaudited and every surface
 * rejects bad input with the same message.
 *
 * The audit row is written after the call, in its own transaction: one insert on the read path. If it
 * cannot be written the call fails, because an answer that left no trace must not be handed out.
 */
export async function runTool<I extends z.ZodObject, O extends z.ZodObject>(
  tool: ToolDefinition<I, O>,
  args: unknown,
  ctx: ServiceContext,
): Promise<z.infer<O>> {
  const outcome: 'ok' | ErrorCode = 'ok';
  let output: z.infer<O>;
  // Validation, the audit digest and storage all recurse: arguments nested beyond reason are refused
  // first, and audited by a stand-in, since their own digest would overflow the stack.
  if (nestsDeeperThan(args, maxJsonDepth)) {
    const error = new DataOpsError(
      'invalid_input',
      `invalid arguments for ${tool.name}: nested deeper than ${maxJsonDepth} levels of arrays and objects`,
    );
    await auditFailedCall(ctx, tool.name, { nestedDeeperThan: maxJsonDepth }, error);
    throw error;
  }
  try {
    output = await tool.handler(parseToolInput(tool, args), ctx);
  } catch (error) {
    await auditFailedCall(ctx, tool.name, args, error);
    throw error;
  }
  await recordToolCall(ctx, tool.name, args, outcome);
  return output;
}

/**
 * Records a call that failed, outcome the error's code. Also for a surface that could not even read the
 * arguments (a request body that is not JSON): `args` then stands in for them.
 */
export async function auditFailedCall(ctx: ServiceContext, tool: string, args: unknown, error: unknown): Promise<void> {
  const outcome: ErrorCode = codedError(error)?.code ?? 'internal';
  await recordToolCall(ctx, tool, args, outcome).catch((auditError: unknown) => {
    // The tool's own error is what the caller must see; the lost audit row goes to the operator.
    ctx.logger.error('could not audit a failed tool call', { tool, error: String(auditError) });
  });
}

/**
 * The message a person sees for an error, on every surface (MCP, the JSON API, the CLI): a DataOpsError's own
 * message, a zod error's problems, and for anything else an incident id; internals are logged, never shown.
 */
export function errorMessage(error: unknown, ctx: Pick<ServiceContext, 'logger'>): string {
  const coded = codedError(error);
  if (coded) return coded.message;
  if (error instanceof ZodError) return `invalid arguments: ${zodProblems(error)}`;
  const incident = randomUUID().slice(0, 8);
  ctx.logger.error('internal error', { incident, error: String((error as Error)?.stack ?? error) });
  return `internal error (incident ${incident}); the server log has the details`;
}

/** The tool's arguments, validated; bad input becomes one `invalid_input` error naming each problem. */
function parseToolInput<I extends z.ZodObject>(tool: ToolDefinition<I>, args: unknown): z.infer<I> {
  let input: z.infer<I>;
  try {
    input = tool.input.parse(args ?? {});
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const problems = zodProblems(error);
    throw new DataOpsError('invalid_input', `invalid arguments for ${tool.name}: ${problems}`, { cause: error });
  }
  // Postgres text cannot hold U+0000 nor half a surrogate pair: refuse them here, not with an encoding error.
  const bad = unstorableText(input, []);
  if (bad) throw new DataOpsError('invalid_input', `invalid arguments for ${tool.name}: ${bad}`);
  return input;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with the first string (or object key) Postgres could not store, or null. */
function unstorableText(value: unknown, path: string[]): string | null {
  const where = path.join('.') || 'input';
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return `${where} contains a NUL character`;
    if (loneSurrogate.test(value)) return `${where} is not valid Unicode (half of a surrogate pair)`;
    return null;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableText(item, [...path, String(i)]);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = unstorableText(key, [...path, 'key']) ?? unstorableText(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
