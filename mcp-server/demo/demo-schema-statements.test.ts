import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Classification } from '../../db/schema/types.js';
import { createScratchDatabase, serverUrl } from '../../test/helpers/test-db.js';
import { demoAnnotations } from './demo-annotations.js';
import { type DemoDefect, demoDefects } from './demo-defects.js';
import { demoDomains } from './demo-domains.js';
import { demoPrincipals } from './demo-principals.js';
import { demoSchemaStatements } from './demo-schema-statements.js';
import { demoAsOf } from './deterministic-sql.js';

type Row = Record<string, unknown>;
type Query = (text: string) => Promise<Row[]>;

const schemas = "('contracts', 'performance', 'personnel', 'logistics')";
const rank: Record<Classification, number> = { U: 0, C: 1, S: 2, TS: 3 };
/** Set by the PGlite suite, so the server suite can check both engines produce the same rows. */
let pgliteFingerprint: Record<string, { rows: number; md5: string }> | undefined;

async function load(run: (statement: string) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (const statement of demoSchemaStatements()) await run(statement);
  return Math.round(performance.now() - started);
}

/** Row count and content checksum of every table and materialized view: equal fingerprints mean equal data. */
async function fingerprint(query: Query): Promise<Record<string, { rows: number; md5: string }>> {
  const relations = await query(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ${schemas} AND c.relkind IN ('r', 'm') ORDER BY 1`,
  );
  const result: Record<string, { rows: number; md5: string }> = {};
  for (const { name } of relations) {
    const [row] = await query(
      `SELECT count(*)::int AS rows, md5(string_agg(t::text, ',' ORDER BY t::text COLLATE "C")) AS md5 FROM ${name} t`,
    );
    result[String(name)] = { rows: Number(row?.rows), md5: String(row?.md5) };
  }
  return result;
}

/** What a quality check would measure for a planted defect, computed independently of how it was planted. */
async function measure(query: Query, defect: DemoDefect): Promise<number> {
  const { table, column } = defect;
  let sql: string;
  switch (defect.kind) {
    case 'nulls':
      sql = `SELECT count(*)::int AS n FROM ${table} WHERE ${column} IS NULL`;
      break;
    case 'duplicates':
      sql = `SELECT (count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM ${table}) d))::int AS n FROM ${table}`;
      break;
    case 'stale':
      sql = `SELECT count(*)::int AS n FROM ${table} WHERE ${column} < DATE '${demoAsOf}' - 365`;
      break;
    case 'orphans': {
      const [schema, parent, key] = defect.references?.split('.') ?? [];
      sql = `SELECT count(*)::int AS n FROM ${table} c WHERE c.${column} IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM ${schema}.${parent} p WHERE p.${key} = c.${column})`;
      break;
    }
  }
  const [row] = await query(sql);
  return Number(row?.n);
}

async function expectDefectsPresent(query: Query): Promise<void> {
  for (const defect of demoDefects) {
    expect(await measure(query, defect), `${defect.kind} in ${defect.table}`).toBe(defect.expectedCount);
  }
  const [stale] = await query(
    `SELECT max(last_updated)::text AS latest, count(*)::int AS n FROM logistics.depot_fuel_issues`,
  );
  const staleDefect = demoDefects.find((d) => d.kind === 'stale');
  expect(stale?.latest).toBe(staleDefect?.latest?.replace('T', ' '));
  expect(stale?.n).toBe(staleDefect?.expectedCount);
  // The defects are only findable by profiling: no constraint declares them.
  const [constraints] = await query(
    `SELECT count(*) FILTER (WHERE conrelid = 'logistics.shipment_events'::regclass AND contype IN ('p', 'u'))::int AS event_keys,
            count(*) FILTER (WHERE conrelid = 'contracts.subcontract_reports'::regclass AND contype = 'f')::int AS report_fks
     FROM pg_constraint`,
  );
  expect(constraints).toEqual({ event_keys: 0, report_fks: 0 });
}

async function viewRowCounts(query: Query): Promise<Record<string, number>> {
  const views = await query(
    `SELECT schemaname || '.' || viewname AS name FROM pg_views WHERE schemaname IN ${schemas}
     UNION ALL SELECT schemaname || '.' || matviewname FROM pg_matviews WHERE schemaname IN ${schemas} ORDER BY 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of views) {
    const [row] = await query(`SELECT count(*)::int AS n FROM ${name}`);
    counts[String(name)] = Number(row?.n);
  }
  return counts;
}

