import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DataOpsError } from '../../../core/errors.js';
import { createMysqlConnector } from './mysql-connector.js';

async function rejection(url: string): Promise<DataOpsError> {
  const error = await createMysqlConnector({ url })
    .discover()
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(DataOpsError);
  return error as DataOpsError;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('createMysqlConnector failures', () => {
  it('says the connection was refused when nothing listens on the port', async () => {
    const port = await freePort();
    // `localhost` may resolve to both ::1 and 127.0.0.1, which Node reports as one combined error.
    for (const host of ['127.0.0.1', 'localhost']) {
      const error = await rejection(`mysql://root:hunter2@${host}:${port}/test`);
      expect(error.code).toBe('unavailable');
      expect(error.message).toBe(`could not connect to mysql://root@${host}:${port}/test: connection refused`);
    }
  });

  it('says access was denied for a wrong password, without repeating the password', async () => {
    const password = `wrong-${randomBytes(4).toString('hex')}`;
    const error = await rejection(`mysql://root:${password}@127.0.0.1:3306/test`);
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(
      /^could not connect to mysql:\/\/root@127\.0\.0\.1:3306\/test: access denied for user 'root'/,
    );
    expect(error.message).not.toContain(password);
    expect(error.message).not.toContain('\n');
  });

  it('says the database does not exist', async () => {
    const name = `missing_${randomBytes(4).toString('hex')}`;
    const error = await rejection(`mysql://root@127.0.0.1:3306/${name}`);
    expect(error.code).toBe('unavailable');
    expect(error.message).toBe(`could not connect to mysql://root@127.0.0.1:3306/${name}: unknown database '${name}'`);
  });

  it('rejects a malformed URL as invalid input before connecting', () => {
    for (const url of ['not a url', 'postgres://u@h/db', 'mysql://root@127.0.0.1:99999/db', 'mysql://127.0.0.1/db']) {
      expect(() => createMysqlConnector({ url }), url).toThrowError(
        expect.objectContaining({ name: 'DataOpsError', code: 'invalid_input' }),
      );
    }
  });
});
