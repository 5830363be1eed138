import { randomBytes } from 'node:crypto';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveredAsset, DiscoverProgress, SourceSnapshot } from '../types.js';
import { createMysqlConnector } from './mysql-connector.js';

// Needs the MariaDB/MySQL server the machine runs on 127.0.0.1:3306 with a password-less root.
const ROOT = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const suffix = randomBytes(4).toString('hex');
const DB = `dataops_mysql_${suffix}`;
const USER = `dataops_${suffix}`;
const PASSWORD = 'S3cr@t/pw:x'; // needs percent-encoding in a URL
const USER_URL = `mysql://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:3306/${DB}`;

const SCHEMA = `
CREATE TABLE customer (
  customer_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  email VARCHAR(120) NOT NULL UNIQUE,
  tier ENUM('free','pro','enterprise') NOT NULL DEFAULT 'free',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB COMMENT='People who buy things';
CREATE TABLE product (
  sku VARCHAR(40) NOT NULL PRIMARY KEY,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(10,2) NOT NULL COMMENT 'in USD',
  stock SMALLINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB COMMENT='Things for sale';
CREATE TABLE orders (
  order_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
  note TEXT NULL,
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id)
) ENGINE=InnoDB;
CREATE TABLE order_line (
  order_id BIGINT UNSIGNED NOT NULL,
  line_no SMALLINT UNSIGNED NOT NULL,
  sku VARCHAR(40) NOT NULL,
  quantity INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (order_id, line_no),
  CONSTRAINT fk_line_order FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE CASCADE,
  CONSTRAINT fk_line_product FOREIGN KEY (sku) REFERENCES product (sku)
) ENGINE=InnoDB;
CREATE TABLE shipment (
  shipment_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ord BIGINT UNSIGNED NOT NULL,
  line SMALLINT UNSIGNED NOT NULL,
  shipped_on DATE NULL,
  CONSTRAINT fk_shipment_line FOREIGN KEY (ord, line) REFERENCES order_line (order_id, line_no)
) ENGINE=InnoDB;
CREATE TABLE exchange_rate (
  currency CHAR(3) NOT NULL,
  rate DECIMAL(12,6) NOT NULL,
  UNIQUE KEY uq_currency (currency)
) ENGINE=InnoDB;
CREATE TABLE scratch (id INT);
CREATE VIEW customer_orders AS
  SELECT c.email, o.order_id, o.status FROM customer c JOIN orders o ON o.customer_id = c.customer_id;
CREATE VIEW broken_view AS SELECT id FROM scratch;
DROP TABLE scratch;
INSERT INTO customer (email, tier) VALUES ('a@example.com', 'pro'), ('b@example.com', 'free'), ('c@example.com', 'enterprise');
INSERT INTO orders (customer_id) VALUES (1), (1), (2);
ANALYZE TABLE customer, orders;
`;

let root: Connection;
let snapshot: SourceSnapshot;
const progress: DiscoverProgress[] = [];

const find = (name: string): DiscoveredAsset => {
  const asset = snapshot.assets.find((a) => a.name === name);
  if (!asset) throw new Error(`${name} was not discovered`);
  return asset;
};
const count = async (sql: string): Promise<number> => Number((await root.query<RowDataPacket[]>(sql, [DB]))[0][0]?.n);
const sessionsOf = async (user: string): Promise<number> =>
  Number(
    (
      await root.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [
        user,
      ])
    )[0][0]?.n,
  );

beforeAll(async () => {
  root = await mysql.createConnection({ ...ROOT, multipleStatements: true });
  await root.query(`CREATE DATABASE \`${DB}\`; USE \`${DB}\`; ${SCHEMA}`);
  await root.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY ?`, [PASSWORD]);
  await root.query(`GRANT SELECT, SHOW VIEW ON \`${DB}\`.* TO '${USER}'@'%'`);
  snapshot = await createMysqlConnector({ url: USER_URL }).discover((p) => progress.push(p));
});

afterAll(async () => {
  await root?.query(`DROP DATABASE IF EXISTS \`${DB}\``);
  await root?.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await root?.end();
});

