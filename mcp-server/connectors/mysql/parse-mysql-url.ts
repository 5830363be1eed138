import { DataOpsError } from '../../../core/errors.js';

/** Where and how to connect, parsed from a `mysql://` or `mariadb://` URL. */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The one database to describe; null means every non-system database the user can see. */
  database: string | null;
  socketPath?: string;
  /** TLS: absent for a plain connection; `rejectUnauthorized` false only when asked for encryption without verification. */
  ssl?: { rejectUnauthorized: boolean };
  /** The URL without password or query, safe to store and show. */
  location: string;
}

const DEFAULT_PORT = 3306;
const TLS_VERIFY = new Set(['true', '1', 'verify_ca', 'verify-ca', 'verify_identity', 'verify-full']);
const TLS_NO_VERIFY = new Set(['required', 'require']);
const TLS_OFF = new Set(['false', '0', 'disabled', 'disable']);
const EXAMPLE = 'mysql://user:password@host:3306/database';

function invalid(message: string, cause?: unknown): DataOpsError {
  return new DataOpsError('invalid_input', `${message}; expected a URL like ${EXAMPLE}`, { cause });
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw invalid(`the ${what} in the MySQL URL is not valid percent-encoding`, error);
  }
}

function parseTls(name: string, value: string): MysqlTarget['ssl'] {
  const v = value.toLowerCase();
  if (TLS_VERIFY.has(v)) return { rejectUnauthorized: true };
  if (TLS_NO_VERIFY.has(v)) return { rejectUnauthorized: false };
  if (TLS_OFF.has(v)) return undefined;
  throw invalid(`unsupported ${name}=${value} in the MySQL URL (use true, required, verify_identity or disabled)`);
}

/** Parses a `mysql://` or `mariadb://` URL; throws `invalid_input` with a readable message when it is malformed. */
export function parseMysqlUrl(url: string): MysqlTarget {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch (error) {
    throw invalid('the MySQL URL could not be parsed', error);
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'mysql' && scheme !== 'mariadb') {
    throw invalid(`the URL scheme must be mysql:// or mariadb://, not ${scheme}://`);
  }

  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw invalid('the MySQL URL has no host');
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`port ${parsed.port} is not valid`);

  const user = decode(parsed.username, 'user name');
  if (!user) throw invalid('the MySQL URL has no user name');
  const password = decode(parsed.password, 'password');

  const path = parsed.pathname.replace(/^\//, '').replace(/\/$/, '');
  if (path.includes('/')) throw invalid(`"${parsed.pathname}" is not a database name`);
  const database = path ? decode(path, 'database name') : null;

  const target: MysqlTarget = { host, port, user, password, database, location: '' };
  for (const [name, value] of parsed.searchParams) {
    if (name === 'ssl' || name === 'sslmode' || name === 'ssl-mode') target.ssl = parseTls(name, value);
    else if (name === 'socket') target.socketPath = value;
    else throw invalid(`unsupported option "${name}" in the MySQL URL (supported: ssl, sslmode, socket)`);
  }

  // Rebuilt rather than edited so no password, query or fragment survives; the port is always spelled out
  // so that the same server reads the same however the URL was written.
  const hostPart = host.includes(':') ? `[${host}]` : host;
  target.location = `${scheme}://${parsed.username}@${hostPart}:${port}${path ? `/${path}` : ''}`;
  return target;
}
