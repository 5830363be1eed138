import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { sourceCredentials, sources } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import { createSecretBox } from '../mcp-server/connectors/source-credentials.js';
import { embeddedTargetPrefix, withSourceReader } from '../mcp-server/connectors/source-reader.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

describe('reading a source again through the connection kept at ingestion', () => {
  let database: Database;
  let ctx: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const mariaName = `dataops_reader_${randomBytes(4).toString('hex')}`;
  let maria: mysql.Connection;
  const embeddedDir = mkdtempSync(path.join(tmpdir(), 'dataops-embedded-source-'));

  const sourceId = async (name: string) =>
    (await ctx.db.select({ id: sources.id }).from(sources).where(eq(sources.name, name)))[0]!.id;

  beforeAll(async () => {
    database = await createTestDb();
    ctx = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_src_reader');
    const admin = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create table sorties (id int primary key, callsign text not null);
      insert into sorties values (1, 'VIPER 11'), (2, 'HAWG 21')`);
    await admin.end();
    maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
    await maria.query(`create database ${mariaName}; use ${mariaName};
      create table depots (id int primary key, name varchar(40)); insert into depots values (1, 'Anniston'), (2, 'Tobyhanna');`);
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
    await maria.query(`drop database ${mariaName}`);
    await maria.end();
    rmSync(embeddedDir, { recursive: true, force: true });
  });

  it('reads a Postgres source with the URL given at ingestion, stored only in encrypted form', async () => {
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'ops' }).discover(), {
      connection: scratch.url,
    });
    const id = await sourceId('ops');
    const [stored] = await ctx.db.select().from(sourceCredentials).where(eq(sourceCredentials.sourceId, id));
    expect(stored!.sealed).not.toContain(scratch.name);
    const rows = await withSourceReader(ctx, id, (reader) =>
      reader.query<{ callsign: string }>('select callsign from sorties where id = $1', [2]),
    );
    expect(rows).toEqual([{ callsign: 'HAWG 21' }]);
  });

  it('refuses to write through a reader', async () => {
    const id = await sourceId('ops');
    await expect(
      withSourceReader(ctx, id, (reader) => reader.query(`insert into sorties values (3, 'BONE 31')`)),
    ).rejects.toThrow(/read-only transaction/);
  });

  it('reads what a person wrote (a read with a timeout) with pg_catalog alone on the search_path, bounded memory and disk', async () => {
    const id = await sourceId('ops');
    const timeout = { seconds: 5, what: 'the read' };
    const [settings] = await withSourceReader(
      ctx,
      id,
      (reader) =>
        reader.query<Record<string, string>>(
          `select current_setting('search_path') as search_path, current_setting('work_mem') as work_mem,
                  current_setting('temp_file_limit') as temp_file_limit`,
        ),
      timeout,
    );
    // The test server's login is a superuser, so temp_file_limit is set too (skipped for any other login).
    expect(settings).toEqual({ search_path: 'pg_catalog', work_mem: '16MB', temp_file_limit: '1GB' });
    // A table is then found only by its schema-qualified name, as the gate writes every one.
    await expect(withSourceReader(ctx, id, (reader) => reader.query('select 1 from sorties'), timeout)).rejects.toThrow(
      /relation "sorties" does not exist/,
    );
  });

  it('reads a MariaDB source with ? parameters', async () => {
    const url = `mysql://root@127.0.0.1:3306/${mariaName}`;
    await syncSource(ctx, await createMysqlConnector({ url, name: 'depots' }).discover(), { connection: url });
    const rows = await withSourceReader(ctx, await sourceId('depots'), (reader) =>
      reader.query<{ name: string }>('select name from depots where id = ?', [1]),
    );
    expect(rows).toEqual([{ name: 'Anniston' }]);
  });

  it('reads an embedded database by its directory, one user at a time', async () => {
    const db = await PGlite.create({ dataDir: embeddedDir });
    await db.exec(`create table convoys (id int primary key, route text); insert into convoys values (1, 'MSR Tampa')`);
    await db.close();
    const [row] = await ctx.db
      .insert(sources)
      .values({ kind: 'postgres', name: 'embedded', location: 'embedded demo' })
      .returning({ id: sources.id });
    await ctx.db
      .insert(sourceCredentials)
      .values({ sourceId: row!.id, sealed: ctx.secrets!.seal(`${embeddedTargetPrefix}${embeddedDir}`) });
    const read = () =>
      withSourceReader(ctx, row!.id, (reader) => reader.query<{ route: string }>('select route from convoys'));
    expect(await Promise.all([read(), read()])).toEqual([[{ route: 'MSR Tampa' }], [{ route: 'MSR Tampa' }]]);
  });

  it('says what to do when no connection was kept, or the key changed', async () => {
    const [bare] = await ctx.db
      .insert(sources)
      .values({ kind: 'postgres', name: 'bare', location: 'postgres://db.example/bare' })
      .returning({ id: sources.id });
    await expect(withSourceReader(ctx, bare!.id, async () => 1)).rejects.toThrow(
      /connection to source "bare" was not kept: ingest it again/,
    );
    const otherKey = { ...ctx, secrets: createSecretBox('a different workspace key of enough length') };
    await expect(withSourceReader(otherKey, await sourceId('ops'), async () => 1)).rejects.toThrow(
      /could not be decrypted: the workspace secret key changed/,
    );
    await expect(withSourceReader({ ...ctx, secrets: null }, await sourceId('ops'), async () => 1)).rejects.toThrow(
      /DATAOPS_SECRET_KEY/,
    );
    await expect(withSourceReader(ctx, '00000000-0000-0000-0000-000000000000', async () => 1)).rejects.toThrow(
      /no source/,
    );
  });

  it('forgets the connection with its source', async () => {
    const id = await sourceId('ops');
    await ctx.db.delete(sources).where(eq(sources.id, id));
    expect(await ctx.db.select().from(sourceCredentials).where(eq(sourceCredentials.sourceId, id))).toEqual([]);
  });
});
