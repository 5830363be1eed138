import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { DataOpsError } from '../../core/errors.js';
import type { WorkerInput, WorkerMessage } from './pglite-worker.js';

/** A PGlite running in a worker thread, reached over a Unix socket with the same driver as a Postgres server. */
export interface EmbeddedServer {
  /** A `postgres://` URL whose `host` is the socket's private directory (libpq's form for a Unix socket). */
  url: string;
  /** A postgres.js client on the socket; once the worker has stopped, every query fails as `unavailable`. */
  client(options?: postgres.Options<Record<string, never>>): postgres.Sql;
  /** The thread PGlite runs in. */
  readonly worker: Worker;
  /** Why the worker stopped when nobody closed it; null while it runs. */
  readonly failure: DataOpsError | null;
  /** Ends the clients' connections, closes PGlite (writing everything to the directory) and ends the worker. */
  close(): Promise<void>;
}

const bootstrap = new URL('./worker-bootstrap.mjs', import.meta.url);
const entry = new URL('./pglite-worker.ts', import.meta.url);

/**
 * Starts PGlite on `dataDir` in a worker thread, so that a long statement holds that thread and not the
 * server's: HTTP, MCP and chat requests keep being answered, and reads of another embedded database go on.
 * The socket lives in a directory only this user can enter (mode 0700): no TCP port is opened. `what`
 * names the database in errors ("the embedded catalog in /data").
 */
export async function startEmbeddedServer(
  dataDir: string,
  options: { extensions: boolean; what: string },
): Promise<EmbeddedServer> {
  const socketDir = mkdtempSync(path.join(tmpdir(), 'dataops-pg-'));
  const socketPath = path.join(socketDir, '.s.PGSQL.5432');
  const input: WorkerInput = { entry: entry.href, dataDir, socketPath, extensions: options.extensions };
  const worker = new Worker(bootstrap, { workerData: input, execArgv: [], stdout: true });
  // `dataops mcp` speaks JSON-RPC on stdout: anything PGlite prints goes to stderr instead.
  worker.stdout.pipe(process.stderr);
  const sockets = new Set<Socket>();
  const clients = new Set<postgres.Sql>();
  let failure: DataOpsError | null = null;
  let closing = false;
  const removeSocketDir = () => rmSync(socketDir, { recursive: true, force: true });

  const stopped = (reason: string) => {
    if (closing || failure) return;
    failure = new DataOpsError(
      'unavailable',
      `${options.what} stopped unexpectedly (${reason}): restart dataops; what was committed is kept`,
    );
    // Their queries fail as closed connections; the next connection gets `failure` itself.
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    removeSocketDir();
  };

  await new Promise<void>((resolve, reject) => {
    const fail = (message: string, cause?: unknown) => {
      void worker.terminate();
      removeSocketDir();
      reject(new DataOpsError('unavailable', `could not open ${options.what}: ${message}`, { cause }));
    };
    worker.once('message', (message: WorkerMessage) =>
      message.type === 'ready' ? resolve() : fail(message.type === 'error' ? message.message : 'no answer'),
    );
    worker.once('error', (error) => fail(error.message, error));
    worker.once('exit', (code) => fail(`the worker exited with code ${code}`));
  });
  worker.removeAllListeners();
  worker.on('error', (error) => stopped(error.message));
  worker.on('exit', (code) => stopped(`its worker exited with code ${code}`));
  // A command that ends without closing the database must not hang on it; close() holds the process meanwhile.
  worker.unref();

  const socketFactory = () => {
    // postgres.js fails the waiting query with what the factory throws (and does not retry it).
    if (failure) throw failure;
    const socket = connect(socketPath);
    sockets.add(socket);
    // Not a 'close' listener: postgres.js removes every listener of a socket it is done with.
    for (const s of sockets) if (s.destroyed) sockets.delete(s);
    return socket;
  };

  return {
    worker,
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`,
    get failure() {
      return failure;
    },
    client: (clientOptions = {}) => {
      const sql = postgres({
        username: 'postgres',
        database: 'postgres',
        onnotice: () => {},
        // Every client shares PGlite's one session: a named statement would outlive its connection there.
        prepare: false,
        // A new connection waits its turn behind a long statement, as any work on this database does.
        connect_timeout: 0,
        ...clientOptions,
        // postgres.js's custom-socket option (in its README, not in its types).
        ...({ socket: socketFactory } as object),
      });
      clients.add(sql);
      return sql;
    },
    close: async () => {
      if (closing) return;
      closing = true;
      worker.ref();
      // Connections to a worker that is gone cannot end politely: dropped at once.
      const timeout = failure ? 0 : 5;
      await Promise.all([...clients].map((sql) => sql.end({ timeout }).catch(() => {})));
      if (!failure) {
        const closed = new Promise<void>((resolve) => {
          worker.on('message', (message: WorkerMessage) => message.type === 'closed' && resolve());
          worker.once('exit', () => resolve());
        });
        worker.postMessage({ type: 'close' });
        await closed;
      }
      await worker.terminate();
      removeSocketDir();
    },
  };
}
