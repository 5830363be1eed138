import { type PiiKind, piiKinds, piiNameHint, valueMatches } from './pii-detectors.js';
import { partialMask } from './pii-masks.js';

/** Why the classifier thinks a column holds personal data: never a raw value, only a masked example. */
export interface PiiEvidence {
  kind: PiiKind;
  /** What was checked, e.g. `email address syntax on sampled values` or `column name only`. */
  detector: string;
  /** The words of the column name that point to this kind, or null when only the values do. */
  nameHint: string | null;
  /** Non-empty values sampled, and how many of them matched. */
  sampled: number;
  matched: number;
  /** matched / sampled, null when nothing could be sampled. */
  matchShare: number | null;
  /** One matching value in its partial form (`j***@example.mil`, `***-**-6789`), never the value itself. */
  example: string | null;
  confidence: 'high' | 'medium' | 'low';
}

const detectorNames: Record<PiiKind, string> = {
  person_name: 'personal-name shape (and a common given name or surname where the column name does not say)',
  email: 'email address syntax',
  phone: 'phone number shape (7-15 digits)',
  ssn: 'SSN format with SSA issuance rules (no area 000/666, group 00, serial 0000)',
  dod_id: 'DoD ID (EDIPI): ten digits',
  date_of_birth: 'calendar date from 1900 to today',
  postal_address: 'postal address (street line, postal code or locality)',
  payment_card: 'card number: 13-19 digits passing the Luhn check',
  ip_address: 'IPv4 or IPv6 address',
};

/** Value-only detection needs a few values to say anything; one email in a one-row table is not a pattern. */
const minimumSampleWithoutHint = 3;
/** A name hint is confirmed when at least half of the sampled values look right. */
const hintedShare = 0.5;
/** Without a name hint, values alone must be this consistent. */
const unhintedShare = 0.8;
/** Without a name hint, common given names or surnames make up at least this share of a names column. */
const unhintedNameShare = 0.5;

/** Sampled values as text: dates as ISO dates, empty strings as missing. */
export function sampleText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  if (typeof value === 'object' || typeof value === 'function') return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

/**
 * Decides whether a column holds personal data from its name and a sample of its values. A name hint
 * confirmed by the values (or with no values to check) wins; contradicted by them (an `email` column of
 * hashes), it is dropped. Without a hint, the values alone must match consistently.
 */
export function detectColumnPii(columnName: string, values: readonly unknown[], now: Date): PiiEvidence | null {
  const texts = values.map(sampleText).filter((v): v is string => v !== null);
  const hint = piiNameHint(columnName);
  const measure = (kind: PiiKind, hinted: boolean) => {
    const matches = texts.filter((v) => valueMatches(kind, v, hinted, now, columnName));
    return { kind, matched: matches.length, example: matches[0] ?? null };
  };
  const evidence = (
    m: ReturnType<typeof measure>,
    nameHint: string | null,
    confidence: PiiEvidence['confidence'],
  ): PiiEvidence => ({
    kind: m.kind,
    detector:
      texts.length === 0 ? 'column name only (no values to sample)' : `${detectorNames[m.kind]} on sampled values`,
    nameHint,
    sampled: texts.length,
    matched: m.matched,
    matchShare: texts.length === 0 ? null : round(m.matched / texts.length),
    example: m.example === null ? null : partialMask(m.kind, m.example),
    confidence,
  });

  if (hint && hint.strength === 'strong') {
    const m = measure(hint.kind, true);
    if (texts.length === 0) return evidence(m, hint.words, 'low');
    const share = m.matched / texts.length;
    if (share >= hintedShare) return evidence(m, hint.words, share >= unhintedShare ? 'high' : 'medium');
  }
  if (texts.length < minimumSampleWithoutHint) return null;
  let best: { m: ReturnType<typeof measure>; share: number } | null = null;
  for (const kind of piiKinds) {
    const m = measure(kind, false);
    const share = m.matched / texts.length;
    const needed = kind === 'person_name' ? unhintedNameShare : unhintedShare;
    if (share >= needed && (!best || share > best.share)) best = { m, share };
  }
  if (!best) return null;
  const weakHint = hint?.kind === best.m.kind ? hint.words : null;
  return evidence(best.m, weakHint, best.share >= 0.95 ? 'high' : 'medium');
}

function round(share: number): number {
  return Math.round(share * 1000) / 1000;
}
