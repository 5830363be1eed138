import { parseToolsets, type ToolSelection } from '../mcp-server/registry.js';
import type { Env } from '../mcp-server/runtime/config.js';

/** The tools `dataops mcp` or `dataops start` offers: `--toolsets` (else DATAOPS_TOOLSETS), `--read-only` (or DATAOPS_READ_ONLY). */
export function toolSelection(options: { toolsets?: string; readOnly?: boolean }, env: Env): ToolSelection {
  const [list, from] =
    options.toolsets !== undefined ? [options.toolsets, '--toolsets'] : [env.DATAOPS_TOOLSETS, 'DATAOPS_TOOLSETS'];
  return {
    toolsets: list === undefined ? undefined : parseToolsets(list, from),
    readOnly: Boolean(options.readOnly || env.DATAOPS_READ_ONLY),
  };
}
