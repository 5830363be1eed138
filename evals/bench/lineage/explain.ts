import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { queryRows } from '../../../db/create-db.js';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { type Direction, walk } from '../../../mcp-server/lineage/queries.js';

export interface Plan {
  label: string;
  executionMs: number;
  /** Indexes the plan scans, in plan order. */
  indexes: string[];
  /** Sequential scans and the tables they read. */
  seqScans: string[];
  /** Shared buffers the statement touched (hit + read): the work done, whatever the machine's load. */
  buffers: number;
  /** EXPLAIN (ANALYZE, BUFFERS) in text format. */
  text: string[];
  /** Print the whole plan in the summary (otherwise only its time and indexes). */
  print: boolean;
}

type Executor = Pick<ServiceContext['db'], 'execute'>;

export interface Recorded {
  query: SQL;
  ms: number;
  rows: number;
}

/** A context that records every statement the service sends, inside transactions too, with its time and row count. */
export function recording(ctx: ServiceContext): { ctx: ServiceContext; statements: Recorded[] } {
  const statements: Recorded[] = [];
  const wrap = <D extends object>(db: D): D =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === 'transaction') {
          return (work: (tx: unknown) => unknown, ...rest: unknown[]) =>
            (target as unknown as ServiceContext['db']).transaction(
              (tx) => work(wrap(tx)) as Promise<unknown>,
              ...(rest as []),
            );
        }
        if (prop === 'execute') {
          return async (query: SQL) => {
            const start = performance.now();
            const result = await (target as Executor).execute(query);
            const rows = Array.isArray(result) ? result.length : ((result as { rows?: unknown[] }).rows?.length ?? 0);
            statements.push({ query, ms: performance.now() - start, rows });
            return result;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return { ctx: { ...ctx, db: wrap(ctx.db) }, statements };
}

const dialect = new PgDialect();

/** The text of a statement as drizzle sends it (placeholders for parameters). */
export function sqlText(query: SQL): string {
  return dialect.sqlToQuery(query).sql;
}

/** The frontier size of one of `walk`'s hop queries (its first parameter is the frontier); null for any other statement. */
export function hopFrontier(query: SQL): number | null {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (!text.startsWith('with f(id) as')) return null;
  return (JSON.parse(String(params[0])) as string[]).length;
}

/**
 * The hop queries the product's `walk` sends from `start`, exactly as sent: a walk of `depth` hops sends
 * `depth` hop queries and then one more, limited to a row, that asks whether there is more.
 */
export async function hopQueries(ctx: ServiceContext, start: string, direction: Direction, depth: number) {
  const spy = recording(ctx);
  const result = await walk(spy.ctx, start, direction, {
    depth,
    asOf: ctx.clock(),
    maxNodes: 1_000_000,
    kinds: ['derives', 'references'],
  });
  return { statements: spy.statements.map((s) => s.query), reached: result.layers.size - 1 };
}

export async function explain(ctx: ServiceContext, label: string, query: SQL, print = false): Promise<Plan> {
  const rows = await queryRows<{ 'QUERY PLAN': string }>(ctx.db, sql`explain (analyze, buffers) ${query}`);
  const text = rows.map((r) => r['QUERY PLAN']);
  const indexes: string[] = [];
  const seqScans: string[] = [];
  for (const line of text) {
    const index = /Index (?:Only )?Scan(?: Backward)? (?:using|on) (\w+)/.exec(line);
    if (index && !indexes.includes(index[1]!)) indexes.push(index[1]!);
    const seq = /Seq Scan on (\w+)/.exec(line);
    if (seq && !seqScans.includes(seq[1]!)) seqScans.push(seq[1]!);
  }
  const time = text.map((l) => /Execution Time: ([\d.]+) ms/.exec(l)).find(Boolean);
  // The first Buffers line is the top node's: everything below it included.
  const top = text.map((l) => /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/.exec(l)).find(Boolean);
  const buffers = top ? Number(top[1] ?? 0) + Number(top[2] ?? 0) : Number.NaN;
  return { label, executionMs: time ? Number(time[1]) : Number.NaN, buffers, indexes, seqScans, text, print };
}
