import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { RuntimeSource } from '../runtime/startup.js';
import { createMcpServer } from '../server.js';
import { waitForCatalog } from './wait-for-catalog.js';

/**
 * Serves MCP over stdin/stdout as one principal, until the client closes the pipe or `signal` aborts (the
 * catalog could not open). It answers at once: requests that read the catalog wait for the runtime.
 */
export async function serveStdio(source: RuntimeSource, principalId: string, signal?: AbortSignal): Promise<void> {
  const { transport, ctx } = waitForCatalog(new StdioServerTransport(), source, principalId);
  const server = createMcpServer(ctx);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
    signal?.addEventListener('abort', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
