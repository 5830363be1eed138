import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { ServiceContext } from '../context.js';
import type { ToolSelection } from '../registry.js';
import { createMcpServer } from '../server.js';

/**
 * Answers one Streamable HTTP request statelessly: a fresh server bound to the caller's context, so
 * every request is authorised on its own and any instance behind a load balancer can answer it. `tools`
 * is what this request's session may use (the server's selection narrowed by its headers).
 */
export async function handleMcpRequest(
  request: Request,
  ctx: ServiceContext,
  tools: ToolSelection = {},
): Promise<Response> {
  const server = createMcpServer(ctx, tools);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    // The JSON response is complete once handleRequest resolves; release the per-request server.
    void server.close();
  }
}
