import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ServiceContext } from '../../mcp-server/context.js';
import { createMcpServer } from '../../mcp-server/server.js';

/** A real MCP client connected in memory to a server acting as the context's principal. */
export async function connectMcpClient(ctx: ServiceContext): Promise<Client> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await createMcpServer(ctx).connect(serverTransport);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientTransport);
  return client;
}
