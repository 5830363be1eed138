import { DataOpsError } from '../errors.js';

/** Opaque pagination cursors: callers pass back `nextCursor` as it is. */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const { o } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o: unknown };
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through to the error below
  }
  throw new DataOpsError(
    'invalid_input',
    'the cursor is not one this server issued: pass `nextCursor` from the previous page unchanged',
  );
}
