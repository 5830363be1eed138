import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { DataOpsError, isDataOpsError } from '../../../core/errors.js';
import type { Connector, ProgressListener, SourceSnapshot } from '../types.js';
import { mysqlErrorReason } from './mysql-error-reason.js';
import { type MysqlTarget, parseMysqlUrl } from './parse-mysql-url.js';
import { readMysqlAssets } from './read-mysql-assets.js';

export interface MysqlConnectorOptions {
  /** `mysql://user:password@host:port/database` or `mariadb://…`; without a database, every non-system database. */
  url: string;
  /** Display name of the source; defaults to the database name, or the host when there is none. */
  name?: string;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A connector that describes a MySQL or MariaDB database (or every non-system database on the server)
 * from information_schema. Throws `invalid_input` at once for a malformed URL; `discover` throws
 * `unavailable` with a one-line reason when the server cannot be reached or refuses the login.
 */
export function createMysqlConnector(options: MysqlConnectorOptions): Connector {
  const target = parseMysqlUrl(options.url);
  const { location } = target;
  const defaultName = target.port === 3306 ? target.host : `${target.host}:${target.port}`;
  const sourceName = options.name ?? target.database ?? defaultName;

  async function discover(onProgress?: ProgressListener): Promise<SourceSnapshot> {
    const conn = await connectMysql(target);
    try {
      const [versionRows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS version');
      const version = String(versionRows[0]?.version ?? '');
      const { assets, errors } = await readMysqlAssets(conn, {
        database: target.database,
        mariadb: version.toLowerCase().includes('mariadb'),
        onProgress,
      });
      return { kind: 'mysql', name: sourceName, location, assets, errors };
    } catch (error) {
      if (isDataOpsError(error)) throw error;
      const reason = mysqlErrorReason(error, target.password);
      throw new DataOpsError('unavailable', `could not read metadata from ${location}: ${reason}`, { cause: error });
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  }

  return { kind: 'mysql', discover };
}

/** Opens one connection; `unavailable` with a one-line reason when the server cannot be reached or refuses the login. */
export async function connectMysql(target: MysqlTarget): Promise<Connection> {
  try {
    const conn = await mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database ?? undefined,
      socketPath: target.socketPath,
      ssl: target.ssl,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    // Failures reach us through the pending query; without a listener a dropped idle connection would crash the process.
    conn.on('error', () => {});
    return conn;
  } catch (error) {
    const reason = mysqlErrorReason(error, target.password);
    throw new DataOpsError('unavailable', `could not connect to ${target.location}: ${reason}`, { cause: error });
  }
}
