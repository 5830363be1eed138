import { z } from 'zod';

/** Coded errors whose message a person can act on; transports map the code (HTTP status, MCP isError, chat text). */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'forbidden'
  | 'unauthenticated'
  | 'conflict'
  | 'unavailable'
  | 'internal';

export class DataOpsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataOpsError';
    this.code = code;
  }
}

export function isDataOpsError(error: unknown): error is DataOpsError {
  return error instanceof DataOpsError;
}

/**
 * The coded error itself, or one a wrapper carries as its cause: drizzle wraps a driver's error (e.g. the
 * embedded database's worker stopping) in its own query error, whose message would only show the SQL.
 */
export function codedError(error: unknown): DataOpsError | null {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isDataOpsError(e)) return e;
  }
  return null;
}

// Zod's own wording for a missing value is "expected string, received undefined", which reads like a bug to a
// person. Every schema in the product (tool inputs, rule configs, files) says "required" instead.
z.config({
  customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined),
});

/** Every problem zod found, each named by its path ("limit: too big; query: required"); `root` names an empty path. */
export function zodProblems(error: z.ZodError, root = 'input'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
