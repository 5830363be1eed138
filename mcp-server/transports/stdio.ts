import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ToolSelection } from '../registry.js';
import type { RuntimeSource } from '../runtime/startup.js';
import { createMcpServer } from '../server.js';
import { waitForCatalog } from './wait-for-catalog.js';

export interface StdioOptions {
  /** Ends serving (the catalog could not open). */
  signal?: AbortSignal;
  /** The tools offered (all by default). */
  tools?: ToolSelection;
  /** Called once the client has settled in (see waitForCatalog): the moment to open the catalog. */
  onSettled?: () => void;
}

/**
 * Serves MCP over stdin/stdout as one principal, until the client closes the pipe or `signal` aborts. It
 * answers at once: requests that read the catalog wait for the runtime.
 */
export async function serveStdio(
  source: RuntimeSource,
  principalId: string,
  options: StdioOptions = {},
): Promise<void> {
  const { signal, onSettled, tools = {} } = options;
  const { transport, ctx, settledIn } = waitForCatalog(new StdioServerTransport(), source, principalId);
  // Once what was answered has reached the pipe: opening the catalog may hold this thread before it is flushed.
  if (onSettled) void settledIn.then(() => process.stdout.write('', () => onSettled()));
  const server = createMcpServer(ctx, tools);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
    signal?.addEventListener('abort', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
