import { asc, eq, sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../../db/create-db.js';
import {
  type ChangelogEntry,
  columns,
  type DataDictionaryEntry,
  dataProducts,
  pipelines,
  pipelineVersions,
} from '../../../db/schema/index.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows, hiddenColumnNames, visibleAssetsSql } from '../../governance/access.js';
import { diffSchemas, type OutputSchema } from '../versions.js';

/**
 * The documentation of a data product: a data dictionary (each output column's type, marking and where it
 * comes from) and a changelog (the pipeline's versions), generated when the product is published and shown
 * to each reader cut to what that reader may see.
 */

/** The changelog of destination `nodeId`: every version up to `version`, with the output columns each changed. */
export async function buildChangelog(
  ctx: ServiceContext,
  pipelineId: string,
  nodeId: string,
  version: number,
  previouslyPublished: Set<number>,
): Promise<ChangelogEntry[]> {
  const versions = await ctx.db
    .select({
      version: pipelineVersions.version,
      semver: pipelineVersions.semver,
      note: pipelineVersions.note,
      by: pipelineVersions.createdBy,
      at: pipelineVersions.createdAt,
      outputSchema: pipelineVersions.outputSchema,
    })
    .from(pipelineVersions)
    .where(eq(pipelineVersions.pipelineId, pipelineId))
    .orderBy(asc(pipelineVersions.version));
  let before: OutputSchema = {};
  const entries: ChangelogEntry[] = [];
  for (const v of versions.filter((row) => row.version <= version)) {
    const after = v.outputSchema as OutputSchema;
    const changes = diffSchemas(before, after)
      .filter((c) => c.output === nodeId)
      .map(({ output: _output, ...change }) => change);
    before = after;
    entries.push({
      version: v.version,
      semver: v.semver,
      note: v.note,
      by: v.by,
      at: v.at.toISOString(),
      published: v.version === version || previouslyPublished.has(v.version),
      changes,
    });
  }
  return entries.reverse();
}

/** A dictionary entry as one reader sees it: sources named by URN, those the reader may not see left out. */
export interface DictionaryView {
  column: string;
  type: string;
  classification: string | null;
  sensitivity: string | null;
  origin: string;
  expression: string | null;
  node: string | null;
  sources: { urn: string; qualifiedName: string; column: string }[];
  /** True when some source of the column is not shown to the reader (and so neither is the expression). */
  sourcesWithheld: boolean;
}

export interface ProductDocumentation {
  urn: string;
  qualifiedName: string;
  classification: string;
  domain: string | null;
  description: string | null;
  owner: string | null;
  /** The name and the destination node's id are null when the pipeline reads something the reader may not see. */
  pipeline: { id: string; name: string | null; node: string | null };
  version: number;
  semver: string;
  publishedBy: string;
  publishedAt: string;
  dictionary: DictionaryView[];
  changelog: (Omit<ChangelogEntry, 'changes'> & { changes: string[] })[];
  markdown: string;
}

/**
 * The documentation of the data product at `assetId`, as `ctx`'s principal may read it, or null when the
 * asset is not a data product or is hidden from it. Columns marked above the reader's clearance are left
 * out; a source column of an asset the reader may not see is not named, and neither is an expression over
 * it; the changelog's notes (node names an editor chose) are shown only to one who may see every input.
 */
export async function readProductDocumentation(
  ctx: ServiceContext,
  assetId: string,
): Promise<ProductDocumentation | null> {
  // Most assets are not products: one lookup by key settles that before anything else is read.
  const [product] = await ctx.db
    .select({
      pipelineId: dataProducts.pipelineId,
      pipelineName: pipelines.name,
      nodeId: dataProducts.nodeId,
      version: dataProducts.version,
      semver: dataProducts.semver,
      dictionary: dataProducts.dictionary,
      changelog: dataProducts.changelog,
      publishedBy: dataProducts.publishedBy,
      publishedAt: dataProducts.publishedAt,
    })
    .from(dataProducts)
    .innerJoin(pipelines, eq(pipelines.id, dataProducts.pipelineId))
    .where(eq(dataProducts.assetId, assetId));
  if (!product) return null;
  const [row] = await queryRows<{
    urn: string;
    qualified_name: string;
    classification: string;
    domain_id: string | null;
    description: string | null;
    owner: string | null;
  }>(
    ctx.db,
    sql`select a.urn, a.qualified_name, a.classification::text, a.domain_id, a.description, a.owner
        from assets a where a.id = ${assetId} and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!row) return null;
  // Markings as the catalog holds them now: a steward may have raised one since the product was published.
  const current = new Map(
    (
      await ctx.db
        .select({ name: columns.name, classification: columns.classification })
        .from(columns)
        .where(eq(columns.assetId, assetId))
    ).map((c) => [c.name, c.classification]),
  );
  const marking = (e: DataDictionaryEntry) => (current.has(e.column) ? current.get(e.column)! : e.classification);
  const sources = await visibleSources(ctx, product.dictionary);
  let anyWithheld = false;
  const dictionary: DictionaryView[] = product.dictionary
    .filter((e) => {
      const level = marking(e);
      return level === null || clearanceAllows(ctx.principal.clearance, level);
    })
    .map((e) => {
      const shown = e.sources.flatMap((s) => {
        const found = sources.get(s.assetId);
        return found && !found.hiddenColumns.has(s.column)
          ? [{ urn: found.urn, qualifiedName: found.qualifiedName, column: s.column }]
          : [];
      });
      const withheld = shown.length < e.sources.length;
      anyWithheld ||= withheld;
      return {
        column: e.column,
        type: e.type,
        classification: marking(e),
        sensitivity: e.sensitivity,
        origin: e.origin,
        expression: withheld ? null : e.expression,
        node: withheld ? null : e.node,
        sources: shown,
        sourcesWithheld: withheld,
      };
    });
  // An input may shape the product without feeding a shown column (a filter, a join key, a hidden column).
  const [inputs] = await queryRows<{ hidden: boolean }>(
    ctx.db,
    sql`select exists (select 1 from lineage_edges e join assets a on a.id = e.from_asset_id
          where e.to_asset_id = ${assetId} and e.origin = 'pipeline' and e.valid_to is null
            and not ${visibleAssetsSql(ctx.principal)}) as hidden`,
  );
  anyWithheld ||= inputs!.hidden || product.dictionary.some((e) => e.sources.some((s) => !sources.has(s.assetId)));
  // Names an editor chose (the pipeline's, its version notes) may speak of an input the reader may not see.
  // A column is named when the reader may see it now; one the product no longer has, only to a reader who
  // may see every input (who may read the pipeline's output schemas anyway). Others are counted.
  const nameable = (column: string) => {
    if (!current.has(column)) return !anyWithheld;
    const level = current.get(column)!;
    return level === null || clearanceAllows(ctx.principal.clearance, level);
  };
  // Node ids are names an editor chose too: withheld wherever anything is.
  if (anyWithheld) for (const entry of dictionary) entry.node = null;
  const changelog = product.changelog.map((c) => ({
    ...c,
    note: anyWithheld ? null : c.note,
    changes: describeChanges(c.changes, nameable),
  }));
  const doc: Omit<ProductDocumentation, 'markdown'> = {
    urn: row.urn,
    qualifiedName: row.qualified_name,
    classification: row.classification,
    domain: row.domain_id,
    description: row.description,
    owner: row.owner,
    pipeline: {
      id: product.pipelineId,
      name: anyWithheld ? null : product.pipelineName,
      node: anyWithheld ? null : product.nodeId,
    },
    version: product.version,
    semver: product.semver,
    publishedBy: product.publishedBy,
    publishedAt: product.publishedAt.toISOString(),
    dictionary,
    changelog,
  };
  return { ...doc, markdown: productMarkdown(doc) };
}

/** A version's output changes in words; columns the reader may not be told of are counted, not named. */
export function describeChanges(changes: ChangelogEntry['changes'], nameable: (column: string) => boolean): string[] {
  const out: string[] = [];
  const counted = new Map<string, number>();
  for (const c of changes) {
    if (c.column === null) out.push(`output ${c.change}`);
    else if (!nameable(c.column)) counted.set(c.change, (counted.get(c.change) ?? 0) + 1);
    else if (c.change === 'retyped') out.push(`${c.column} retyped from ${c.from} to ${c.to}`);
    else out.push(`${c.column} ${c.change}${c.to ? ` (${c.to})` : ''}`);
  }
  for (const [change, n] of counted) out.push(`${n} marked column${n === 1 ? '' : 's'} ${change}`);
  return out;
}

/** The source assets of a dictionary the reader may see, with their columns marked above its clearance. */
async function visibleSources(ctx: ServiceContext, dictionary: DataDictionaryEntry[]) {
  const ids = [...new Set(dictionary.flatMap((e) => e.sources.map((s) => s.assetId)))];
  const found = new Map<string, { urn: string; qualifiedName: string; hiddenColumns: Set<string> }>();
  if (ids.length === 0) return found;
  const rows = await queryRows<{ id: string; urn: string; qualified_name: string }>(
    ctx.db,
    sql`select a.id::text, a.urn, a.qualified_name from assets a
        where a.id = any(${textArray(ids)}::uuid[]) and ${visibleAssetsSql(ctx.principal)}`,
  );
  for (const r of rows) {
    found.set(r.id, { urn: r.urn, qualifiedName: r.qualified_name, hiddenColumns: await hiddenColumnNames(ctx, r.id) });
  }
  return found;
}

/** Markdown text of a product's documentation; values from data (descriptions, notes) are quoted as code. */
export function productMarkdown(doc: Omit<ProductDocumentation, 'markdown'>): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    `# ${doc.qualifiedName}`,
    '',
    `Data product published by pipeline **${doc.pipeline.name === null ? doc.pipeline.id : cell(doc.pipeline.name)}**${doc.pipeline.node === null ? '' : ` (node \`${doc.pipeline.node}\`)`}, version ${doc.version} (${doc.semver}), by ${doc.publishedBy} on ${doc.publishedAt}.`,
    '',
    `Marking: **${doc.classification}**${doc.domain ? `; domain: ${doc.domain}` : ''}; owner: ${doc.owner ?? 'none'}.`,
  ];
  if (doc.description) lines.push('', cell(doc.description));
  lines.push('', '## Data dictionary', '', '| column | type | marking | comes from |', '|---|---|---|---|');
  for (const e of doc.dictionary) {
    const from = [
      e.expression ? `${e.origin} \`${cell(e.expression)}\`${e.node ? ` at node \`${e.node}\`` : ''}` : e.origin,
      e.sources.length ? e.sources.map((s) => `${s.qualifiedName}.${s.column}`).join(', ') : '',
      e.sourcesWithheld ? '(a source you may not see)' : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(`| ${e.column} | ${e.type} | ${e.classification ?? doc.classification} | ${cell(from)} |`);
  }
  lines.push('', '## Changelog', '');
  for (const c of doc.changelog) {
    const facts = [c.note ? `\`${cell(c.note)}\`` : '', ...c.changes].filter(Boolean).join('; ');
    lines.push(
      `- ${c.semver} (version ${c.version}${c.published ? ', published' : ''}), ${c.by}, ${c.at}${facts ? `: ${facts}` : ''}`,
    );
  }
  return lines.join('\n');
}
