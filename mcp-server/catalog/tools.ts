import { z } from 'zod';
import { describeWarning, policyWarningsOutput } from '../governance/policy-rules.js';
import { recordUsage } from '../social/usage.js';
import { defineTool, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import { getAssetProfile, listColumns, updateAssetMetadata } from './assets.js';
import {
  assetProfileSchema,
  columnSchema,
  cursorInput,
  facetsSchema,
  filtersShape,
  limitInput,
  searchHitSchema,
  urnInput,
} from './schemas.js';
import { type SearchResult, searchCatalog } from './search.js';

const searchOutput = z.object({
  total: z.number().describe('How many assets matched (that you may see)'),
  hits: z.array(searchHitSchema),
  facets: facetsSchema,
  nextCursor: z.string().nullable(),
});

function renderHits(result: SearchResult): string {
  if (result.hits.length === 0) return 'No matching assets.';
  const lines = result.hits.map((h) => {
    const facts = [
      h.kind,
      h.classification,
      h.rowCount !== null ? `${h.rowCount} rows` : '',
      h.certification ?? '',
      // Stored as a 4-byte real: one decimal, as the score is computed.
      h.qualityScore !== null ? `quality ${Number(h.qualityScore.toFixed(1))}/100` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `- ${h.qualifiedName} (${facts}) ${h.urn}${h.description ? `\n  ${fenceUntrusted(h.description.slice(0, 160))}` : ''}`;
  });
  const more = result.nextCursor ? `\n(more results; pass cursor ${result.nextCursor})` : '';
  return `${result.total} assets\n${lines.join('\n')}${more}`;
}

export const catalogSearch = defineTool({
  name: 'catalog_search',
  title: 'Search the data catalog',
  description:
    'Find datasets, views, files and data products by words, meaning or a misspelled name ("contract spend", "contrcts"). ' +
    'Returns the best matches with URN, description, owner, classification and quality, plus facet counts for filters. ' +
    'Then catalog_get_asset with the URN.',
  input: z
    .object({
      query: z
        .string()
        .max(500)
        .describe('What to look for, in plain words; empty to list everything matching the filters'),
      ...filtersShape,
      limit: limitInput(50, 10),
      cursor: cursorInput,
    })
    .strict(),
  output: searchOutput,
  annotations: readOnly,
  handler: ({ query, limit, cursor, ...filters }, ctx) => searchCatalog(ctx, { query, filters, limit, cursor }),
  render: renderHits,
});

export const catalogBrowse = defineTool({
  name: 'catalog_browse',
  title: 'Browse the catalog by domain or source',
  description:
    'List the assets of one domain or one source (or the whole catalog), best-regarded first, with facet counts. ' +
    'Use it to see what a team or a database offers; use catalog_search when you have words to look for.',
  input: z
    .object({
      domain: filtersShape.domain,
      source: filtersShape.source,
      kind: filtersShape.kind,
      limit: limitInput(100, 25),
      cursor: cursorInput,
    })
    .strict(),
  output: searchOutput,
  annotations: readOnly,
  handler: ({ limit, cursor, ...filters }, ctx) => searchCatalog(ctx, { query: '', filters, limit, cursor }),
  render: renderHits,
});

export const catalogGetAsset = defineTool({
  name: 'catalog_get_asset',
  title: 'Get an asset profile',
  description:
    'Everything about one asset in one call: description, owner, tags, classification, certification, schema, lineage ' +
    'counts, quality score, ratings and recent activity. Give the URN from catalog_search; each call counts as a view.',
  input: z
    .object({
      urn: urnInput,
      columnLimit: z.number().int().min(0).max(500).default(50).describe('How many columns to include (default 50)'),
    })
    .strict(),
  output: assetProfileSchema,
  annotations: readOnly,
  handler: async ({ urn, columnLimit }, ctx) => {
    // Each profile read is a view: it feeds usage counts, trending and co-usage recommendations.
    await recordUsage(ctx, urn, 'view');
    return getAssetProfile(ctx, urn, { columnLimit });
  },
  render: (a) =>
    [
      `${a.qualifiedName} (${a.kind}, ${a.classification}${a.status === 'deprecated' ? ', DEPRECATED' : ''})`,
      a.description ? fenceUntrusted(a.description) : 'No description.',
      `Owner: ${a.owner ?? 'unknown'}; domain: ${a.domain ?? 'none'}; tags: ${a.tags.join(', ') || 'none'}`,
      `Rows: ${a.stats.rowCount ?? 'unknown'}; columns: ${a.stats.columnCount}; upstream ${a.lineage.upstream}, downstream ${a.lineage.downstream}`,
      `Quality: ${a.quality.score === null ? 'not scored yet' : `${Number(a.quality.score.toFixed(1))}/100 (quality_get explains it)`}`,
      `Columns: ${a.columns.map((c) => `${c.name} ${c.dataType}${c.isPrimaryKey ? ' PK' : ''}`).join(', ')}${a.columnsTruncated ? ', …' : ''}`,
      a.dataProduct
        ? `Data product of pipeline ${a.dataProduct.pipeline.name === null ? a.dataProduct.pipeline.id : fenceUntrusted(a.dataProduct.pipeline.name)}, version ${a.dataProduct.version} (${a.dataProduct.semver}); pipelines_docs shows its data dictionary and changelog`
        : '',
    ]
      .filter(Boolean)
      .join('\n'),
});

export const catalogListColumns = defineTool({
  name: 'catalog_list_columns',
  title: "List an asset's columns",
  description:
    'Page through the columns of one asset with their types, keys, descriptions and sensitivity; filter by a word in the name ' +
    'or description (e.g. "email") or by sensitivity (e.g. "pii").',
  input: z
    .object({
      urn: urnInput,
      filter: z.string().max(200).optional().describe('Case-insensitive text to find in column names or descriptions'),
      sensitivity: z.string().max(50).optional().describe('Only columns with this sensitivity, e.g. pii'),
      limit: limitInput(500, 50),
      cursor: cursorInput,
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    total: z.number(),
    columns: z.array(columnSchema),
    nextCursor: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: (input, ctx) => listColumns(ctx, input),
  render: (r) =>
    `${r.total} columns\n${r.columns
      .map(
        (c) =>
          `- ${c.name} ${c.dataType}${c.nullable ? '' : ' not null'}${c.isPrimaryKey ? ' PK' : ''}${c.description ? ` ${fenceUntrusted(c.description)}` : ''}`,
      )
      .join('\n')}${r.nextCursor ? `\n(more: cursor ${r.nextCursor})` : ''}`,
});

export const catalogUpdateAsset = defineTool({
  name: 'catalog_update_asset',
  title: "Update an asset's description, owner or tags",
  description:
    'Curate an asset: set its description or owner, add or remove tags. Needs the steward or owner role; every change is audited ' +
    'and appears in the asset feed. Re-ingesting the source keeps what you set. A blocking policy refuses a change that would ' +
    'leave the asset breaking it; warning policies it leaves unmet are listed in policyWarnings.',
  input: z
    .object({
      urn: urnInput,
      description: z.string().max(10_000).optional().describe('The new description (replaces the old one)'),
      owner: z.string().min(1).max(200).optional().describe('Principal id of the new owner'),
      addTags: z.array(z.string().min(1).max(100)).max(50).optional().describe('Tags to add'),
      removeTags: z.array(z.string().min(1).max(100)).max(50).optional().describe('Tags to remove'),
    })
    .strict(),
  output: assetProfileSchema.extend({ policyWarnings: policyWarningsOutput }),
  annotations: idempotent,
  handler: ({ urn, ...changes }, ctx) => updateAssetMetadata(ctx, urn, changes),
  render: (a) =>
    [
      `Updated ${a.qualifiedName}: owner ${a.owner ?? 'none'}, tags ${a.tags.join(', ') || 'none'}`,
      ...a.policyWarnings.map(describeWarning),
    ].join('\n'),
});

export const catalogTools = [catalogSearch, catalogBrowse, catalogGetAsset, catalogListColumns, catalogUpdateAsset];
