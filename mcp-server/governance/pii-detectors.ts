import { isIP } from 'node:net';
import { commonGivenNames, commonSurnames } from './pii-names.js';

/**
 * Pure detectors of personal data: what a column's name suggests and whether a value looks like one
 * kind of personal data. `hinted` loosens a check when the column's name already says what it holds
 * (a `phone` column may hold bare digits; a 10-digit number is a DoD ID only in a `dod_id` column).
 */

export const piiKinds = [
  'person_name',
  'email',
  'phone',
  'ssn',
  'dod_id',
  'date_of_birth',
  'postal_address',
  'payment_card',
  'ip_address',
] as const;
export type PiiKind = (typeof piiKinds)[number];

export interface NameHint {
  kind: PiiKind;
  /** The words of the column name that gave it away, e.g. `email` or `home zip`. */
  words: string;
  /** `weak` for a bare `name`, which may name a person or anything else. */
  strength: 'strong' | 'weak';
}

/** Lower-case words of a column name: `ContactName` and `contact_name` both give `contact name`. */
export function columnWords(columnName: string): string[] {
  return columnName
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const personQualifiers = new Set([
  'first',
  'last',
  'middle',
  'given',
  'family',
  'full',
  'maiden',
  'contact',
  'person',
  'customer',
  'employee',
  'staff',
  'patient',
  'member',
  'applicant',
  'student',
  'user',
  'display',
]);
const addressParts = new Set(['city', 'state', 'zip', 'street', 'town', 'county']);

/** What a column's name says it holds, if it names personal data. */
export function piiNameHint(columnName: string): NameHint | null {
  const words = columnWords(columnName);
  const joined = words.join('');
  const has = (...w: string[]) => w.some((x) => words.includes(x));
  const hint = (kind: PiiKind, used: string[], strength: NameHint['strength'] = 'strong'): NameHint => ({
    kind,
    words: used.join(' '),
    strength,
  });
  if (has('email', 'emailaddress') || joined.includes('email')) return hint('email', ['email']);
  if (has('ssn', 'ssan') || joined.includes('socialsecurity')) return hint('ssn', ['ssn']);
  if (has('edipi', 'dodid') || /dodid|dodedipi/.test(joined)) return hint('dod_id', ['dod', 'id']);
  if (has('dob', 'birthdate', 'birthday', 'birth', 'born')) return hint('date_of_birth', ['birth']);
  if (has('ip', 'ipaddress', 'ipv4', 'ipv6', 'ipaddr') || /^(client|remote|source|src)addr/.test(joined))
    return hint('ip_address', ['ip']);
  if (has('creditcard', 'cardnumber', 'ccnumber', 'pan') || (has('card', 'cc') && has('number', 'no', 'num')))
    return hint('payment_card', ['card', 'number']);
  if (has('phone', 'telephone', 'tel', 'mobile', 'cell', 'cellphone', 'fax', 'phonenumber'))
    return hint(
      'phone',
      words.filter((w) => /phone|tel|mobile|cell|fax/.test(w)),
    );
  // A MAC, web or wallet address is no postal address.
  if (
    has('address', 'addr', 'address1', 'address2', 'street', 'streetaddress') &&
    !has('mac', 'web', 'url', 'wallet', 'hardware', 'memory')
  )
    return hint('postal_address', ['address']);
  if (has('zip', 'zipcode', 'postcode', 'postalcode') || (has('postal') && has('code')))
    return hint('postal_address', ['postal', 'code']);
  if (has('home') && words.some((w) => addressParts.has(w)))
    return hint(
      'postal_address',
      words.filter((w) => w === 'home' || addressParts.has(w)),
    );
  if (has('surname', 'firstname', 'lastname', 'fullname', 'givenname', 'familyname', 'middlename', 'maidenname'))
    return hint('person_name', ['name']);
  const nameAt = words.findIndex((w) => w === 'name' || w === 'initial');
  if (nameAt > 0 && personQualifiers.has(words[nameAt - 1]!))
    return hint('person_name', [words[nameAt - 1]!, words[nameAt]!]);
  if (words.length === 1 && words[0] === 'name') return hint('person_name', ['name'], 'weak');
  return null;
}

/** The Luhn (mod 10) check digit test that every payment card number passes. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function isEmail(value: string): boolean {
  return value.length <= 254 && /^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/.test(value);
}

/**
 * An SSN as the SSA issues them: never area 000 or 666, group 00 or serial 0000. Area 9xx is kept:
 * ITINs and test data use it and are taxpayer identifiers just as sensitive. Without separators only
 * in a column named for SSNs (nine bare digits are also ZIP+4 codes and account numbers).
 */
export function isSsn(value: string, hinted = false): boolean {
  const match = (hinted ? /^(\d{3})[- ]?(\d{2})[- ]?(\d{4})$/ : /^(\d{3})([- ])(\d{2})\2(\d{4})$/).exec(value);
  if (!match) return false;
  const [area, group, serial] = hinted ? [match[1], match[2], match[3]] : [match[1], match[3], match[4]];
  return area !== '000' && area !== '666' && group !== '00' && serial !== '0000';
}

/** A DoD ID (EDIPI) is ten digits and carries no check digit, so only a column named for it counts. */
export function isDodId(value: string, hinted = false): boolean {
  return hinted && /^\d{10}$/.test(value) && !/^(\d)\1{9}$/.test(value);
}

/**
 * A phone number: 7 to 15 digits (E.164 allows 15) with the usual separators. Without a hint it must be
 * written like a phone number, `(703) 555-0100` or `+44 20 7946 0958`, and not like a date or an SSN.
 */
export function isPhone(value: string, hinted = false): boolean {
  if (!/^\+?[\d\s().-]+((x|ext\.?)\s*\d{1,6})?$/i.test(value)) return false;
  const digits = value.replace(/(x|ext\.?)\s*\d+$/i, '').replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  if (hinted) return true;
  if (/^\d{4}-\d{2}-\d{2}/.test(value) || isSsn(value)) return false;
  return /^(\+\d{1,3}[\s.-]?)?(\(\d{1,4}\)\s?|\d{2,4}[\s.-])\d{2,8}([\s.-]\d{2,8}){0,3}$/.test(value);
}

/**
 * A payment card: 13-19 digits (in groups or not) passing Luhn; without a hint it must also start with
 * an issuer prefix (Visa, Mastercard, American Express, Discover, JCB, Diners), so that a random number
 * that happens to pass Luhn (one in ten does) is not taken for a card.
 */
export function isPaymentCard(value: string, hinted = false): boolean {
  if (!/^\d[\d -]{11,22}\d$/.test(value)) return false;
  const digits = value.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19 || !passesLuhn(digits)) return false;
  return hinted || /^(4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|3[068])/.test(digits);
}

