import { describe, expect, it } from 'vitest';
import { createHostCheck, isLoopback } from './host-check.js';

describe('isLoopback', () => {
  it('decides from the address itself, not from how its text starts', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1']) {
      expect(isLoopback(address), address).toBe(true);
    }
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    for (const address of [
      '127.corp.example',
      '127.0.0.1.nip.io',
      'localhost.evil.example',
      '10.0.0.5',
      '0.0.0.0',
      '::',
      '::ffff:10.0.0.1',
      'dataops.example.mil',
    ]) {
      expect(isLoopback(address), address).toBe(false);
    }
  });
});

describe('createHostCheck', () => {
  const check = createHostCheck({ allowedHosts: ['localhost', '127.0.0.1', '[::1]'] });
  const request = (host: string, origin?: string) => check({ url: `http://${host}/mcp`, host, origin });

  it('takes requests without an Origin (non-browser clients) for an allowed Host', () => {
    expect(request('127.0.0.1:8787')).toBeNull();
    expect(request('evil.example:8787')).toMatch(/host "evil.example:8787" is not allowed/);
  });

  it('refuses Origin: null and any origin but the served one', () => {
    expect(request('127.0.0.1:8787', 'null')).toMatch(/Origin: null/);
    expect(request('localhost:8787', 'http://localhost:3000')).toMatch(/only pages served by this server/);
    expect(request('localhost:8787', 'not a url')).toMatch(/not a valid origin/);
    expect(request('localhost:8787', 'http://localhost:8787')).toBeNull();
    expect(request('LOCALHOST:8787', 'http://localhost:8787')).toBeNull();
    expect(request('localhost', 'http://localhost:80')).toBeNull();
  });
});
