import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  isJSONRPCRequest,
  isJSONRPCResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import type { ServiceContext } from '../context.js';
import { loadingMessage, type RuntimeSource } from '../runtime/startup.js';

/** Requests whose handlers read the catalog; everything else (initialize, ping, the lists of tools and prompts) is answered at once. */
const catalogMethods = new Set(['tools/call', 'resources/list', 'resources/read', 'completion/complete']);

/**
 * Lets an MCP server answer before its runtime is ready. The transport passes `initialize`, `tools/list` and
 * the like straight through; a request that reads the catalog waits until the catalog is open (migrated) and
 * the demo loaded, and if the demo is still loading after DATAOPS_LOADING_WAIT seconds, it is answered with what is
 * loading instead: a tool result with `isError` (the model relays it), or an error for other requests.
 * The context (the principal loaded once, as before) is only read after that wait, so it can be filled in then.
 * `settledIn` resolves when the client has settled in, the moment to start opening the catalog.
 */
export function waitForCatalog(
  inner: Transport,
  source: RuntimeSource,
  principalId: string,
): { transport: Transport; ctx: ServiceContext; settledIn: Promise<void> } {
  let settle!: () => void;
  // Opening an embedded catalog the first time takes seconds of CPU (a worker thread starts, PGlite runs
  // initdb): on a small machine that would slow the first answers a client waits for, so it starts once the
  // client has its tool list, asks for the catalog, leaves, or 2 s after `initialize` was answered.
  const settledIn = new Promise<void>((resolve) => {
    settle = resolve;
  });
  let fallback: NodeJS.Timeout | undefined;
  void settledIn.then(() => clearTimeout(fallback));
  const listRequests = new Set<string | number>();
  let initializeId: string | number | undefined;
  let bound: ServiceContext | undefined;
  let binding: Promise<void> | undefined;
  const ready = async () => {
    const runtime = await source.whenReady();
    binding ??= runtime.contextFor(principalId).then((ctx) => {
      bound = ctx;
    });
    await binding.catch((error: unknown) => {
      binding = undefined; // an unknown --as is reported on every call, not remembered as a broken promise
      throw error;
    });
  };
  const ctx = new Proxy({} as ServiceContext, {
    get(_, key) {
      if (!bound) throw new DataOpsError('unavailable', loadingMessage({ state: 'opening' }));
      return bound[key as keyof ServiceContext];
    },
  });

  const transport: Transport = {
    start: async () => {
      inner.onclose = () => {
        settle();
        transport.onclose?.();
      };
      inner.onerror = (error) => transport.onerror?.(error);
      inner.onmessage = (message, extra) => {
        if (isJSONRPCRequest(message) && catalogMethods.has(message.method)) settle();
        if (isJSONRPCRequest(message) && message.method === 'tools/list') listRequests.add(message.id);
        if (isJSONRPCRequest(message) && message.method === 'initialize') initializeId = message.id;
        if (!isJSONRPCRequest(message) || !catalogMethods.has(message.method) || bound) {
          transport.onmessage?.(message, extra);
          return;
        }
        ready().then(
          () => transport.onmessage?.(message, extra),
          (error: unknown) => void inner.send(refusal(message.id, message.method, error)).catch(() => {}),
        );
      };
      await inner.start();
    },
    send: async (message, options) => {
      await inner.send(message, options);
      if (isJSONRPCResponse(message) && listRequests.has(message.id)) settle();
      if (isJSONRPCResponse(message) && message.id === initializeId) fallback ??= setTimeout(settle, 2_000);
    },
    close: () => inner.close(),
    setProtocolVersion: (version) => inner.setProtocolVersion?.(version),
  };
  return { transport, ctx, settledIn };
}

function refusal(id: string | number, method: string, error: unknown): JSONRPCMessage {
  const message = isDataOpsError(error) ? error.message : `DataOps could not open the catalog: ${String(error)}`;
  if (method === 'tools/call') {
    return { jsonrpc: '2.0', id, result: { isError: true, content: [{ type: 'text', text: message }] } };
  }
  return { jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message } };
}
