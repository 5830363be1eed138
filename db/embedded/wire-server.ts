import type { Server, Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Serves one PGlite to many Postgres wire-protocol clients. PGlite is a single backend: its session state
 * (the unnamed statement and portal of the extended protocol, an open transaction) belongs to whichever
 * client spoke last. So a client keeps the database from its first extended-protocol message until its
 * Sync, and for as long as it has a transaction open; other clients' messages wait meanwhile.
 *
 * pglite-socket's own server queues single messages, so two clients' Parse/Bind/Execute interleave and
 * one binds or executes the other's statement; and a message PGlite throws on leaves its queue stuck for
 * good. Here a message that throws ends that client's connection (its transaction rolled back) and the
 * others go on.
 */
export function serveWire(db: PGlite, server: Server): void {
  const ready: Connection[] = [];
  let owner: Connection | null = null;
  let draining = false;

  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      for (;;) {
        const conn = owner ?? ready.shift();
        if (!conn) break;
        // The owner is between two messages of its own sequence: nobody else may run until it goes on.
        if (conn.pending.length === 0) {
          if (conn === owner) break;
          continue;
        }
        const message = conn.pending.shift()!;
        await run(conn, message);
        if (owner !== conn && conn.pending.length > 0 && !ready.includes(conn)) ready.push(conn);
      }
    } finally {
      draining = false;
    }
  };

  const run = async (conn: Connection, message: Uint8Array | typeof closed) => {
    if (message === closed) {
      if (owner === conn) await release();
      return;
    }
    const type = conn.started ? message[0] : null;
    try {
      await db.runExclusive(() =>
        db.execProtocolRawStream(message, {
          onRawData: (data) => {
            if (!conn.socket.destroyed) conn.socket.write(Buffer.from(data));
          },
        }),
      );
    } catch (error) {
      owner = conn;
      await release();
      conn.end(error as Error);
      return;
    }
    if (type === null) conn.started = true;
    else if (type === sync || type === query) owner = db.isInTransaction() ? conn : null;
    else owner = conn;
  };

  /** Ends what the owner left open: its extended-protocol sequence and its transaction. */
  const release = async () => {
    owner = null;
    try {
      await db.runExclusive(() => db.execProtocolRawStream(syncMessage, { onRawData: () => {} }));
      if (db.isInTransaction()) await db.exec('rollback');
    } catch {
      // PGlite itself is broken: the next client's message will say so.
    }
  };

  server.on('connection', (socket) => {
    const conn = new Connection(socket, (c) => {
      c.pending = [closed];
      if (owner !== c && !ready.includes(c)) ready.push(c);
      void drain();
    });
    socket.on('data', (data) => {
      if (conn.receive(data) && owner !== conn && !ready.includes(conn)) ready.push(conn);
      void drain();
    });
  });
}

const sync = 0x53; // 'S'
const query = 0x51; // 'Q'
const terminate = 0x58; // 'X'
const syncMessage = new Uint8Array([sync, 0, 0, 0, 4]);
const closed = Symbol('closed');
const sslRequest = 80877103;
const gssRequest = 80877104;
const cancelRequest = 80877102;
/** Postgres refuses messages above 1 GB (PQ_LARGE_MESSAGE_LIMIT). */
const maxMessageBytes = 0x3fffffff;

class Connection {
  started = false;
  /** The startup message has arrived: every later message starts with its type byte. */
  private framed = false;
  pending: (Uint8Array | typeof closed)[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(
    readonly socket: Socket,
    private readonly onClose: (conn: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => this.end());
    socket.on('close', () => this.end());
  }

  /** Splits what arrived into whole messages; true when there is a new one to run. */
  receive(data: Buffer): boolean {
    if (this.done) return false;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    let added = false;
    for (;;) {
      const header = this.framed ? 1 : 0;
      if (this.buffer.length < header + 4) break;
      const declared = this.buffer.readInt32BE(header);
      // A length below its own 4 bytes would never consume input (an endless loop); one above Postgres's
      // own limit is not a message either. Either way the stream is out of step: end this connection only.
      if (declared < 4 || declared > maxMessageBytes) {
        this.end();
        return false;
      }
      const length = header + declared;
      if (this.buffer.length < length) break;
      const message = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      if (header === 0) {
        const code = message.length >= 8 ? message.readInt32BE(4) : 0;
        // No TLS over a private socket: "N" tells the client to go on in plain text.
        if (code === sslRequest || code === gssRequest) {
          this.socket.write('N');
          continue;
        }
        // Cancelling would need a second backend; the statement runs to its end.
        if (code === cancelRequest) {
          this.end();
          return false;
        }
        this.framed = true;
      } else if (message[0] === terminate) {
        this.end();
        return false;
      }
      this.pending.push(new Uint8Array(message));
      added = true;
    }
    return added;
  }

  end(error?: Error): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy(error);
    this.onClose(this);
  }
}
