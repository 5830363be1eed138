import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ServiceContext } from '../context.js';
import { createMcpServer } from '../server.js';

/** Serves MCP over stdin/stdout as one principal, until the client closes the pipe. */
export async function serveStdio(ctx: ServiceContext): Promise<void> {
  const server = createMcpServer(ctx);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
