import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { DataOpsError, type ErrorCode, isDataOpsError } from '../../core/errors.js';
import type { ServiceContext } from '../../mcp-server/context.js';
import { looksLikeJwt, type OidcVerifier } from '../../mcp-server/governance/oidc.js';
import { principalForToken } from '../../mcp-server/governance/principals.js';
import { parseJsonText } from '../../mcp-server/json-text.js';
import { ingestOpenLineage } from '../../mcp-server/lineage/openlineage.js';
import {
  auditRefusedLineage,
  ndjsonContentTypes,
  parseLineageBody,
} from '../../mcp-server/lineage/openlineage-body.js';
import { notEnabledReason, selectTools, type ToolSelection, toolByName } from '../../mcp-server/registry.js';
import { auditFailedCall, errorMessage, runTool } from '../../mcp-server/run-tool.js';
import { loadingMessage, type RuntimeSource } from '../../mcp-server/runtime/startup.js';
import { handleMcpRequest } from '../../mcp-server/transports/http.js';
import { createHostCheck } from './host-check.js';
import { sessionSelection } from './session-tools.js';

export interface AppOptions {
  /**
   * The runtime, or a startup still opening it: /healthz reports where it is, and /mcp and /api wait for it
   * (for at most DATAOPS_LOADING_WAIT seconds, then a 503 saying what is still loading).
   */
  runtime: RuntimeSource;
  /** `local`: requests without a token act as `localPrincipal` (loopback desktop use); `required`: every request needs a token. */
  auth: 'local' | 'required';
  localPrincipal: string;
  /** Host names (optionally with port) the server answers to. */
  allowedHosts: string[];
  /** Hosts (optionally with port) whose pages may call the server besides its own origin, e.g. a proxy's public name. */
  allowedOrigins?: string[];
  /** Largest request body accepted on /api and /mcp, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  clock?: () => Date;
  /** Sign-in with an identity provider's tokens, besides our API tokens. */
  oidc?: { issuer: string; verify: OidcVerifier };
  /** The tools this server offers (`--toolsets`, `--read-only`); a request may narrow it with headers. */
  tools?: ToolSelection;
}

const statusByCode: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

type Variables = { ctx: ServiceContext; tools: ToolSelection };

const defaultMaxBodyBytes = 4 * 1024 * 1024;

