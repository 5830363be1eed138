import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ServiceContext } from '../context.js';
import type { ToolSelection } from '../registry.js';
import { createMcpServer } from '../server.js';

/** Serves MCP over stdin/stdout as one principal, offering the selected tools, until the client closes the pipe. */
export async function serveStdio(ctx: ServiceContext, tools: ToolSelection = {}): Promise<void> {
  const server = createMcpServer(ctx, tools);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
