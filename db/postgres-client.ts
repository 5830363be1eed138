import postgres from 'postgres';
import { DataOpsError } from '../core/errors.js';
import { describeConnectionError, redactUrl } from './connection-errors.js';

/** Seconds to wait for a Postgres server to answer, unless the URL says `?connect_timeout=`. */
export const defaultConnectTimeoutSeconds = 10;

/** The URL's `connect_timeout` (seconds, as libpq spells it), else the default. */
export function connectTimeoutOf(url: string): number {
  try {
    const value = Number(new URL(url).searchParams.get('connect_timeout') ?? Number.NaN);
    return Number.isFinite(value) && value > 0 ? value : defaultConnectTimeoutSeconds;
  } catch {
    return defaultConnectTimeoutSeconds;
  }
}

const example = 'postgres://user:password@host:5432/database';

/**
 * Parses a `postgres://` URL, refusing what the driver would fail on later with a bare "URI malformed":
 * a `%` in the user, password or database that is not percent-encoding (a literal `%` is written `%25`).
 */
export function checkPostgresUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new DataOpsError('invalid_input', `not a valid Postgres URL: ${redactUrl(url)} (expected ${example})`, {
      cause: error,
    });
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new DataOpsError('invalid_input', `not a Postgres URL: ${redactUrl(url)} (expected ${example})`);
  }
  const parts = { user: parsed.username, password: parsed.password, 'database name': parsed.pathname.slice(1) };
  for (const [what, part] of Object.entries(parts)) {
    try {
      decodeURIComponent(part);
    } catch (error) {
      throw new DataOpsError(
        'invalid_input',
        `the ${what} in the Postgres URL ${redactUrl(url)} has a % that is not percent-encoding: write a literal % as %25`,
        { cause: error },
      );
    }
  }
  return parsed;
}

/**
 * A postgres.js client whose server has answered a first query. postgres.js's `connect_timeout` stops
 * once TCP connects: a port where another protocol listens (an HTTP server, a proxy that accepts and
 * resets) would leave the first query waiting for ever, so that query races the same timeout. A server
 * that cannot be reached or refuses the login is one `unavailable` line naming the URL without its password.
 */
export async function openPostgres(url: string, options: postgres.Options<Record<string, never>> = {}) {
  const { url: driverUrl, path } = unixSocket(checkPostgresUrl(url), url);
  // On an embedded database's private socket nothing but Postgres answers, and a new connection waits its
  // turn behind a long statement as any work there does: no time limit.
  const seconds = path ? 0 : connectTimeoutOf(url);
  let sql: postgres.Sql;
  try {
    sql = postgres(driverUrl, { onnotice: () => {}, ...options, ...(path ? { path } : {}), connect_timeout: seconds });
  } catch (error) {
    throw new DataOpsError('invalid_input', `not a valid Postgres URL: ${redactUrl(url)}: ${firstLine(error)}`, {
      cause: error,
    });
  }
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_, reject) => {
    if (!seconds) return;
    timer = setTimeout(
      () =>
        reject(
          new DataOpsError(
            'unavailable',
            `could not connect to ${redactUrl(url)}: no Postgres answer within ${seconds} s ` +
              '(check the host and port: something that is not Postgres may be listening there)',
          ),
        ),
      seconds * 1000,
    );
  });
  try {
    await Promise.race([sql`select 1`, silence]);
  } catch (error) {
    // A stuck connection never finishes its query: drop it instead of waiting for it.
    await sql.end({ timeout: 0 }).catch(() => {});
    if (error instanceof DataOpsError) throw error;
    throw new DataOpsError('unavailable', describeConnectionError(url, error), { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return sql;
}

/**
 * libpq's spelling of a Unix socket, `?host=/a/directory` (how the embedded databases are reached), as the
 * socket path postgres.js wants; the driver would otherwise send `host` to the server as a setting.
 */
function unixSocket(parsed: URL, url: string): { url: string; path: string | null } {
  const dir = parsed.searchParams.get('host');
  if (!dir?.startsWith('/')) return { url, path: null };
  parsed.searchParams.delete('host');
  return { url: parsed.toString(), path: `${dir}/.s.PGSQL.${parsed.port || 5432}` };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}
