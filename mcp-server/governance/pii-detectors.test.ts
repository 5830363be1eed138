import { describe, expect, it } from 'vitest';
import {
  isDateOfBirth,
  isDodId,
  isEmail,
  isIpAddress,
  isPaymentCard,
  isPersonName,
  isPhone,
  isPostalAddress,
  isSsn,
  passesLuhn,
  piiNameHint,
} from './pii-detectors.js';
import { detectColumnPii } from './pii-evidence.js';
import { partialMask } from './pii-masks.js';

const now = new Date('2026-06-30T00:00:00Z');

describe('value detectors', () => {
  it('checks card numbers with Luhn and an issuer prefix', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(isPaymentCard('4111 1111 1111 1111')).toBe(true); // Visa test number
    expect(isPaymentCard('5555-5555-5555-4444')).toBe(true); // Mastercard
    expect(isPaymentCard('378282246310005')).toBe(true); // American Express
    expect(isPaymentCard('4111111111111112')).toBe(false); // 16 digits failing Luhn
    expect(isPaymentCard('1234567812345670')).toBe(false); // passes Luhn, but no issuer starts with 1
    expect(isPaymentCard('1234567812345670', true)).toBe(true); // in a card_number column it is one
    expect(isPaymentCard('411111111111')).toBe(false); // 12 digits
  });

  it('accepts SSNs the SSA could issue and refuses the ranges it never does', () => {
    expect(isSsn('123-45-6789')).toBe(true);
    expect(isSsn('912-34-5678')).toBe(true); // ITIN / test range, still a taxpayer id
    expect(isSsn('000-12-3456')).toBe(false);
    expect(isSsn('666-12-3456')).toBe(false);
    expect(isSsn('123-00-4567')).toBe(false);
    expect(isSsn('123-45-0000')).toBe(false);
    expect(isSsn('123-45 6789')).toBe(false); // mixed separators
    expect(isSsn('123456789')).toBe(false); // nine bare digits: only in an ssn column
    expect(isSsn('123456789', true)).toBe(true);
  });

  it('takes ten digits for a DoD ID only in a column named for it', () => {
    expect(isDodId('1234567890', true)).toBe(true);
    expect(isDodId('1234567890', false)).toBe(false);
    expect(isDodId('123456789', true)).toBe(false);
    expect(isDodId('0000000000', true)).toBe(false);
  });

  it('recognises phone numbers as people write them, not dates or SSNs', () => {
    expect(isPhone('(703) 555-0142')).toBe(true);
    expect(isPhone('+44 20 7946 0958')).toBe(true);
    expect(isPhone('030-0074321')).toBe(true);
    expect(isPhone('2026-06-30')).toBe(false);
    expect(isPhone('123-45-6789')).toBe(false);
    expect(isPhone('14033335568')).toBe(false); // bare digits need a phone column
    expect(isPhone('14033335568', true)).toBe(true);
    expect(isPhone('555-01', true)).toBe(false); // too few digits
  });

  it('recognises email and IP addresses', () => {
    expect(isEmail('MARY.SMITH@sakilacustomer.org')).toBe(true);
    expect(isEmail('j.a.smith.mil@mail.mil')).toBe(true);
    expect(isEmail('not an @ address')).toBe(false);
    expect(isEmail('user@localhost')).toBe(false);
    expect(isIpAddress('192.168.10.4')).toBe(true);
    expect(isIpAddress('2001:db8::8a2e:370:7334')).toBe(true);
    expect(isIpAddress('192.168.1.256')).toBe(false);
    expect(isIpAddress('1.2.3')).toBe(false);
    expect(isIpAddress('01.2.3.4')).toBe(false);
  });

  it('takes a date for a birth date only when plausible and in a column named for it', () => {
    expect(isDateOfBirth('1984-03-17', now, true)).toBe(true);
    expect(isDateOfBirth('1984-03-17', now, false)).toBe(false);
    expect(isDateOfBirth('1850-01-01', now, true)).toBe(false);
    expect(isDateOfBirth('2031-01-01', now, true)).toBe(false);
    expect(isDateOfBirth('1984-02-30', now, true)).toBe(false);
  });

  it('recognises street lines and, in address columns, codes and localities', () => {
    expect(isPostalAddress('4521 Oak St')).toBe(true);
    expect(isPostalAddress('1913 Hanoi Way')).toBe(true);
    expect(isPostalAddress('120 Hanover Sq.')).toBe(true);
    expect(isPostalAddress('Obere Str. 57')).toBe(false); // not a US street line: needs the column's name
    expect(isPostalAddress('Obere Str. 57', true, 'address')).toBe(true);
    expect(isPostalAddress('28314', true, 'home_zip')).toBe(true);
    expect(isPostalAddress('N/A', true, 'postal_code')).toBe(false);
    expect(isPostalAddress('Fayetteville', true, 'home_city')).toBe(true);
    expect(isPostalAddress('Seats 4 passengers')).toBe(false);
  });

  it('needs a common name for a personal name unless the column says so', () => {
    expect(isPersonName('Maria Anders')).toBe(true);
    expect(isPersonName('MARY')).toBe(true);
    expect(isPersonName('Action')).toBe(false);
    expect(isPersonName('Zyxwv', true)).toBe(true);
    expect(isPersonName('R2-D2', true)).toBe(false);
  });
});