describe('demo workspace on PGlite', () => {
  let db: PGlite;
  let query: Query;
  let loadMs: number;
  let first: Record<string, { rows: number; md5: string }>;

  beforeAll(async () => {
    db = await PGlite.create();
    query = async (text) => (await db.query<Row>(text)).rows;
    loadMs = await load((statement) => db.exec(statement));
    first = await fingerprint(query);
    pgliteFingerprint = first;
  }, 180_000);
  afterAll(async () => db?.close());

  it('loads about 300,000 rows', () => {
    const rows = Object.values(first).reduce((sum, { rows }) => sum + rows, 0);
    // How long it took is printed for whoever reads the log; speed is not asserted in a test.
    console.log(`demo loaded into PGlite in ${loadMs} ms: ${rows} rows`);
    expect(rows).toBeGreaterThan(300_000);
  });

  it('has about 100,000 rows in its largest table, contract payments', () => {
    const [largest, rows] = Object.entries(first).reduce((a, b) => (b[1].rows > a[1].rows ? b : a));
    expect(largest).toBe('contracts.payments');
    expect(rows.rows).toBe(100_000);
    expect(Object.values(first).every(({ rows }) => rows > 0)).toBe(true);
  });

  it('contains every planted quality defect, with its expected count', async () => {
    await expectDefectsPresent(query);
  });

  it('has views and materialized views that return rows', async () => {
    const counts = await viewRowCounts(query);
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(8);
    for (const [name, n] of Object.entries(counts)) expect(n, name).toBeGreaterThan(0);
    const [mv] = await query(`SELECT count(*)::int AS n FROM pg_matviews WHERE schemaname IN ${schemas}`);
    expect(mv?.n).toBeGreaterThanOrEqual(1);
  });

  it('describes most tables and key columns, but not all of them', async () => {
    const [row] = await query(
      `SELECT count(*)::int AS tables, count(obj_description(c.oid, 'pg_class'))::int AS described,
         (SELECT count(*)::int FROM pg_description d JOIN pg_class k ON k.oid = d.objoid JOIN pg_namespace s ON s.oid = k.relnamespace
          WHERE d.objsubid > 0 AND s.nspname IN ${schemas}) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ${schemas} AND c.relkind IN ('r', 'v', 'm')`,
    );
    const { tables, described, columns } = row as { tables: number; described: number; columns: number };
    expect(described / tables).toBeGreaterThan(0.8);
    expect(described).toBeLessThan(tables);
    expect(columns).toBeGreaterThan(60);
  });

  it('uses enum and domain types and foreign keys across schemas', async () => {
    const [row] = await query(
      `SELECT (SELECT count(*)::int FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname IN ${schemas} AND t.typtype = 'e') AS enums,
              (SELECT count(*)::int FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname IN ${schemas} AND t.typtype = 'd') AS domains,
              (SELECT count(*)::int FROM pg_constraint k JOIN pg_class a ON a.oid = k.conrelid JOIN pg_class b ON b.oid = k.confrelid
               WHERE k.contype = 'f' AND a.relnamespace <> b.relnamespace) AS cross_schema_fks`,
    );
    expect(row?.enums).toBeGreaterThanOrEqual(1);
    expect(row?.domains).toBeGreaterThanOrEqual(1);
    expect(row?.cross_schema_fks).toBeGreaterThanOrEqual(5);
  });

  it('annotates exactly the tables and views that exist, with columns that exist', async () => {
    const columns = await query(
      `SELECT n.nspname || '.' || c.relname AS rel, a.attname AS col FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE n.nspname IN ${schemas} AND c.relkind IN ('r', 'v', 'm')`,
    );
    const existing = new Set(columns.map(({ rel, col }) => `${rel}.${col}`));
    const relations = new Set(columns.map(({ rel }) => String(rel)));
    expect(Object.keys(demoAnnotations).sort()).toEqual([...relations].sort());
    for (const [table, annotation] of Object.entries(demoAnnotations)) {
      expect(table.split('.')[0]).toBe(annotation.domain);
      for (const column of Object.keys(annotation.columns ?? {}))
        expect(existing, `${table}.${column}`).toContain(`${table}.${column}`);
    }
  });

  it('reloads idempotently into identical data', async () => {
    await load((statement) => db.exec(statement));
    expect(await fingerprint(query)).toEqual(first);
  }, 120_000);
});

