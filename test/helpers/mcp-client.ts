import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { expect } from 'vitest';
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

type ToolResult = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: unknown };

/** Calls a tool as a client would, with its text answer joined into one string. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  return { ...result, text: result.content.map((c) => c.text).join('\n') };
}

/** Calls a tool that must succeed and returns its structured answer. */
export async function callOk<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await callTool(client, name, args);
  expect(result.isError, result.text).toBeFalsy();
  return result.structuredContent as T;
}
