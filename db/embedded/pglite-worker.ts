import { createServer, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import { serveWire } from './wire-server.js';

/** What the main thread gives the worker (see embedded-server.ts). */
export interface WorkerInput {
  entry: string;
  dataDir: string;
  socketPath: string;
  /** Load pgvector and pg_trgm, as the catalog needs (a source database does not). */
  extensions: boolean;
}

/** Messages the worker sends the main thread. */
export type WorkerMessage = { type: 'ready' } | { type: 'error'; message: string } | { type: 'closed' };

const input = workerData as WorkerInput;
const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);

const db = await PGlite.create({
  dataDir: input.dataDir,
  extensions: input.extensions ? { vector, pg_trgm } : {},
}).catch((error: Error) => {
  post({ type: 'error', message: error.message });
  // The main thread ends this worker on that message: nothing below may run meanwhile.
  return new Promise<never>(() => {});
});
const server = createServer();
const sockets = new Set<Socket>();
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
serveWire(db, server);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(input.socketPath, () => resolve());
});
post({ type: 'ready' });

port.on('message', async (message: { type: 'close' }) => {
  if (message.type !== 'close') return;
  server.close();
  for (const socket of sockets) socket.destroy();
  // Closing writes what PGlite holds in memory back to the data directory.
  await db.close();
  post({ type: 'closed' });
  port.close();
});
