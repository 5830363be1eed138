import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { queryRows } from '../../../db/create-db.js';
import { type SearchRequest, searchCatalog, searchConditions } from '../../../mcp-server/catalog/search.js';
import {
  lexicalRetrievers,
  meaningRetrievers,
  type RetrieverName,
} from '../../../mcp-server/catalog/search-retrievers.js';
import type { ServiceContext } from '../../../mcp-server/context.js';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  Alias?: string;
  'Actual Total Time'?: number;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

export interface ExplainResult {
  label: string;
  query: string;
  executionMs: number;
  indexesUsed: string[];
  /** Sequential scans of `assets` and how many rows each read. */
  seqScans: { relation: string; rows: number; loops: number; ms: number }[];
  expectedIndex: string;
  usesExpectedIndex: boolean;
  /** For the hybrid query: time of each branch of the fused UNION ALL (one per retriever), by alias. */
  retrieverMs?: Record<string, number>;
  /** The plan's nodes, one line each, indented like EXPLAIN's text format. */
  outline: string[];
}

function walk(node: PlanNode, depth: number, visit: (n: PlanNode, depth: number) => void): void {
  visit(node, depth);
  for (const child of node.Plans ?? []) walk(child, depth + 1, visit);
}

/** A statement as the product sent it, with the statements that ran before it in the same transaction (`set local ...`). */
interface Captured {
  setup: SQL[];
  query: SQL;
}

async function explain(ctx: ServiceContext, statement: Captured): Promise<{ plan: PlanNode; executionMs: number }> {
  // Replayed in a transaction, after the same `set local` statements, so the planner sees the product's settings.
  const rows = await ctx.db.transaction(async (tx) => {
    for (const setup of statement.setup) await tx.execute(setup);
    return queryRows<{ 'QUERY PLAN': unknown }>(tx, sql`explain (analyze, format json) ${statement.query}`);
  });
  const raw = rows[0]!['QUERY PLAN'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode; 'Execution Time': number }[];
  return { plan: parsed[0]!.Plan, executionMs: parsed[0]!['Execution Time'] };
}

