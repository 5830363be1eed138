import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { DataOpsError } from '../core/errors.js';
import { createDb, queryRows } from '../db/create-db.js';
import { startEmbeddedServer } from '../db/embedded/embedded-server.js';

/** A statement that keeps PGlite busy for a few seconds. */
const longStatement =
  'select count(*)::int as n from generate_series(1, 4000000) a join generate_series(1, 2) b on true';

// The embedded catalog of `dataops start`, `mcp` and every command runs in a worker thread: the server's
// thread keeps answering while a long statement runs there.
describe('the embedded catalog in its own thread', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dataops-worker-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('answers HTTP and a query on another embedded database while a long statement runs, and keeps data across a reopen', async () => {
    const dir = path.join(scratch(), 'catalog');
    const catalog = await createDb({ target: dir, migrate: false });
    const other = await startEmbeddedServer(scratch(), { extensions: false, what: 'the other database' });
    const http = createServer((_, res) => res.end('ok'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as { port: number }).port;
    try {
      await catalog.db.execute(sql`create table notes (id int primary key, body text)`);
      const started = performance.now();
      let finished = 0;
      const long = queryRows<{ n: number }>(catalog.db, sql.raw(longStatement)).then((rows) => {
        finished = performance.now();
        return rows;
      });
      // The main thread is free: HTTP answers, timers fire, the other database answers, all before the statement ends.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const answered: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('ok');
        answered.push(performance.now() - t);
      }
      const otherSql = other.client({ max: 1 });
      expect(await otherSql`select 41 + 1 as answer`).toEqual([{ answer: 42 }]);
      const otherDone = performance.now();
      expect(finished).toBe(0);
      expect(await long).toEqual([{ n: 8_000_000 }]);
      clearInterval(timer);
      expect(otherDone).toBeLessThan(finished);
      expect(Math.max(...answered)).toBeLessThan(1000);
      expect(ticks).toBeGreaterThan((finished - started) / 10 / 4);

      await catalog.db.execute(sql`insert into notes values (1, 'kept')`);
    } finally {
      await new Promise((resolve) => http.close(resolve));
      await other.close();
      await catalog.close();
    }
    const reopened = await createDb({ target: dir, migrate: false });
    try {
      expect(await queryRows(reopened.db, sql`select body from notes`)).toEqual([{ body: 'kept' }]);
    } finally {
      await reopened.close();
    }
  }, 180_000);

  it('keeps concurrent queries and transactions apart on the one PGlite', async () => {
    const database = await createDb({ target: path.join(scratch(), 'catalog'), migrate: false });
    try {
      const { db } = database;
      await db.execute(sql`create table t (id int primary key)`);
      // Every client shares PGlite's one session: parameters bound and rows returned must stay each query's own.
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          queryRows<{ v: number; s: string }>(db, sql`select ${i}::int as v, ${`x${i}`} as s`),
        ),
      );
      expect(answers.every((rows, i) => rows[0]!.v === i && rows[0]!.s === `x${i}`)).toBe(true);
      // Half the transactions roll back. A read outside a transaction, started while it is open, waits for it to
      // end (PGlite has one session): it sees the row once committed, and never a row rolled back.
      const outside: Promise<{ n: number }[]>[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db
            .transaction(async (tx) => {
              await tx.execute(sql`insert into t values (${i})`);
              outside[i] = queryRows<{ n: number }>(db, sql`select count(*)::int as n from t where id = ${i}`);
              await new Promise((resolve) => setTimeout(resolve, 20));
              if (i % 2 === 1) throw new Error('roll back');
            })
            .catch(() => {}),
        ),
      );
      const seen = await Promise.all(outside);
      expect(seen.map((rows) => rows[0]!.n)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 1 : 0)));
      expect(await queryRows(db, sql`select count(*)::int as n from t`)).toEqual([{ n: 10 }]);
      // A failed statement does not stop the database for anyone.
      await expect(db.execute(sql`select 1 / 0`)).rejects.toThrow();
      expect(await queryRows(db, sql`select 2 as two`)).toEqual([{ two: 2 }]);
    } finally {
      await database.close();
    }
  }, 180_000);

  it('says the database stopped, instead of hanging, when its worker dies; its socket is private', async () => {
    const server = await startEmbeddedServer(scratch(), { extensions: false, what: 'the embedded catalog in /x' });
    const socketDir = new URL(server.url).searchParams.get('host')!;
    expect(statSync(socketDir).mode & 0o777).toBe(0o700);
    const client = server.client({ max: 2 });
    expect(await client`select 1 as one`).toEqual([{ one: 1 }]);
    const inFlight = client.unsafe(longStatement).then(
      () => 'finished',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.worker.terminate();
    expect(await inFlight).toBe('failed');
    const error = await client`select 1`.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataOpsError);
    expect((error as DataOpsError).code).toBe('unavailable');
    expect((error as DataOpsError).message).toMatch(
      /^the embedded catalog in \/x stopped unexpectedly \(.+\): restart dataops; what was committed is kept$/,
    );
    await server.close();
  }, 120_000);

  it('drops a connection whose bytes are not Postgres messages, and keeps answering the others', async () => {
    const server = await startEmbeddedServer(scratch(), { extensions: false, what: 'the embedded catalog in /x' });
    try {
      const socketPath = path.join(new URL(server.url).searchParams.get('host')!, '.s.PGSQL.5432');
      // A startup message, then a query whose length field is negative: a reader that trusts it loops forever.
      const garbage = Buffer.from('0000000800030000' + '51ffffff9c', 'hex');
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connect(socketPath, () => socket.write(garbage));
        socket.on('data', () => {});
        socket.on('error', () => {});
        socket.on('close', () => resolve(true));
        setTimeout(() => resolve(false), 10_000);
      });
      expect(closed).toBe(true);
      const client = server.client({ max: 1 });
      expect(await client`select 1 as one`).toEqual([{ one: 1 }]);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('refuses a directory PGlite cannot open, in one line', async () => {
    const dir = scratch();
    writeFileSync(path.join(dir, 'PG_VERSION'), 'not a version\n');
    await expect(startEmbeddedServer(dir, { extensions: false, what: 'the embedded catalog in /y' })).rejects.toThrow(
      /^could not open the embedded catalog in \/y: /,
    );
  }, 120_000);
});
