import { DataOpsError } from '../../core/errors.js';

/**
 * The deepest offset a cursor may hold. No page a person or a model reads is that deep (narrow the
 * search instead), and a larger number would only reach the database as an overflowing OFFSET.
 */
export const maxCursorOffset = 100_000;

/** Opaque pagination cursors: callers pass back `nextCursor` as it is. */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o: unknown }).o;
  } catch {
    // fall through to the error below
  }
  if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) {
    if (offset > maxCursorOffset) {
      throw new DataOpsError(
        'invalid_input',
        `the cursor points past result ${maxCursorOffset}, deeper than pages go: narrow the search with words or filters instead`,
      );
    }
    return offset;
  }
  throw new DataOpsError(
    'invalid_input',
    'the cursor is not one this server issued: pass `nextCursor` from the previous page unchanged',
  );
}