describe('createMysqlConnector discover', () => {
  it('finds the tables, views, columns and foreign keys that information_schema reports', async () => {
    const tables = snapshot.assets.filter((a) => a.kind === 'table');
    const views = snapshot.assets.filter((a) => a.kind === 'view');
    const columns = snapshot.assets.reduce((n, a) => n + a.columns.length, 0);
    const foreignKeys = snapshot.assets.reduce((n, a) => n + (a.foreignKeys?.length ?? 0), 0);

    expect(tables.map((t) => t.name).sort()).toEqual([
      'customer',
      'exchange_rate',
      'order_line',
      'orders',
      'product',
      'shipment',
    ]);
    expect(views.map((v) => v.name).sort()).toEqual(['broken_view', 'customer_orders']);
    expect(tables).toHaveLength(
      await count(
        "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
      ),
    );
    expect(views).toHaveLength(
      await count('SELECT COUNT(*) AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?'),
    );
    expect(columns).toBe(await count('SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?'));
    expect(columns).toBe(4 + 4 + 4 + 4 + 4 + 2 + 3);
    expect(foreignKeys).toBe(
      await count('SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?'),
    );
    expect(foreignKeys).toBe(4);
  });

  it('names the source after the database and hides the password in its location', () => {
    expect(snapshot.kind).toBe('mysql');
    expect(snapshot.name).toBe(DB);
    expect(snapshot.location).toBe(`mysql://${USER}@127.0.0.1:3306/${DB}`);
    expect(JSON.stringify(snapshot)).not.toContain('S3cr');
    expect(snapshot.assets.every((a) => a.namespace === DB)).toBe(true);
  });

  it('reports full column types, keys, comments and defaults as MySQL spells them', () => {
    const customer = find('customer');
    expect(customer.description).toBe('People who buy things');
    expect(customer.columns.map((c) => c.name)).toEqual(['customer_id', 'email', 'tier', 'created_at']);
    expect(customer.columns[0]).toMatchObject({
      position: 1,
      dataType: expect.stringMatching(/^int(\(10\))? unsigned$/),
      nullable: false,
      isPrimaryKey: true,
      description: 'surrogate key',
    });
    expect(customer.columns[2]).toMatchObject({
      dataType: "enum('free','pro','enterprise')",
      isPrimaryKey: false,
      defaultValue: expect.stringMatching(/^'?free'?$/),
    });
    expect(find('product').columns.find((c) => c.name === 'price')).toMatchObject({
      dataType: 'decimal(10,2)',
      description: 'in USD',
    });
    expect(find('product').columns.find((c) => c.name === 'sku')?.dataType).toBe('varchar(40)');
    expect(find('orders').columns.find((c) => c.name === 'note')).toMatchObject({ nullable: true, defaultValue: null });
    expect(
      find('order_line')
        .columns.filter((c) => c.isPrimaryKey)
        .map((c) => c.name),
    ).toEqual(['order_id', 'line_no']);
    // A unique NOT NULL key is not a primary key, although COLUMNS.COLUMN_KEY says 'PRI' for it.
    expect(find('exchange_rate').columns.some((c) => c.isPrimaryKey)).toBe(false);
  });

  it('reports simple and composite foreign keys with their columns in declaration order', () => {
    expect(find('order_line').foreignKeys).toEqual([
      { name: 'fk_line_order', columns: ['order_id'], refNamespace: DB, refName: 'orders', refColumns: ['order_id'] },
      { name: 'fk_line_product', columns: ['sku'], refNamespace: DB, refName: 'product', refColumns: ['sku'] },
    ]);
    expect(find('shipment').foreignKeys).toEqual([
      {
        name: 'fk_shipment_line',
        columns: ['ord', 'line'],
        refNamespace: DB,
        refName: 'order_line',
        refColumns: ['order_id', 'line_no'],
      },
    ]);
    expect(find('customer').foreignKeys).toEqual([]);
  });

  it('gives row estimates, sizes, modification times and the engine of tables', () => {
    const customer = find('customer');
    expect(customer.rowCount).toBe(3);
    expect(customer.sizeBytes).toBeGreaterThan(0);
    expect(customer.lastModified).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - customer.lastModified!.getTime())).toBeLessThan(10 * 60_000);
    expect(customer.properties).toMatchObject({ engine: 'InnoDB', collation: expect.any(String) });
  });

  it('describes views with their definition and columns, and reports a view whose table is gone', () => {
    const view = find('customer_orders');
    expect(view.definition).toMatch(/join/i);
    expect(view.definition).toContain('customer_id');
    expect(view.columns.map((c) => c.name)).toEqual(['email', 'order_id', 'status']);
    expect(view.columns.every((c) => c.defaultValue === null)).toBe(true);
    expect(snapshot.errors).toEqual([
      { object: `${DB}.broken_view`, message: expect.stringMatching(/invalid table/i) },
    ]);
  });

  it('reports progress ending with every asset done', () => {
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ done: snapshot.assets.length, total: snapshot.assets.length });
  });

  it('closes its connection after discovering', async () => {
    for (let i = 0; i < 20 && (await sessionsOf(USER)) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await sessionsOf(USER)).toBe(0);
  });

  it('without a database in the URL reads every database except the system ones', async () => {
    const all = await createMysqlConnector({ url: 'mariadb://root@127.0.0.1:3306', name: 'local' }).discover();
    const namespaces = new Set(all.assets.map((a) => a.namespace));
    expect(all.name).toBe('local');
    expect(all.location).toBe('mariadb://root@127.0.0.1:3306');
    expect(all.assets.filter((a) => a.namespace === DB)).toHaveLength(snapshot.assets.length);
    for (const system of ['mysql', 'information_schema', 'performance_schema', 'sys']) {
      expect(namespaces.has(system)).toBe(false);
    }
  });

  it('says a view definition is hidden when the user lacks SHOW VIEW', async () => {
    await root.query(`REVOKE SHOW VIEW ON \`${DB}\`.* FROM '${USER}'@'%'`);
    try {
      const limited = await createMysqlConnector({ url: USER_URL }).discover();
      expect(limited.assets.find((a) => a.name === 'customer_orders')?.definition).toBeNull();
      expect(limited.errors).toContainEqual({
        object: `${DB}.customer_orders`,
        message: expect.stringContaining('SHOW VIEW'),
      });
    } finally {
      await root.query(`GRANT SHOW VIEW ON \`${DB}\`.* TO '${USER}'@'%'`);
    }
  });
});
