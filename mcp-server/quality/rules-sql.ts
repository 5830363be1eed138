import { eq } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { type qualityRules, sources } from '../../db/schema/index.js';
import type { SourceReader } from '../connectors/source-reader.js';
import type { Principal, ServiceContext } from '../context.js';
import { loadPrincipal } from '../governance/principals.js';
import { qualifiedQueryText, readSourceQuery } from '../sql/read-query.js';
import { gateSourceQuery } from '../sql/source-query-gate.js';

/**
 * The SQL of a `dbt_test` rule passes the same gate as a pipeline's source query (sql/source-query-gate.ts):
 * one SELECT over tables of the rule's source that the principal may see, built-in functions from the
 * allow-list. It is checked when the rule is written (as its author) and again each time it runs (as whoever
 * runs it, and as its author, so a scheduled run as an administrator reads no more than the author may).
 */

const invalid = (message: string) => new DataOpsError('invalid_input', message);

/** The rule's SQL as it is run (every table written "schema"."name"); throws `invalid_input` when refused. */
export async function gateRuleSql(
  ctx: ServiceContext,
  sourceId: string | null,
  rule: { name: string; sql: string },
  options: { principal?: Principal; reader?: SourceReader; author?: Principal } = {},
): Promise<string> {
  const [source] = sourceId
    ? await ctx.db
        .select({ id: sources.id, name: sources.name, kind: sources.kind })
        .from(sources)
        .where(eq(sources.id, sourceId))
    : [];
  if (!source) throw invalid(`dbt test "${rule.name}" belongs to no source whose data can be read`);
  if (source.kind !== 'postgres') throw invalid(`dbt test "${rule.name}" runs only on a Postgres source`);
  const refused = (error: unknown): never => {
    if (error instanceof DataOpsError && error.code === 'invalid_input') {
      throw invalid(`dbt test "${rule.name}": ${error.message}`);
    }
    throw error;
  };
  // dbt compiles `ref()` as "database"."schema"."table"; the connection reaches only its own database.
  const query = await readSourceQuery(rule.sql, { allowDatabaseName: true }).catch(refused);
  await gateSourceQuery(ctx, { id: source.id, name: source.name }, query, options).catch(refused);
  // Gated again as the author: the query then reads only columns both may see.
  if (options.author) {
    await gateSourceQuery(ctx, { id: source.id, name: source.name }, query, {
      ...options,
      principal: options.author,
    }).catch(refused);
  }
  return qualifiedQueryText(query);
}

/**
 * The rule with its SQL as gated for this run (as the runner and as the rule's author); `invalid_input`
 * when either may not run it, or when its author is no longer known.
 */
export async function gatedRuleForRun(
  ctx: ServiceContext,
  reader: SourceReader,
  sourceId: string,
  rule: typeof qualityRules.$inferSelect,
): Promise<typeof qualityRules.$inferSelect> {
  const code = (rule.config as { sql?: unknown }).sql;
  if (rule.type !== 'dbt_test' || typeof code !== 'string') return rule;
  const author = await loadPrincipal(ctx.db, rule.createdBy ?? '').catch(() => {
    throw invalid(
      `dbt test "${rule.name}": its author ${rule.createdBy ?? '(none)'} is no longer known; write the rule again`,
    );
  });
  const spec = { name: rule.name, sql: code };
  const text = await gateRuleSql(ctx, sourceId, spec, {
    reader,
    ...(author.id !== ctx.principal.id ? { author } : {}),
  });
  return { ...rule, config: { ...rule.config, sql: text } };
}
