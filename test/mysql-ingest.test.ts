import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { searchCatalog } from '../mcp-server/catalog/search.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { createTestContext } from './helpers/test-context.js';
import { createTestDb } from './helpers/test-db.js';

const databaseName = `dataops_erp_${randomBytes(4).toString('hex')}`;
const url = `mysql://root@127.0.0.1:3306/${databaseName}`;

describe('MariaDB ingested into the catalog', () => {
  let database: Database;
  let ctx: ServiceContext;
  let maria: mysql.Connection;
  const ingest = async () => syncSource(ctx, await createMysqlConnector({ url, name: 'erp' }).discover());

  beforeAll(async () => {
    maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
    await maria.query(`create database ${databaseName}; use ${databaseName};
      create table suppliers (supplier_id int primary key, legal_name varchar(200) not null comment 'Registered name')
        comment 'Approved suppliers';
      create table purchase_orders (po_number varchar(20) primary key, supplier_id int not null,
        total_amount decimal(14,2), status enum('open','closed') not null default 'open',
        constraint fk_po_supplier foreign key (supplier_id) references suppliers (supplier_id));
      insert into suppliers values (1, 'Acme Corp'), (2, 'Globex');
      create view open_purchase_orders as select * from purchase_orders where status = 'open';`);
    database = await createTestDb();
    ctx = await createTestContext(database);
  });
  afterAll(async () => {
    await maria.query(`drop database ${databaseName}`);
    await maria.end();
    await database.close();
  });

  it('catalogs tables, views, columns and foreign keys as information_schema reports them', async () => {
    const summary = await ingest();
    const [[expected]] = (await maria.query(
      `select (select count(*) from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE') as tables,
              (select count(*) from information_schema.views where table_schema = ?) as views,
              (select count(*) from information_schema.columns where table_schema = ?) as columns`,
      [databaseName, databaseName, databaseName],
    )) as unknown as [{ tables: number; views: number; columns: number }[]];
    expect(summary.added).toBe(Number(expected!.tables) + Number(expected!.views));
    const [counts] = await queryRows<{ columns: number; edges: number }>(
      database.db,
      sql`select (select count(*) from columns)::int as columns,
        (select count(*) from lineage_edges where kind = 'references' and valid_to is null)::int as edges`,
    );
    expect(counts).toEqual({ columns: Number(expected!.columns), edges: 1 });
    const hit = (await searchCatalog(ctx, { query: 'suppliers' })).hits[0]!;
    expect(hit).toMatchObject({
      qualifiedName: `${databaseName}.suppliers`,
      description: 'Approved suppliers',
      source: 'erp',
    });
  });

  it('re-ingests without change', async () => {
    expect(await ingest()).toMatchObject({ added: 0, updated: 0, deprecated: 0, schemaChanges: 0 });
  });
});
