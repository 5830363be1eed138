import { describe, expect, it } from 'vitest';
import { parseMysqlUrl } from './parse-mysql-url.js';

describe('parseMysqlUrl', () => {
  it('decodes percent-encoded credentials and database names, and keeps them out of the location', () => {
    const target = parseMysqlUrl('mysql://app%40corp:p%40ss%2Fw0rd@db.example.com:3307/sales%20eu');
    expect(target).toMatchObject({
      host: 'db.example.com',
      port: 3307,
      user: 'app@corp',
      password: 'p@ss/w0rd',
      database: 'sales eu',
    });
    expect(target.location).toBe('mysql://app%40corp@db.example.com:3307/sales%20eu');
  });

  it('defaults the port, accepts mariadb:// and IPv6 hosts, and treats a missing database as the whole server', () => {
    expect(parseMysqlUrl('mariadb://root@[::1]')).toMatchObject({
      host: '::1',
      port: 3306,
      database: null,
      location: 'mariadb://root@[::1]:3306',
    });
    expect(parseMysqlUrl('mysql://root:x@host/').database).toBeNull();
  });

  it('turns TLS on, with or without certificate checks, only when asked', () => {
    expect(parseMysqlUrl('mysql://u@h/db').ssl).toBeUndefined();
    expect(parseMysqlUrl('mysql://u@h/db?ssl=true').ssl).toEqual({ rejectUnauthorized: true });
    expect(parseMysqlUrl('mysql://u@h/db?sslmode=VERIFY_IDENTITY').ssl).toEqual({ rejectUnauthorized: true });
    expect(parseMysqlUrl('mysql://u@h/db?ssl-mode=REQUIRED').ssl).toEqual({ rejectUnauthorized: false });
    expect(parseMysqlUrl('mysql://u@h/db?sslmode=disabled').ssl).toBeUndefined();
    expect(parseMysqlUrl('mysql://u:pw@h/db?ssl=true').location).toBe('mysql://u@h:3306/db');
  });

  it('explains what is wrong with a malformed URL', () => {
    const cases: [string, RegExp][] = [
      ['postgres://u@h/db', /scheme must be mysql:\/\/ or mariadb:\/\//],
      ['mysql://h/db', /no user name/],
      ['mysql://u@h/db/extra', /not a database name/],
      ['mysql://u@h/db?sslmode=sometimes', /unsupported sslmode=sometimes/],
      ['mysql://u@h/db?timeout=5', /unsupported option "timeout"/],
      ['mysql://u:%E0%A4%A@h/db', /password .* not valid percent-encoding/],
      ['db.example.com:3306', /scheme|could not be parsed/],
    ];
    for (const [url, message] of cases) {
      expect(() => parseMysqlUrl(url), url).toThrowError(
        expect.objectContaining({ code: 'invalid_input', message: expect.stringMatching(message) }),
      );
    }
  });
});
