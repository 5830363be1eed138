import { describe, expect, it } from 'vitest';
import { describeConnectionError, redactUrl } from './connection-errors.js';

describe('redactUrl', () => {
  it('removes the password from the user info', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/sales')).toBe('postgres://app@db:5432/sales');
  });

  it('removes password-like query parameters and keeps the others', () => {
    expect(redactUrl('postgres://app@db:5432/sales?sslmode=require&password=s3cret')).toBe(
      'postgres://app@db:5432/sales?sslmode=require',
    );
    expect(redactUrl('postgres://db/sales?user=app&PASS=a&pwd=b&sslpassword=c&application_name=x')).toBe(
      'postgres://db/sales?user=app&application_name=x',
    );
    expect(redactUrl('mysql://app:x@db/erp?password=y')).toBe('mysql://app@db/erp');
  });

  it('redacts a URL it cannot parse too', () => {
    const redacted = redactUrl('postgres://app:s3cret@db:5432:9/sales?password=s3cret&sslmode=require');
    expect(redacted).not.toContain('s3cret');
    expect(redacted).toContain('sslmode=require');
  });

  it('keeps secrets out of connection errors', () => {
    expect(describeConnectionError('postgres://app@127.0.0.1:1/sales?password=s3cret', { code: 'ECONNREFUSED' })).toBe(
      'could not connect to postgres://app@127.0.0.1:1/sales: connection refused',
    );
  });
});
