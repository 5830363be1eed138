/** Query parameters that carry a secret in libpq and driver connection strings. */
const secretParams = new Set(['password', 'pass', 'pwd', 'sslpassword']);

/** Removes the password from a connection URL, in the user info and in the query string, so it can be shown and stored. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (secretParams.has(key.toLowerCase())) parsed.searchParams.delete(key);
    }
    return parsed.toString().replace(/:@/, '@');
  } catch {
    return url
      .replace(/\/\/([^:/@]+):[^@]*@/, '//$1@')
      .replace(/([?&])(password|pass|pwd|sslpassword)=[^&#]*&?/gi, '$1')
      .replace(/[?&]$/, '');
  }
}

/** One line a person can act on, e.g. `could not connect to postgres://app@db:5432/x: connection refused`. */
export function describeConnectionError(url: string, error: unknown): string {
  const err = error as { code?: string; message?: string; errno?: number };
  const where = redactUrl(url);
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host not found',
    ETIMEDOUT: 'connection timed out',
    CONNECT_TIMEOUT: 'connection timed out',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    '28P01': 'password authentication failed',
    '28000': 'authentication rejected',
    '3D000': 'database does not exist',
    ER_ACCESS_DENIED_ERROR: 'access denied (check the user name and password)',
    ER_BAD_DB_ERROR: 'database does not exist',
  };
  const reason = (err.code && reasons[err.code]) || firstLine(err.message) || 'unknown error';
  return `could not connect to ${where}: ${reason}`;
}

function firstLine(text: string | undefined): string | undefined {
  return text?.split('\n')[0]?.trim() || undefined;
}
