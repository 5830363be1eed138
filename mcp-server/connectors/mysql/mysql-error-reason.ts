interface DriverError {
  code?: string;
  sqlMessage?: string;
  message?: string;
  errors?: unknown[];
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name could not be resolved (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOENT: 'socket file not found',
  EACCES: 'permission denied on the socket file',
  PROTOCOL_CONNECTION_LOST: 'the server closed the connection',
  HANDSHAKE_NO_SSL_SUPPORT: 'the server does not support TLS',
};

function asDriverError(error: unknown): DriverError {
  return typeof error === 'object' && error !== null ? (error as DriverError) : { message: String(error) };
}

function firstLine(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.charAt(0).toLowerCase() + line.slice(1);
}

/**
 * A short, lower-case reason for a failed MySQL call ("connection refused", "access denied for user 'x'@'y'
 * (using password: YES)", "unknown database 'z'"), fit to follow "could not connect to <location>: ".
 * The password is scrubbed in case a driver or server ever echoes it.
 */
export function mysqlErrorReason(error: unknown, password = ''): string {
  let err = asDriverError(error);
  // Node's happy-eyeballs connect (e.g. to `localhost`, which resolves to ::1 and 127.0.0.1) reports an
  // AggregateError whose own message is empty; the first attempt's error says what happened.
  if (!err.code && Array.isArray(err.errors) && err.errors.length > 0) err = asDriverError(err.errors[0]);

  let reason: string;
  if (err.sqlMessage) reason = firstLine(err.sqlMessage);
  else if (err.code && NETWORK_REASONS[err.code]) reason = NETWORK_REASONS[err.code]!;
  else reason = firstLine(err.message || err.code || 'unknown error');

  if (password.length >= 3) reason = reason.split(password).join('***');
  return reason;
}