function contentType(header: string | undefined): string {
  return header?.split(';')[0]?.trim().toLowerCase() ?? '';
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** The HTTP surface: /healthz, MCP over Streamable HTTP at /mcp, and the JSON API under /api. */
export function createApp(options: AppOptions) {
  const app = new Hono<{ Variables: Variables }>();
  const checkHost = createHostCheck({ allowedHosts: options.allowedHosts, allowedOrigins: options.allowedOrigins });
  const clock = options.clock ?? (() => new Date());
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;

  app.use('*', async (c, next) => {
    // The URL's host is the Host header on a real server (node-server builds the URL from it) and
    // stays correct under app.request(), where fetch forbids setting Host.
    const problem = checkHost({
      url: c.req.url,
      host: c.req.header('host') ?? new URL(c.req.url).host,
      origin: c.req.header('origin'),
    });
    if (problem) return c.json({ error: { code: 'forbidden', message: problem } }, 403);
    await next();
  });

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) =>
      c.json(
        {
          error: {
            code: 'invalid_input',
            message: `the request body is larger than the ${formatBytes(maxBodyBytes)} this server accepts`,
          },
        },
        413,
      ),
  });
  app.use('/mcp', limitBody);
  app.use('/api/*', limitBody);

  // A JSON content type cannot be sent cross-site without a CORS preflight, which this server never grants;
  // text/plain or form posts from another page (or a sandboxed frame) are refused before they run a tool.
  app.use('/api/*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = contentType(c.req.header('content-type'));
    // NDJSON types are not CORS-safelisted either, so they need the same preflight.
    const lineage = c.req.path === '/api/v1/lineage';
    if (type !== 'application/json' && !(lineage && ndjsonContentTypes.includes(type))) {
      const wanted = lineage ? 'application/json or application/x-ndjson' : 'application/json';
      return c.json(
        {
          error: {
            code: 'invalid_input',
            message: `POST ${c.req.path} needs Content-Type: ${wanted}, not ${type ? `"${type}"` : 'none'}`,
          },
        },
        415,
      );
    }
    await next();
  });

  // 200 once tools run; 503 while the catalog opens or the demo loads, so a load balancer or a script waits.
  app.get('/healthz', (c) => {
    const status = options.runtime.status();
    if (status.state === 'ready') return c.json({ status: 'ok' });
    if (status.state === 'failed') return c.json({ status: 'failed', message: status.message }, 503);
    return c.json({ status: 'loading', message: loadingMessage(status) }, 503);
  });

  // OAuth protected-resource metadata (RFC 9728): how an MCP client finds out where to get a token.
  const resourceMetadata = (c: { req: { url: string } }) => {
    const origin = new URL(c.req.url).origin;
    return {
      resource: `${origin}/mcp`,
      resource_name: 'DataOps',
      authorization_servers: options.oidc ? [options.oidc.issuer] : [],
      bearer_methods_supported: ['header'],
    };
  };
  app.get('/.well-known/oauth-protected-resource', (c) => c.json(resourceMetadata(c)));
  app.get('/.well-known/oauth-protected-resource/mcp', (c) => c.json(resourceMetadata(c)));

  const authenticate = async (authorization: string | undefined): Promise<ServiceContext | string> => {
    const runtime = await options.runtime.whenReady();
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (token && options.oidc && looksLikeJwt(token)) {
      const result = await options.oidc.verify(token);
      if ('problem' in result) return result.problem;
      return runtime.contextFor(result.principalId).catch((error: Error) => error.message);
    }
    if (token) {
      const principal = await principalForToken(runtime.database.db, token, clock());
      if (!principal)
        return 'the bearer token is unknown, revoked or expired: create one with `dataops token create --as <principal>`';
      return runtime.contextFor(principal.id);
    }
    if (authorization) return 'the Authorization header must be `Bearer <token>`';
    if (options.auth === 'local') return runtime.contextFor(options.localPrincipal);
    return 'this server requires a bearer token: create one with `dataops token create --as <principal>`';
  };

  const requireAuth = createMiddleware<{ Variables: Variables }>(async (c, next) => {
    const result = await authenticate(c.req.header('authorization'));
    if (typeof result === 'string') {
      const metadata = `${new URL(c.req.url).origin}/.well-known/oauth-protected-resource/mcp`;
      c.header('WWW-Authenticate', `Bearer realm="dataops", resource_metadata="${metadata}"`);
      return c.json({ error: { code: 'unauthenticated', message: result } }, 401);
    }
    c.set('ctx', result);
    await next();
  });
  // The tools a request may use: the server's selection, narrowed by the X-MCP-Toolsets / X-MCP-Readonly headers.
  const toolSelection = createMiddleware<{ Variables: Variables }>(async (c, next) => {
    c.set(
      'tools',
      sessionSelection(options.tools ?? {}, (name) => c.req.header(name)),
    );
    await next();
  });
  app.use('/mcp', requireAuth, toolSelection);
  app.use('/api/*', requireAuth);
  // `/api/tools/*` also matches `/api/tools` itself.
  app.use('/api/tools/*', toolSelection);

  app.all('/mcp', (c) => handleMcpRequest(c.req.raw, c.get('ctx'), c.get('tools')));

  // The same tools as MCP, as plain JSON, for the web app and scripts: one surface, one permission model.
  app.get('/api/tools', (c) =>
    c.json({
      tools: selectTools(c.get('tools')).map((t) => ({ name: t.name, title: t.title, description: t.description })),
    }),
  );
  app.post('/api/tools/:name', async (c) => {
    const tool = toolByName(c.req.param('name'));
    if (!tool) throw new DataOpsError('not_found', `no tool named ${c.req.param('name')}: GET /api/tools lists them`);
    const notEnabled = notEnabledReason(tool, c.get('tools'));
    if (notEnabled) {
      const error = new DataOpsError('forbidden', notEnabled);
      await auditFailedCall(c.get('ctx'), tool.name, { notEnabled: true }, error);
      throw error;
    }
    let args: unknown;
    try {
      args = parseJsonText(await c.req.text(), 'the request body (a JSON object of tool arguments)', {
        checkDepth: true,
      });
    } catch (error) {
      // Refused before runTool could audit it: audited here, the unreadable body standing in for the arguments.
      await auditFailedCall(c.get('ctx'), tool.name, { unreadableBody: true }, error);
      throw error;
    }
    return c.json(await runTool(tool, args, c.get('ctx')));
  });

  // Where OpenLineage producers (Airflow, Spark, the dbt integration) send events, as they do to Marquez.
  app.post('/api/v1/lineage', async (c) => {
    const ctx = c.get('ctx');
    try {
      const events = parseLineageBody(await c.req.text(), contentType(c.req.header('content-type')));
      return c.json(await ingestOpenLineage(ctx, events), 201);
    } catch (error) {
      await auditRefusedLineage(ctx, error);
      throw error;
    }
  });

  app.onError((error, c) => {
    const code: ErrorCode = isDataOpsError(error)
      ? error.code
      : error instanceof ZodError
        ? 'invalid_input'
        : 'internal';
    const status = statusByCode[code];
    const ctx = c.get('ctx');
    const message = ctx ? errorMessage(error, ctx) : isDataOpsError(error) ? error.message : 'internal error';
    return c.json({ error: { code, message } }, status);
  });

  return app;
}
