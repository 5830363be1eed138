import { DataOpsError } from '../../core/errors.js';
import { narrowSelection, parseToolsets, type ToolSelection } from '../../mcp-server/registry.js';

/** Headers a client sends on every request to narrow the tools of its session, as GitHub's MCP server reads them. */
export const toolsetsHeader = 'X-MCP-Toolsets';
export const readOnlyHeader = 'X-MCP-Readonly';

/**
 * The tools one HTTP session may use: the server's selection narrowed by the request's headers. A header may
 * narrow (fewer toolsets, read-only), never widen: a toolset the server does not offer is refused.
 */
export function sessionSelection(server: ToolSelection, header: (name: string) => string | undefined): ToolSelection {
  const toolsets = header(toolsetsHeader);
  const readOnly = header(readOnlyHeader);
  if (toolsets === undefined && readOnly === undefined) return server;
  return narrowSelection(
    server,
    {
      toolsets: toolsets === undefined ? undefined : parseToolsets(toolsets, `the ${toolsetsHeader} header`),
      readOnly: readOnly === undefined ? false : parseFlag(readOnly),
    },
    `the ${toolsetsHeader} header`,
  );
}

function parseFlag(value: string): boolean {
  const flag = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(flag)) return true;
  if (['false', '0', 'no', 'off', ''].includes(flag)) return false;
  throw new DataOpsError('invalid_input', `the ${readOnlyHeader} header is true or false, not "${value}"`);
}
