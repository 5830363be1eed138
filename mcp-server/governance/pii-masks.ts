import type { PiiKind } from './pii-detectors.js';

/**
 * The partial form of a personal value: enough to recognise a record you already know ("the one ending
 * 6789"), not enough to learn anything new. Used for classifier evidence and for readers who may see a
 * column but not its personal data in full. Kinds without a safe partial form are redacted.
 */
export function partialMask(kind: PiiKind | null, value: string): string {
  switch (kind) {
    case 'email': {
      const at = value.lastIndexOf('@');
      return at > 0 ? `${value[0]}***${value.slice(at)}` : redacted;
    }
    case 'ssn':
    case 'phone':
    case 'payment_card':
    case 'dod_id':
      return keepLastDigits(value, 4);
    case 'person_name':
      return value
        .split(/\s+/)
        .filter(Boolean)
        .map((word) => `${[...word][0]}***`)
        .join(' ');
    case 'date_of_birth': {
      const year = /^(\d{4})-\d{2}-\d{2}/.exec(value)?.[1];
      return year ? `${year}-**-**` : redacted;
    }
    case 'ip_address':
      return value.includes(':') ? `${value.split(':')[0]}:****` : `${value.split('.')[0]}.*.*.*`;
    default:
      return redacted;
  }
}

export const redacted = '[redacted]';

/** Replaces every digit but the last `keep` with `*`, keeping separators: `***-**-6789`, `(***) ***-1234`. */
function keepLastDigits(value: string, keep: number): string {
  const digits = value.replace(/\D/g, '').length;
  if (digits <= keep) return redacted;
  let seen = 0;
  return value.replace(/\d/g, (d) => (++seen > digits - keep ? d : '*'));
}