async function check(
  ctx: ServiceContext,
  label: string,
  queryText: string,
  expectedIndex: string,
  statement: Captured,
): Promise<ExplainResult> {
  const { plan, executionMs } = await explain(ctx, statement);
  const indexes = new Set<string>();
  const seqScans: ExplainResult['seqScans'] = [];
  const outline: string[] = [];
  const retrieverMs: Record<string, number> = {};
  walk(plan, 0, (n, depth) => {
    if (n['Index Name']) indexes.add(n['Index Name']);
    if (n['Node Type'] === 'Append') {
      for (const branch of n.Plans ?? []) {
        if (branch.Alias) retrieverMs[branch.Alias] = Math.round((branch['Actual Total Time'] ?? 0) * 10) / 10;
      }
    }
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'assets') {
      seqScans.push({
        relation: n['Relation Name'],
        rows: n['Actual Rows'] ?? 0,
        loops: n['Actual Loops'] ?? 1,
        ms: Math.round((n['Actual Total Time'] ?? 0) * 10) / 10,
      });
    }
    const on = n['Index Name'] ? ` using ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : '';
    const cte = n['Subplan Name'] ? ` [${n['Subplan Name']}]` : n['CTE Name'] ? ` [${n['CTE Name']}]` : '';
    outline.push(
      `${'  '.repeat(depth)}${n['Node Type']}${on}${cte} (rows=${n['Actual Rows']} loops=${n['Actual Loops']} time=${n['Actual Total Time']?.toFixed(2)} ms)`,
    );
  });
  return {
    label,
    query: queryText,
    executionMs: Math.round(executionMs * 100) / 100,
    indexesUsed: [...indexes],
    seqScans,
    expectedIndex,
    usesExpectedIndex: indexes.has(expectedIndex),
    retrieverMs: Object.keys(retrieverMs).length > 0 ? retrieverMs : undefined,
    outline,
  };
}

type Executor = Pick<ServiceContext['db'], 'execute' | 'transaction'>;

/**
 * Captures the SQL that `searchCatalog` sends, also inside transactions, so its exact queries can be
 * EXPLAINed with the settings they ran under.
 */
function capturing(ctx: ServiceContext): { ctx: ServiceContext; captured: Captured[] } {
  const captured: Captured[] = [];
  const wrap = <T extends Executor>(target: T, inTransaction: SQL[] | null): T =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === 'execute') {
          return (query: SQL) => {
            if (inTransaction) inTransaction.push(query);
            else captured.push({ setup: [], query });
            return t.execute(query);
          };
        }
        if (prop === 'transaction') {
          return (work: (tx: Executor) => Promise<unknown>, ...rest: unknown[]) =>
            (t.transaction as (...args: unknown[]) => Promise<unknown>)(
              async (tx: Executor) => {
                const statements: SQL[] = [];
                const result = await work(wrap(tx, statements));
                const last = statements.pop();
                if (last) captured.push({ setup: statements, query: last });
                return result;
              },
              ...rest,
            );
        }
        const value = Reflect.get(t, prop);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  return { ctx: { ...ctx, db: wrap(ctx.db, null) }, captured };
}

const hybridIndexes = ['assets_search_idx', 'assets_name_trgm_idx', 'assets_embedding_idx'];
const expectedIndex: Record<RetrieverName, string> = {
  text: 'assets_search_idx',
  name: 'assets_name_trgm_idx',
  meaning: 'assets_embedding_idx',
  exact: 'assets_lower_name_idx',
};

/**
 * EXPLAIN ANALYZE of each retriever standalone, exactly as search-retrievers.ts builds it and with the
 * settings it runs under (full text, trigram names, vector nearest neighbours, exact names), then the
 * product's own statements as `searchCatalog` sends them.
 */
export async function explainRetrieval(ctx: ServiceContext): Promise<ExplainResult[]> {
  const where = searchConditions(ctx, {});
  const results: ExplainResult[] = [];
  for (const q of ['inventory', 'where is contract spend data?', 'contrcts', 'expenditure']) {
    const retrievers = [...lexicalRetrievers(q, where), ...(await meaningRetrievers(ctx, q, where, {}))];
    for (const r of retrievers) {
      const statement = { setup: r.settings ? [r.settings] : [], query: r.query };
      results.push(await check(ctx, `${r.name} retriever`, q, expectedIndex[r.name], statement));
    }
  }
  for (const q of ['vendor payments', 'expenditure'])
    results.push(...(await explainSearch(ctx, { query: q, limit: 10 })));
  return results;
}

/** What a statement is, from its SQL: which retriever, the fusing statement, or the page load. */
function kindOf(statement: Captured): string {
  const text = new PgDialect().sqlToQuery(statement.query).sql;
  const has = (pattern: RegExp) => pattern.test(text);
  if (has(/ts_rank_cd/) && has(/<->>/)) return 'hybrid';
  if (has(/ts_rank_cd/)) return 'text';
  if (has(/<->>/)) return 'name';
  if (has(/<=>/)) return 'meaning';
  if (has(/ between /)) return 'exact';
  if (has(/jsonb_to_recordset/)) return 'fusion';
  return 'page';
}

/**
 * EXPLAIN ANALYZE of every statement one `searchCatalog` request sends, as sent: on a server the
 * retrievers (side by side), the fusing statement and the page load; on PGlite one hybrid statement and
 * the page load. Under a filter that narrows the search to a source, domain, owner or tag, the meaning
 * retriever compares vectors one by one by design, so no HNSW index is expected there.
 */
export async function explainSearch(ctx: ServiceContext, request: SearchRequest): Promise<ExplainResult[]> {
  const spy = capturing(ctx);
  await searchCatalog(spy.ctx, request);
  const filters = request.filters ?? {};
  const narrow = Boolean(filters.source || filters.domain || filters.owner || filters.tag);
  const label = Object.keys(filters).length > 0 ? ` ${JSON.stringify(filters)}` : '';
  const results: ExplainResult[] = [];
  for (const statement of spy.captured) {
    const kind = kindOf(statement);
    const expected =
      kind === 'hybrid'
        ? (narrow ? hybridIndexes.slice(0, 2) : hybridIndexes).join('+')
        : kind === 'meaning' && narrow
          ? 'no index (exact distances)'
          : kind in expectedIndex
            ? expectedIndex[kind as RetrieverName]
            : 'assets_pkey';
    const name = kind === 'hybrid' || kind === 'fusion' || kind === 'page' ? kind : `${kind} retriever`;
    const result = await check(ctx, `searchCatalog ${name} (exact SQL)${label}`, request.query, expected, statement);
    if (kind === 'hybrid') result.usesExpectedIndex = expected.split('+').every((i) => result.indexesUsed.includes(i));
    if (kind === 'meaning' && narrow) result.usesExpectedIndex = !result.indexesUsed.includes('assets_embedding_idx');
    results.push(result);
  }
  return results;
}
