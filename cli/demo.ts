import type { SyncSummary } from '../mcp-server/catalog/sync.js';
import type { Workspace } from './workspace.js';

export async function loadDemo(_ws: Workspace, _log: (message: string) => void): Promise<SyncSummary> {
  throw new Error('demo pending');
}
