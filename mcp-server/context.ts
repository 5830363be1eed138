import type { Db } from '../db/create-db.js';
import type { Classification, Role } from '../db/schema/types.js';
import type { Embedder } from './catalog/embeddings/embedder.js';
import type { SecretBox } from './connectors/source-credentials.js';

/** Who is asking. Access decisions in every service are made from this, never from a prompt. */
export interface Principal {
  id: string;
  displayName: string;
  clearance: Classification;
  roles: Role[];
  /** Restricted domains this principal may see (need-to-know). */
  domains: string[];
  groups: string[];
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything a service call needs, passed explicitly: no globals, no connections made at import time. */
export interface ServiceContext {
  db: Db;
  principal: Principal;
  clock: () => Date;
  logger: Logger;
  embedder: Embedder;
  /** Seals the connections kept for sources; null when the workspace has no secret key (they are not kept). */
  secrets: SecretBox | null;
  /** Where pipeline file destinations write (`<data dir>/exports`); absent where files are not written. */
  exportsDir?: string;
}

/** Logs one JSON line per event to stderr, so stdout stays free for MCP over stdio and `--json` output. */
export function createJsonLogger(level: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const order = { info: 0, warn: 1, error: 2, silent: 3 };
  const write = (lvl: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    process.stderr.write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), message, ...fields })}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