describe('column name hints', () => {
  it('reads snake_case and camelCase names', () => {
    expect(piiNameHint('email')?.kind).toBe('email');
    expect(piiNameHint('ContactName')?.kind).toBe('person_name');
    expect(piiNameHint('contact_name')?.kind).toBe('person_name');
    expect(piiNameHint('middle_initial')?.kind).toBe('person_name');
    expect(piiNameHint('home_zip')?.kind).toBe('postal_address');
    expect(piiNameHint('ship_postal_code')?.kind).toBe('postal_address');
    expect(piiNameHint('client_ip')?.kind).toBe('ip_address');
    expect(piiNameHint('email_address')?.kind).toBe('email');
    expect(piiNameHint('dod_id')?.kind).toBe('dod_id');
    expect(piiNameHint('date_of_birth')?.kind).toBe('date_of_birth');
    expect(piiNameHint('mobile_phone')?.kind).toBe('phone');
    expect(piiNameHint('name')?.strength).toBe('weak');
  });

  it('leaves names of things alone', () => {
    for (const name of [
      'product_name',
      'company_name',
      'legal_name',
      'city',
      'country',
      'hire_date',
      'title',
      'ship_via',
      'mac_address',
      'web_address',
    ])
      expect(piiNameHint(name), name).toBeNull();
  });
});

describe('column evidence', () => {
  it('confirms a name hint with the values and masks the example', () => {
    const evidence = detectColumnPii('ssn', ['912-34-5678', '923-45-6789', null, ''], now);
    expect(evidence).toMatchObject({ kind: 'ssn', nameHint: 'ssn', sampled: 2, matched: 2, matchShare: 1 });
    expect(evidence!.example).toBe('***-**-5678');
  });

  it('finds personal data from values alone, with the share that matched', () => {
    const values = ['a.b@mail.mil', 'c.d@mail.mil', 'e.f@mail.mil', 'g.h@mail.mil', 'nobody'];
    expect(detectColumnPii('contact', values, now)).toMatchObject({
      kind: 'email',
      nameHint: null,
      sampled: 5,
      matched: 4,
      matchShare: 0.8,
      example: 'a***@mail.mil',
    });
  });

  it('needs most values to match without a hint', () => {
    // 3 of 4 is below the 80% needed without a name hint: not flagged.
    expect(detectColumnPii('contact', ['a.b@mail.mil', 'c.d@mail.mil', 'e.f@mail.mil', 'nobody'], now)).toBeNull();
    expect(detectColumnPii('notes', ['a.b@mail.mil', 'call back', 'late', 'ok', 'n/a'], now)).toBeNull();
  });

  it('drops a hint the values contradict, and keeps one with nothing to sample', () => {
    const hashes = [
      '5f4dcc3b5aa765d61d8327deb882cf99',
      'e99a18c428cb38d5f260853678922e03',
      '0d107d09f5bbe40cade3de5c71e9e9b7',
    ];
    expect(detectColumnPii('email', hashes, now)).toBeNull();
    expect(detectColumnPii('email', [null, ''], now)).toMatchObject({ kind: 'email', sampled: 0, confidence: 'low' });
  });

  it('does not flag a 16-digit number that fails Luhn, nor a category of things', () => {
    expect(detectColumnPii('reference', ['4111111111111112', '4111111111111113', '4111111111111114'], now)).toBeNull();
    expect(detectColumnPii('name', ['Action', 'Animation', 'Children', 'Classics'], now)).toBeNull();
    expect(detectColumnPii('name', ['Mary', 'Patricia', 'Linda', 'Barbara'], now)?.kind).toBe('person_name');
  });
});

describe('partial forms', () => {
  it('keeps only what identifies a record you already know', () => {
    expect(partialMask('email', 'john.doe@example.mil')).toBe('j***@example.mil');
    expect(partialMask('ssn', '123-45-6789')).toBe('***-**-6789');
    expect(partialMask('phone', '(703) 555-0142')).toBe('(***) ***-0142');
    expect(partialMask('payment_card', '4111 1111 1111 1111')).toBe('**** **** **** 1111');
    expect(partialMask('person_name', 'Maria Anders')).toBe('M*** A***');
    expect(partialMask('date_of_birth', '1984-03-17')).toBe('1984-**-**');
    expect(partialMask('ip_address', '192.168.10.4')).toBe('192.*.*.*');
    expect(partialMask('postal_address', '4521 Oak St')).toBe('[redacted]');
    expect(partialMask('phone', '123')).toBe('[redacted]');
  });
});
