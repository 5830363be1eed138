import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, maxCursorOffset } from './cursor.js';

const forged = (o: unknown) => Buffer.from(JSON.stringify({ o })).toString('base64url');

describe('pagination cursors', () => {
  it('round-trip the offsets pages use', () => {
    for (const offset of [0, 10, 950, maxCursorOffset]) expect(decodeCursor(encodeCursor(offset))).toBe(offset);
  });

  it('refuse an offset too deep to page to, with a message that says what to do', () => {
    for (const offset of [1e300, Number.MAX_SAFE_INTEGER, maxCursorOffset + 1]) {
      expect(() => decodeCursor(forged(offset))).toThrow(/deeper than pages go: narrow the search/);
    }
  });

  it('refuse anything this server did not issue', () => {
    for (const cursor of ['', 'not-base64!', forged(-1), forged(1.5), forged('10'), 'bnVsbA']) {
      expect(() => decodeCursor(cursor)).toThrow(/the cursor is not one this server issued/);
    }
  });
});
