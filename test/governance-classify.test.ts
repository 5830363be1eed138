import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, queryRows } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createMysqlConnector } from '../mcp-server/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import { withSourceReader } from '../mcp-server/connectors/source-reader.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { classifyAsset } from '../mcp-server/governance/classify.js';
import { setClassification } from '../mcp-server/governance/markings.js';
import { maskAssetRows } from '../mcp-server/governance/masking.js';
import { connectMcpClient } from './helpers/mcp-client.js';
import { contextAs, createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

const pagila = (name: string) => assetUrn('postgres', 'pagila', 'public', name);
const northwind = (name: string) => assetUrn('postgres', 'northwind', 'public', name);

type Suggestion = {
  column: string;
  kind: string;
  applied: boolean;
  evidence: {
    sampled: number;
    matched: number;
    matchShare: number | null;
    example: string | null;
    nameHint: string | null;
  };
};
type Classified = Awaited<ReturnType<typeof classifyAsset>>;

const kinds = (r: Classified) => Object.fromEntries(r.columns.map((c) => [c.column, c.kind]));

describe('finding personal data in Pagila and Northwind, with evidence', () => {
  let database: Database;
  let admin: ServiceContext;
  let stewardCtx: ServiceContext;
  let analystCtx: ServiceContext;
  let analyst: Client;
  let steward: Client;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    await syncSource(admin, await createPostgresConnector({ url: inject('pagilaUrl'), name: 'pagila' }).discover(), {
      connection: inject('pagilaUrl'),
    });
    await syncSource(
      admin,
      await createPostgresConnector({ url: inject('northwindUrl'), name: 'northwind' }).discover(),
      { connection: inject('northwindUrl') },
    );
    stewardCtx = await contextAs(database, {
      id: 'sam',
      displayName: 'Sam Steward',
      clearance: 'S',
      roles: ['steward'],
    });
    analystCtx = await contextAs(database, {
      id: 'ana',
      displayName: 'Ana Analyst',
      clearance: 'C',
      roles: ['viewer'],
    });
    steward = await connectMcpClient(stewardCtx);
    analyst = await connectMcpClient(analystCtx);
  });
  afterAll(() => database.close());

  it("finds Pagila customers' and staff's emails and names, with the share of values that matched", async () => {
    const customer = await classifyAsset(analystCtx, { urn: pagila('customer') });
    expect(customer.sample).toMatchObject({ method: 'limit', rows: 200, note: null });
    expect(kinds(customer)).toEqual({ first_name: 'person_name', last_name: 'person_name', email: 'email' });
    const email = customer.columns.find((c) => c.column === 'email')!;
    expect(email.evidence).toMatchObject({ nameHint: 'email', sampled: 200, matched: 200, matchShare: 1 });
    // The example is masked: the first letter and the domain, never the address.
    expect(email.evidence.example).toMatch(/^[A-Z]\*\*\*@sakilacustomer\.org$/);
    expect(customer.marking).toMatchObject({ current: 'U', suggested: 'C' });

    const staff = await classifyAsset(analystCtx, { urn: pagila('staff') });
    expect(kinds(staff)).toMatchObject({ first_name: 'person_name', last_name: 'person_name', email: 'email' });
    expect(Object.keys(kinds(staff))).not.toContain('username');
    expect(Object.keys(kinds(staff))).not.toContain('password');
  });

  it("finds Pagila's postal addresses and phone numbers, and leaves films, cities and payments alone", async () => {
    const address = await classifyAsset(analystCtx, { urn: pagila('address') });
    expect(kinds(address)).toMatchObject({ address: 'postal_address', postal_code: 'postal_address', phone: 'phone' });
    expect(address.columns.find((c) => c.column === 'address')!.evidence.matchShare).toBeGreaterThan(0.95);
    expect(Object.keys(kinds(address))).not.toContain('district');
    for (const table of ['film', 'category', 'language', 'city', 'country', 'payment', 'rental', 'inventory']) {
      const result = await classifyAsset(analystCtx, { urn: pagila(table) });
      expect(result.columns, table).toEqual([]);
      expect(result.marking.suggested, table).toBe('U');
    }
  });

  it("finds Northwind's contact names, addresses, phones and birth dates", async () => {
    const customers = await classifyAsset(analystCtx, { urn: northwind('customers') });
    expect(kinds(customers)).toEqual({
      contact_name: 'person_name',
      address: 'postal_address',
      postal_code: 'postal_address',
      phone: 'phone',
      fax: 'phone',
    });
    const phone = customers.columns.find((c) => c.column === 'phone')!;
    expect(phone.evidence.sampled).toBe(91);
    expect(phone.evidence.matchShare).toBe(1);
    // Only the last four digits are kept.
    expect(phone.evidence.example).toMatch(/\*.*\d{4}$/);
    expect(phone.evidence.example!.replace(/\D/g, '')).toHaveLength(4);
    const employees = await classifyAsset(analystCtx, { urn: northwind('employees') });
    expect(kinds(employees)).toMatchObject({
      last_name: 'person_name',
      first_name: 'person_name',
      birth_date: 'date_of_birth',
      address: 'postal_address',
      home_phone: 'phone',
    });
    expect(employees.columns.find((c) => c.column === 'birth_date')!.evidence.example).toMatch(/^19\d\d-\*\*-\*\*$/);
    for (const notPii of ['title', 'hire_date', 'notes', 'extension', 'city', 'country', 'photo'])
      expect(Object.keys(kinds(employees))).not.toContain(notPii);
    for (const table of ['products', 'categories', 'order_details', 'region', 'territories']) {
      expect((await classifyAsset(analystCtx, { urn: northwind(table) })).columns, table).toEqual([]);
    }
  });

  it('lets everybody cleared see suggestions; stewards apply them, recorded and audited, once', async () => {
    const denied = (await analyst.callTool({
      name: 'governance_classify',
      arguments: { urn: northwind('customers'), apply: true },
    })) as { isError?: boolean; content: { text: string }[] };
    expect(denied.isError).toBe(true);
    expect(denied.content[0]!.text).toMatch(/needs the steward or owner role/);

    const applied = (await steward.callTool({
      name: 'governance_classify',
      arguments: { urn: northwind('customers'), apply: true },
    })) as unknown as { structuredContent: Classified; content: { text: string }[] };
    expect(applied.structuredContent).toMatchObject({ applied: true, changed: 6 });
    expect(applied.content[0]!.text).toMatch(/contact_name: person_name/);
    const columns = await queryRows<{ name: string; sensitivity: string | null; tags: string[] }>(
      database.db,
      sql`select c.name, c.sensitivity, c.tags from columns c join assets a on a.id = c.asset_id
          where a.urn = ${northwind('customers')} and c.sensitivity is not null order by c.position`,
    );
    expect(columns.map((c) => `${c.name}:${c.sensitivity}:${c.tags.join(',')}`)).toEqual([
      'contact_name:pii:pii:person_name',
      'address:pii:pii:postal_address',
      'postal_code:pii:pii:postal_address',
      'phone:pii:pii:phone',
      'fax:pii:pii:phone',
    ]);
    const events = await queryRows<{ column: string | null; kind: string; to: string; reason: string }>(
      database.db,
      sql`select e.column_name as column, e.kind, e.to_level as to, e.reason from classification_events e
          join assets a on a.id = e.asset_id where a.urn = ${northwind('customers')} order by e.column_name nulls first`,
    );
    expect(events[0]).toMatchObject({ column: null, kind: 'suggestion_applied', to: 'C' });
    expect(events.find((e) => e.column === 'phone')!.reason).toMatch(
      /^phone: phone number shape .* on sampled values; 100% of 91 sampled values matched; the column name says "phone"$/,
    );
    const [asset] = await queryRows<{ classification: string }>(
      database.db,
      sql`select classification from assets where urn = ${northwind('customers')}`,
    );
    expect(asset!.classification).toBe('C');
    const audit = await queryRows<{ actor: string; details: { columns: { column: string }[] } }>(
      database.db,
      sql`select actor_id as actor, details from audit_log where action = 'classification.suggestions_applied'
          and target_urn = ${northwind('customers')}`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe('sam');
    expect(audit[0]!.details.columns.map((c) => c.column)).toContain('contact_name');

    const again = await classifyAsset(stewardCtx, { urn: northwind('customers'), apply: true });
    expect(again).toMatchObject({ applied: true, changed: 0 });
    expect(again.columns.every((c) => c.applied)).toBe(true);
  });

  it('never shows an asset above the caller clearance, even its suggestions', async () => {
    await setClassification(admin, { urn: northwind('employees'), classification: 'S' });
    const hidden = (await analyst.callTool({
      name: 'governance_classify',
      arguments: { urn: northwind('employees') },
    })) as { isError?: boolean; content: { text: string }[] };
    expect(hidden.isError).toBe(true);
    expect(hidden.content[0]!.text).toMatch(/no asset/);
  });

  it("masks rows read from Pagila by the caller's role, with one salt for the workspace", async () => {
    const [customer] = await queryRows<{ id: string }>(
      database.db,
      sql`select id::text from assets where urn = ${pagila('customer')}`,
    );
    const sourceId = (
      await queryRows<{ id: string }>(
        database.db,
        sql`select source_id::text as id from assets where urn = ${pagila('customer')}`,
      )
    )[0]!.id;
    const rows = await withSourceReader(admin, sourceId, (reader) =>
      reader.query<Record<string, unknown>>(
        'select customer_id, first_name, last_name, email from customer where customer_id = 1',
      ),
    );
    expect(rows[0]!.email).toBe('MARY.SMITH@sakilacustomer.org');
    const forAnalyst = await maskAssetRows(analystCtx, customer!.id, rows);
    // Not yet marked PII, but named like it: masked all the same.
    expect(forAnalyst.rows[0]).toEqual({
      customer_id: 1,
      first_name: 'M***',
      last_name: 'S***',
      email: 'M***@sakilacustomer.org',
    });
    const forSteward = await maskAssetRows(stewardCtx, customer!.id, rows);
    expect(forSteward.rows[0]!.email).toBe('MARY.SMITH@sakilacustomer.org');
    const [salt] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from masking_salts`);
    expect(salt!.n).toBe(1);
  });
});

describe('finding personal data in a MariaDB source', () => {
  const name = `dataops_pii_${randomBytes(4).toString('hex')}`;
  let maria: mysql.Connection;
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
    await maria.query(`create database ${name}; use ${name};
      create table subscribers (id int primary key, contact varchar(80), card varchar(24), last_seen_from varchar(40),
        signed_up date, plan varchar(20));
      insert into subscribers values
        (1, 'k.lee@example.com', '4111 1111 1111 1111', '192.168.10.4', '2024-01-02', 'basic'),
        (2, 'r.patel@example.org', '5555 5555 5555 4444', '10.0.0.17', '2024-02-11', 'pro'),
        (3, 'd.kowalski@example.net', '3782 822463 10005', '2001:db8::8a2e:370:7334', '2024-03-05', 'basic'),
        (4, 'm.okafor@example.com', '6011 1111 1111 1117', '172.16.4.9', '2024-04-20', 'team');`);
    database = await createTestDb();
    ctx = await createTestContext(database);
    const url = `mysql://root@127.0.0.1:3306/${name}`;
    await syncSource(ctx, await createMysqlConnector({ url, name: 'subscribers' }).discover(), { connection: url });
  });
  afterAll(async () => {
    await database.close();
    await maria.query(`drop database ${name}`);
    await maria.end();
  });

  it('reads the values through the MySQL dialect and finds emails, cards and IPs by value alone', async () => {
    const result = await classifyAsset(ctx, { urn: assetUrn('mysql', 'subscribers', name, 'subscribers') });
    expect(result.sample).toMatchObject({ method: 'limit', rows: 4 });
    expect(kinds(result)).toEqual({ contact: 'email', card: 'payment_card', last_seen_from: 'ip_address' });
    const card = result.columns.find((c) => c.column === 'card') as Suggestion | undefined;
    expect(card!.evidence).toMatchObject({ nameHint: null, matched: 4, matchShare: 1 });
    expect(card!.evidence.example).toBe('**** **** **** 1111');
  });
});

describe('sampling a large table', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let database: Database;
  let ctx: ServiceContext;

  beforeAll(async () => {
    scratch = await createScratchDatabase(serverUrl, 'dataops_pii_large');
    const admin = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create table signups as
      select i as id, 'user' || i || '@example.com' as contact, (i % 7) as tier from generate_series(1, 150000) i;
      analyze signups`);
    await admin.end();
    database = await createTestDb();
    ctx = await createTestContext(database);
    await syncSource(ctx, await createPostgresConnector({ url: scratch.url, name: 'signups' }).discover(), {
      connection: scratch.url,
    });
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('reads random blocks of a table over 100,000 rows, not its first rows', async () => {
    const result = await classifyAsset(ctx, { urn: assetUrn('postgres', 'signups', 'public', 'signups') });
    expect(result.sample.method).toBe('tablesample');
    expect(result.sample.rows).toBeGreaterThan(0);
    expect(result.sample.rows).toBeLessThanOrEqual(200);
    expect(kinds(result)).toEqual({ contact: 'email' });
    expect(result.columns[0]!.evidence.matchShare).toBe(1);
  });
});
