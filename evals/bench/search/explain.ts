import { type SQL, sql } from 'drizzle-orm';
import { queryRows } from '../../../db/create-db.js';
import { type SearchRequest, searchCatalog } from '../../../mcp-server/catalog/search.js';
import type { ServiceContext } from '../../../mcp-server/context.js';
import { visibleAssetsSql } from '../../../mcp-server/governance/access.js';

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
/** The settings search.ts applies around its hybrid query, for the standalone vector query. */
const vectorSettings = [sql`set local hnsw.ef_search = 200`, sql`set local hnsw.iterative_scan = relaxed_order`];
const plain = (query: SQL): Captured => ({ setup: [], query });

/**
 * EXPLAIN ANALYZE of the core retrieval queries, each standalone in the shape search.ts writes it
 * (full text, trigram KNN on names, vector nearest neighbours), then the product's own queries exactly
 * as `searchCatalog` sends them: the hybrid query and the page load.
 */
export async function explainRetrieval(ctx: ServiceContext): Promise<ExplainResult[]> {
  const where = sql`${visibleAssetsSql(ctx.principal)} and a.status = 'active'`;
  const results: ExplainResult[] = [];
  for (const q of ['inventory', 'where is contract spend data?']) {
    results.push(
      await check(
        ctx,
        'text: search_document @@ tsquery',
        q,
        'assets_search_idx',
        plain(sql`select a.id from assets a
          where a.search_document @@ websearch_to_tsquery('english', ${q}) and ${where}
          order by ts_rank_cd(a.search_document, websearch_to_tsquery('english', ${q}), 32) desc, a.id limit 200`),
      ),
    );
  }
  for (const q of ['contrcts', 'depot inventory snapshot']) {
    const lq = q.toLowerCase();
    results.push(
      await check(
        ctx,
        'name: trigram KNN lower(name) <->> $1',
        q,
        'assets_name_trgm_idx',
        plain(sql`select a.id, lower(a.name) <->> ${lq} as distance from assets a
          where ${where} order by distance limit 200`),
      ),
    );
  }
  const semantic = 'expenditure';
  const [vector] = await ctx.embedder.embed([semantic]);
  const literal = `[${vector!.join(',')}]`;
  results.push(
    await check(ctx, 'meaning: ORDER BY embedding <=> $1 LIMIT 200', semantic, 'assets_embedding_idx', {
      setup: vectorSettings,
      query: sql`select a.id, a.embedding <=> ${literal}::vector as distance from assets a
        where a.embedding_model = ${ctx.embedder.modelId} and ${where}
        order by distance limit 200`,
    }),
  );
  for (const q of ['vendor payments', 'expenditure'])
    results.push(...(await explainSearch(ctx, { query: q, limit: 10 })));
  return results;
}

/** EXPLAIN ANALYZE of the queries one `searchCatalog` request sends (hybrid retrieval, page load), as sent. */
export async function explainSearch(ctx: ServiceContext, request: SearchRequest): Promise<ExplainResult[]> {
  const spy = capturing(ctx);
  await searchCatalog(spy.ctx, request);
  const [hybridSql, pageSql] = spy.captured;
  const label = request.filters && Object.keys(request.filters).length > 0 ? ` ${JSON.stringify(request.filters)}` : '';
  const results: ExplainResult[] = [];
  if (!hybridSql) return results;
  const hybrid = await check(
    ctx,
    `searchCatalog hybrid query (exact SQL)${label}`,
    request.query,
    hybridIndexes.join('+'),
    hybridSql,
  );
  hybrid.usesExpectedIndex = hybridIndexes.every((i) => hybrid.indexesUsed.includes(i));
  results.push(hybrid);
  if (pageSql)
    results.push(await check(ctx, 'searchCatalog page load by id (exact SQL)', request.query, 'assets_pkey', pageSql));
  return results;
}
