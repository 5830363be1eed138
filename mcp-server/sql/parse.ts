import { hasSqlDetails, loadModule, parseSync, scanSync } from 'libpg-query';
import { DataOpsError } from '../../core/errors.js';

/**
 * The real PostgreSQL parser (libpg_query compiled to WASM): lineage reads view and model SQL with
 * it, and quality rules and pipelines check expressions with it, so what we accept is what Postgres accepts.
 */

// biome-ignore lint/suspicious/noExplicitAny: libpg_query's JSON parse tree, walked generically by its node names
export type PgNode = Record<string, any>;

let loading: Promise<void> | undefined;

async function ready(): Promise<void> {
  loading ??= loadModule();
  await loading;
}

/** Parses SQL into statements; a syntax error becomes one line that says where. */
export async function parseSql(text: string): Promise<PgNode[]> {
  await ready();
  try {
    return (parseSync(text).stmts ?? []).map((s) => s.stmt as PgNode);
  } catch (error) {
    const position = hasSqlDetails(error) ? error.sqlDetails?.cursorPosition : undefined;
    const where = position === undefined ? '' : ` at character ${position + 1}`;
    throw new DataOpsError('invalid_input', `could not parse the SQL${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Tokens of already-parsed SQL with byte offsets, as the parse tree's `location`s are. */
export function scanSql(text: string): { start: number; end: number; text: string; keyword: boolean }[] {
  return scanSync(text).tokens.map((t) => ({
    start: t.start,
    end: t.end,
    text: t.text,
    keyword: t.keywordName === 'RESERVED_KEYWORD',
  }));
}
