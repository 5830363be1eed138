import type { Connection, RowDataPacket } from 'mysql2/promise';
import type {
  DiscoveredAsset,
  DiscoveredColumn,
  DiscoveredForeignKey,
  DiscoveryError,
  ProgressListener,
} from '../types.js';

/** Databases that describe the server itself; skipped unless named explicitly in the URL. */
export const MYSQL_SYSTEM_DATABASES = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export interface ReadMysqlAssetsOptions {
  /** The one database to read, or null for every non-system database. */
  database: string | null;
  /** MariaDB quotes string defaults and spells a NULL default as the word NULL; MySQL does neither. */
  mariadb: boolean;
  onProgress?: ProgressListener;
}

type Row = RowDataPacket & Record<string, unknown>;

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const key = (db: unknown, table: unknown): string => `${text(db)}\u0000${text(table)}`;

const TABLE_TYPES: Record<string, DiscoveredAsset['kind']> = {
  'BASE TABLE': 'table',
  'SYSTEM VERSIONED': 'table',
  VIEW: 'view',
  'SYSTEM VIEW': 'view',
};

/**
 * Reads every table, view, column and key of the database(s) in four information_schema queries,
 * whatever the number of tables. Problems with single objects (a view whose tables are gone) go to `errors`.
 */
export async function readMysqlAssets(
  conn: Connection,
  options: ReadMysqlAssetsOptions,
): Promise<{ assets: DiscoveredAsset[]; errors: DiscoveryError[] }> {
  const scope = options.database === null ? 'TABLE_SCHEMA NOT IN (?)' : 'TABLE_SCHEMA = ?';
  const scopeParams = [options.database ?? MYSQL_SYSTEM_DATABASES];
  const select = async (sql: string) => (await conn.query<Row[]>(sql, scopeParams))[0];

  const tableRows = await select(`
    SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, TABLE_ROWS AS row_count,
      DATA_LENGTH + INDEX_LENGTH AS size_bytes, UNIX_TIMESTAMP(COALESCE(UPDATE_TIME, CREATE_TIME)) AS modified,
      TABLE_COLLATION AS collation, TABLE_COMMENT AS comment, CREATE_OPTIONS AS create_options
    FROM information_schema.TABLES WHERE ${scope} ORDER BY TABLE_SCHEMA, TABLE_NAME`);

  const assets = new Map<string, DiscoveredAsset>();
  const errors: DiscoveryError[] = [];
  for (const row of tableRows) {
    const kind = TABLE_TYPES[text(row.type) ?? ''];
    if (!kind) continue; // sequences and temporary tables hold no data worth cataloguing
    const namespace = text(row.db)!;
    const name = text(row.name)!;
    const comment = text(row.comment) || null;
    const asset: DiscoveredAsset = { kind, namespace, name, columns: [], properties: {} };
    if (kind === 'view') {
      // MySQL puts 'VIEW' in a view's comment, or the reason the view cannot be used.
      if (comment && comment !== 'VIEW') errors.push({ object: `${namespace}.${name}`, message: comment });
    } else {
      const modified = num(row.modified);
      asset.description = comment;
      asset.rowCount = num(row.row_count);
      asset.sizeBytes = num(row.size_bytes);
      asset.lastModified = modified === null ? null : new Date(modified * 1000);
      asset.foreignKeys = [];
      asset.properties = { engine: text(row.engine), collation: text(row.collation) };
      const createOptions = text(row.create_options);
      if (createOptions) asset.properties.createOptions = createOptions;
      if (row.type === 'SYSTEM VERSIONED') asset.properties.systemVersioned = true;
    }
    assets.set(key(namespace, name), asset);
  }
  const total = assets.size;
  options.onProgress?.({ done: 0, total, current: 'columns' });

  const columnRows = await select(`
    SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, ORDINAL_POSITION AS position,
      COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS default_value, COLUMN_COMMENT AS comment,
      EXTRA AS extra, GENERATION_EXPRESSION AS generation
    FROM information_schema.COLUMNS WHERE ${scope}
    ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`);
  for (const row of columnRows) {
    const asset = assets.get(key(row.db, row.tbl));
    if (!asset) continue;
    asset.columns.push({
      name: text(row.name)!,
      position: num(row.position)!,
      dataType: text(row.type)!,
      nullable: text(row.nullable) === 'YES',
      isPrimaryKey: false,
      description: text(row.comment) || null,
      // A view column echoes its base column's default, which never applies to the view.
      defaultValue: asset.kind === 'view' ? null : columnDefault(row, options.mariadb),
    });
  }
  options.onProgress?.({ done: 0, total, current: 'keys' });

  const keyRows = await select(`
    SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, CONSTRAINT_NAME AS constraint_name, COLUMN_NAME AS column_name,
      REFERENCED_TABLE_SCHEMA AS ref_db, REFERENCED_TABLE_NAME AS ref_table, REFERENCED_COLUMN_NAME AS ref_column
    FROM information_schema.KEY_COLUMN_USAGE
    WHERE ${scope}
      AND (REFERENCED_TABLE_NAME IS NOT NULL OR CONSTRAINT_NAME = 'PRIMARY')
    ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`);
  const foreignKeys = new Map<string, DiscoveredForeignKey>();
  for (const row of keyRows) {
    const asset = assets.get(key(row.db, row.tbl));
    if (!asset) continue;
    const columnName = text(row.column_name)!;
    if (row.ref_table === null) {
      // Only the PRIMARY constraint: COLUMNS.COLUMN_KEY also says 'PRI' for a unique key when there is no primary key.
      const column = asset.columns.find((c: DiscoveredColumn) => c.name === columnName);
      if (column) column.isPrimaryKey = true;
      continue;
    }
    const fkKey = `${key(row.db, row.tbl)}\u0000${text(row.constraint_name)}`;
    let fk = foreignKeys.get(fkKey);
    if (!fk) {
      fk = {
        name: text(row.constraint_name)!,
        columns: [],
        refNamespace: text(row.ref_db)!,
        refName: text(row.ref_table)!,
        refColumns: [],
      };
      foreignKeys.set(fkKey, fk);
      asset.foreignKeys ??= [];
      asset.foreignKeys.push(fk);
    }
    fk.columns.push(columnName);
    fk.refColumns.push(text(row.ref_column)!);
  }
  options.onProgress?.({ done: 0, total, current: 'views' });

  const viewRows = await select(`
    SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, VIEW_DEFINITION AS definition, CHECK_OPTION AS check_option,
      IS_UPDATABLE AS updatable, DEFINER AS definer, SECURITY_TYPE AS security_type
    FROM information_schema.VIEWS WHERE ${scope}`);
  for (const row of viewRows) {
    const asset = assets.get(key(row.db, row.name));
    if (!asset) continue;
    asset.definition = text(row.definition) || null;
    asset.owner = text(row.definer);
    asset.properties = {
      checkOption: text(row.check_option),
      updatable: text(row.updatable) === 'YES',
      securityType: text(row.security_type),
    };
    if (!asset.definition) {
      errors.push({
        object: `${asset.namespace}.${asset.name}`,
        message: 'view definition hidden: the connecting user needs the SHOW VIEW privilege to read it',
      });
    }
  }
  options.onProgress?.({ done: total, total });
  return { assets: [...assets.values()], errors };
}

/** The column's default as SQL would spell it, with auto-increment and generated columns made visible. */
function columnDefault(row: Row, mariadb: boolean): string | null {
  const extra = (text(row.extra) ?? '').toLowerCase();
  const generation = text(row.generation);
  // MySQL 8 also writes DEFAULT_GENERATED for expression defaults, which are not generated columns.
  const stored = extra.includes('stored generated');
  if (generation && (stored || extra.includes('virtual generated'))) {
    return `generated always as (${generation}) ${stored ? 'stored' : 'virtual'}`;
  }
  if (extra.includes('auto_increment')) return 'auto_increment';
  const value = text(row.default_value);
  if (value === null || (mariadb && value === 'NULL')) return null;
  return value;
}
