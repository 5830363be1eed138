import { z } from 'zod';
import { defineTool, fenceUntrusted, readOnly } from '../tool.js';
import { listColumns } from './assets.js';
import {
  columnSchema,
  cursorInput,
  filtersShape,
  limitInput,
  type SearchResult,
  searchResultSchema,
  urnInput,
} from './schemas.js';
import { searchCatalog } from './search.js';

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
  output: searchResultSchema,
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
  output: searchResultSchema,
  annotations: readOnly,
  handler: ({ limit, cursor, ...filters }, ctx) => searchCatalog(ctx, { query: '', filters, limit, cursor }),
  render: renderHits,
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

export const catalogTools = [catalogSearch, catalogBrowse, catalogListColumns];