describe('demo governance metadata', () => {
  it('marks most assets U, some C and S, one TS, and PII columns', () => {
    const annotations = Object.values(demoAnnotations);
    const count = (c: Classification) => annotations.filter((a) => a.classification === c).length;
    expect(count('U')).toBeGreaterThan(annotations.length / 2);
    expect(count('C')).toBeGreaterThanOrEqual(2);
    expect(count('S')).toBeGreaterThanOrEqual(2);
    expect(count('TS')).toBe(1);
    const pii = annotations.flatMap((a) => Object.values(a.columns ?? {})).filter((c) => c.sensitivity === 'pii');
    expect(pii.length).toBeGreaterThanOrEqual(10);
  });

  it('gives every asset an owner cleared for it and assigned to its domain', () => {
    const principals = new Map(demoPrincipals.map((p) => [p.id, p]));
    for (const [table, { owner, domain, classification }] of Object.entries(demoAnnotations)) {
      const principal = principals.get(owner);
      expect(principal, `${table} owner ${owner}`).toBeDefined();
      expect(principal?.roles).toContain('owner');
      expect(principal?.domains).toContain(domain);
      expect(rank[principal?.clearance ?? 'U']).toBeGreaterThanOrEqual(rank[classification]);
    }
  });

  it('has an uncleared analyst, a Secret steward, a TS admin and a need-to-know personnel domain', () => {
    expect(demoPrincipals.some((p) => p.clearance === 'U' && p.roles.join() === 'viewer')).toBe(true);
    expect(demoPrincipals.some((p) => p.clearance === 'S' && p.roles.includes('steward'))).toBe(true);
    expect(demoPrincipals.some((p) => p.clearance === 'TS' && p.roles.includes('admin'))).toBe(true);
    expect(demoDomains.filter((d) => d.restricted).map((d) => d.id)).toEqual(['personnel']);
    const domainIds = new Set(demoDomains.map((d) => d.id));
    for (const p of demoPrincipals) for (const d of p.domains) expect(domainIds).toContain(d);
  });
});

describe('demo workspace on the Postgres server', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let sql: postgres.Sql;
  let query: Query;

  beforeAll(async () => {
    scratch = await createScratchDatabase(serverUrl, 'dataops_demo_test');
    sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
    query = async (text) => [...(await sql.unsafe<Row[]>(text))];
  });
  afterAll(async () => {
    await sql.end();
    await scratch.drop();
  });

  it('loads the same statements into the same rows as PGlite', async () => {
    const loadMs = await load((statement) => sql.unsafe(statement));
    console.log(`demo loaded into the Postgres server in ${loadMs} ms`);
    const onServer = await fingerprint(query);
    expect(onServer['contracts.payments']?.rows).toBe(100_000);
    expect(onServer).toEqual(pgliteFingerprint);
    await expectDefectsPresent(query);
    for (const [name, n] of Object.entries(await viewRowCounts(query))) expect(n, name).toBeGreaterThan(0);
  }, 120_000);
});
