import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { ServiceContext } from '../context.js';
import { createMcpServer } from '../server.js';

/**
 * Answers one Streamable HTTP request statelessly: a fresh server bound to the caller's context, so
 * every request is authorised on its own and any instance behind a load balancer can answer it.
 */
export async function handleMcpRequest(request: Request, ctx: ServiceContext): Promise<Response> {
  const server = createMcpServer(ctx);
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
