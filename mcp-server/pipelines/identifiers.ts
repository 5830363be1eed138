import { z } from 'zod';

/** Postgres keeps at most 63 bytes of a name (NAMEDATALEN - 1) and cuts a longer one silently, even mid-character. */
export const maxIdentifierBytes = 63;

const utf8 = new TextEncoder();
const byteLength = (text: string) => utf8.encode(text).length;

/**
 * A table, schema or column name: limited in bytes, not characters, so `月次売上集計表` (7 characters, 21 bytes)
 * counts as 21 and a name Postgres would cut is refused here instead.
 */
export const identifier = () =>
  z
    .string()
    .min(1)
    .refine((text) => byteLength(text) <= maxIdentifierBytes, {
      message: `is longer than ${maxIdentifierBytes} bytes (UTF-8), the most Postgres keeps of a name; shorten it`,
    });

/**
 * `base` followed by `suffix`, with `base` cut (on a character boundary) so the whole stays within
 * Postgres's 63 bytes: a derived name (a dev table, a quarantine table) is never truncated by the database into
 * another table's name.
 */
export function suffixedIdentifier(base: string, suffix: string): string {
  const room = maxIdentifierBytes - byteLength(suffix);
  let cut = '';
  let used = 0;
  for (const character of base) {
    const size = byteLength(character);
    if (used + size > room) break;
    cut += character;
    used += size;
  }
  return cut + suffix;
}

/** `name` cut on a character boundary to the 63 bytes Postgres keeps. */
export function cutIdentifier(name: string): string {
  return suffixedIdentifier(name, '');
}

/** The name of a table in dev: beside the prod one, suffixed `_dev` (see suffixedIdentifier). */
export function devTableName(table: string): string {
  return suffixedIdentifier(table, '_dev');
}
