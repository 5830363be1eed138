import { type EmbeddedServer, startEmbeddedServer } from './embedded-server.js';

/**
 * An embedded source database (the demo's) is opened once per process, in a worker thread of its own, so
 * a profile or pipeline run on it never waits behind the catalog's statements nor holds the server's
 * thread. Starting a worker takes seconds: work on one directory shares it, and it stays up until idle for
 * a while (a scheduler cycle profiles a source table by table).
 */
interface Shared {
  server: Promise<EmbeddedServer>;
  users: number;
  idle?: NodeJS.Timeout;
}
const open = new Map<string, Shared>();
const idleMs = 30_000;
let closesAtExit = false;

/**
 * An idle database's worker does not keep the process alive; when a command's work is over, each one is
 * closed cleanly (PGlite writes its state back) before the process exits.
 */
function closeAtExit(): void {
  if (closesAtExit) return;
  closesAtExit = true;
  process.on('beforeExit', () => {
    for (const dir of [...open.keys()]) void releaseEmbedded(dir);
  });
}

/** A `postgres://` URL for the embedded database in `dir`, until `release()` is called. */
export async function acquireEmbedded(dir: string): Promise<{ url: string; release: () => void }> {
  let shared = open.get(dir);
  if (!shared) {
    closeAtExit();
    const started: Shared = {
      server: startEmbeddedServer(dir, { extensions: false, what: `the embedded database in ${dir}` }),
      users: 0,
    };
    started.server.catch(() => open.get(dir) === started && open.delete(dir));
    open.set(dir, started);
    shared = started;
  }
  const current = shared;
  clearTimeout(current.idle);
  current.users++;
  let server: EmbeddedServer;
  try {
    server = await current.server;
  } catch (error) {
    current.users--;
    throw error;
  }
  // A worker that stopped (its failure was reported to the work it was doing) is replaced.
  if (server.failure) {
    current.users--;
    if (open.get(dir) === current) open.delete(dir);
    return acquireEmbedded(dir);
  }
  let released = false;
  return {
    url: server.url,
    release: () => {
      if (released) return;
      released = true;
      if (--current.users > 0 || open.get(dir) !== current) return;
      current.idle = setTimeout(() => {
        open.delete(dir);
        void server.close();
      }, idleMs);
      // An idle database must not keep the process alive: nothing is using it.
      current.idle.unref();
    },
  };
}

/** Runs `use` with a URL for the embedded database in `dir`. */
export async function withEmbedded<T>(dir: string, use: (url: string) => Promise<T>): Promise<T> {
  const { url, release } = await acquireEmbedded(dir);
  try {
    return await use(url);
  } finally {
    release();
  }
}

/** Closes the embedded database in `dir` now (writing it to disk), before something else opens the directory. */
export async function releaseEmbedded(dir: string): Promise<void> {
  const shared = open.get(dir);
  if (!shared) return;
  open.delete(dir);
  clearTimeout(shared.idle);
  await shared.server.then((server) => server.close()).catch(() => {});
}

/** Closes every embedded source database this process opened: a command or server that ends waits for none of them. */
export async function closeAllEmbedded(): Promise<void> {
  await Promise.all([...open.keys()].map(releaseEmbedded));
}