/** An IPv4 (dotted quad, no leading zeros) or IPv6 address. */
export function isIpAddress(value: string): boolean {
  return isIP(value.replace(/\/\d{1,3}$/, '')) !== 0;
}

/** A calendar date a living person may have been born on (1900 up to `now`), in a column named for it. */
export function isDateOfBirth(value: string, now: Date, hinted = false): boolean {
  if (!hinted) return false;
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return (
    date.getUTCMonth() === Number(match[2]) - 1 &&
    date.getUTCDate() === Number(match[3]) &&
    date.getUTCFullYear() >= 1900 &&
    date.getTime() <= now.getTime()
  );
}

const streetTypes =
  'street|st|avenue|ave|road|rd|drive|dr|lane|ln|court|ct|way|boulevard|blvd|place|pl|terrace|ter|parkway|pkwy|circle|cir|highway|hwy|square|sq|trail|trl';
const streetAddress = new RegExp(
  `^\\d{1,6}[A-Za-z]?\\s+([\\p{L}0-9'.-]+\\s+){1,5}(${streetTypes})\\.?(\\s*,?\\s*(apt|suite|ste|unit|#)\\.?\\s*[\\w-]+)?$`,
  'iu',
);

/**
 * A postal address or one of its parts. Without a hint only a street line counts (`4521 Oak St`);
 * in a column named for an address, any line with letters; in a ZIP or postal-code column, a code.
 */
export function isPostalAddress(value: string, hinted = false, columnName = ''): boolean {
  if (streetAddress.test(value)) return true;
  if (!hinted) return false;
  const words = columnWords(columnName);
  if (words.some((w) => /^(zip|zipcode|postcode|postal)$/.test(w)))
    return /^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/.test(value) && /\d/.test(value);
  if (words.some((w) => /^(city|state|town|county)$/.test(w))) return /^\p{L}[\p{L} .'-]{0,59}$/u.test(value);
  return value.length >= 3 && /\p{L}/u.test(value);
}

const nameShape = /^\p{L}[\p{L}'’ .,-]{0,60}$/u;

/**
 * A personal name. In a column named for names, anything shaped like one (`MARY`, `O'Brien`, `J`);
 * otherwise one of its words must be a common given name or surname, so `Action` or `Anniston` are not.
 */
export function isPersonName(value: string, hinted = false): boolean {
  if (!nameShape.test(value)) return false;
  if (hinted) return true;
  const words = value
    .toLowerCase()
    .split(/[\s,.]+/)
    .filter(Boolean);
  if (words.length > 4) return false;
  return words.some((w) => commonGivenNames.has(w) || commonSurnames.has(w));
}

/** Whether one value looks like `kind`; `hinted` when the column's name names that kind. */
export function valueMatches(kind: PiiKind, value: string, hinted: boolean, now: Date, columnName = ''): boolean {
  switch (kind) {
    case 'person_name':
      return isPersonName(value, hinted);
    case 'email':
      return isEmail(value);
    case 'phone':
      return isPhone(value, hinted);
    case 'ssn':
      return isSsn(value, hinted);
    case 'dod_id':
      return isDodId(value, hinted);
    case 'date_of_birth':
      return isDateOfBirth(value, now, hinted);
    case 'postal_address':
      return isPostalAddress(value, hinted, columnName);
    case 'payment_card':
      return isPaymentCard(value, hinted);
    case 'ip_address':
      return isIpAddress(value);
  }
}
