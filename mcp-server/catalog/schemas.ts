import { z } from 'zod';
import { assetKinds } from '../../db/schema/catalog.js';
import { classificationLevels } from '../../db/schema/types.js';

export const urnInput = z.string().min(1).max(1000).describe('Asset URN, from catalog_search');
export const limitInput = (max: number, fallback: number) => z.number().int().min(1).max(max).default(fallback);
export const cursorInput = z.string().max(200).optional().describe('nextCursor of the previous page');

export const classificationSchema = z.enum(classificationLevels);
export const kindSchema = z.enum(assetKinds);

export const filtersShape = {
  domain: z.string().max(100).optional().describe('Only assets in this domain id'),
  owner: z.string().max(200).optional().describe('Only assets with this owner'),
  tag: z.string().max(100).optional().describe('Only assets carrying this tag'),
  classification: classificationSchema.optional().describe('Only assets with this marking'),
  kind: kindSchema.optional().describe('Only this kind of asset'),
  source: z.string().max(200).optional().describe('Only assets from this source name'),
  certified: z.boolean().optional().describe('Only certified (true) or uncertified (false) assets'),
  minQuality: z
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe('Only assets whose quality score is at least this (0-100)'),
  includeDeprecated: z.boolean().optional().describe('Also return assets that vanished from their source'),
};

/** The filters of a catalog search, as catalog_search and catalog_browse take them. */
export type SearchFilters = z.infer<z.ZodObject<typeof filtersShape>>;

export const facetSchema = z.array(z.object({ value: z.string(), count: z.number() }));
export type FacetCount = z.infer<typeof facetSchema>[number];

export const facetsSchema = z.object({
  domain: facetSchema,
  owner: facetSchema,
  tag: facetSchema,
  classification: facetSchema,
  kind: facetSchema,
  source: facetSchema,
  certified: facetSchema,
});

export const searchHitSchema = z.object({
  urn: z.string(),
  name: z.string(),
  qualifiedName: z.string(),
  kind: kindSchema,
  description: z.string().nullable(),
  source: z.string().nullable(),
  domain: z.string().nullable(),
  owner: z.string().nullable(),
  tags: z.array(z.string()),
  classification: classificationSchema,
  certification: z.string().nullable(),
  qualityScore: z.number().nullable(),
  status: z.string(),
  rowCount: z.number().nullable(),
  score: z.number(),
  // Which retrievers found it: `exact`, `text`, `name`, `meaning`.
  matchedBy: z.array(z.string()),
});
export type SearchHit = z.infer<typeof searchHitSchema>;

export const searchResultSchema = z.object({
  total: z.number().describe('How many assets matched (that you may see)'),
  hits: z.array(searchHitSchema),
  facets: facetsSchema,
  nextCursor: z.string().nullable(),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

export const columnSchema = z.object({
  name: z.string(),
  position: z.number(),
  dataType: z.string(),
  nullable: z.boolean(),
  isPrimaryKey: z.boolean(),
  isForeignKey: z.boolean(),
  description: z.string().nullable(),
  sensitivity: z.string().nullable(),
  classification: z.string().nullable(),
});

/** A data product's documentation: its pipeline, data dictionary and changelog (pipelines_docs adds markdown). */
export const dataProductSchema = z.object({
  pipeline: z.object({
    id: z.string(),
    name: z.string().nullable().describe('Null when the pipeline reads an asset you may not see'),
    node: z.string().nullable().describe('The destination node; null when the pipeline reads an asset you may not see'),
  }),
  version: z.number(),
  semver: z.string(),
  publishedBy: z.string(),
  publishedAt: z.string(),
  dictionary: z.array(
    z.object({
      column: z.string(),
      type: z.string(),
      classification: z.string().nullable(),
      sensitivity: z.string().nullable(),
      origin: z.string().describe('source, derived, aggregate, masked or computed'),
      expression: z.string().nullable().describe('The derive expression, aggregate or mask method'),
      node: z.string().nullable().describe('The pipeline node that computed the column'),
      sources: z.array(z.object({ urn: z.string(), qualifiedName: z.string(), column: z.string() })),
      sourcesWithheld: z.boolean().describe('True when a source column is one you may not see'),
    }),
  ),
  changelog: z.array(
    z.object({
      version: z.number(),
      semver: z.string(),
      note: z.string().nullable(),
      by: z.string(),
      at: z.string(),
      published: z.boolean(),
      changes: z.array(z.string()),
    }),
  ),
});

export const assetProfileSchema = z.object({
  urn: z.string(),
  name: z.string(),
  qualifiedName: z.string(),
  kind: kindSchema,
  status: z.string(),
  description: z.string().nullable(),
  owner: z.string().nullable(),
  domain: z.string().nullable(),
  tags: z.array(z.string()),
  classification: classificationSchema,
  certification: z.string().nullable(),
  source: z.object({ name: z.string(), kind: z.string() }).nullable(),
  stats: z.object({
    rowCount: z.number().nullable(),
    sizeBytes: z.number().nullable(),
    lastModified: z.string().nullable(),
    columnCount: z.number(),
  }),
  definition: z.string().nullable(),
  definitionWithheld: z
    .boolean()
    .describe('True when the definition reads an asset you may not see, so it is not shown'),
  properties: z.record(z.string(), z.unknown()),
  quality: z.object({ score: z.number().nullable() }),
  ratings: z.object({ average: z.number().nullable(), count: z.number() }),
  usageCount: z.number(),
  lineage: z.object({
    upstream: z.number(),
    downstream: z.number(),
    coverage: z
      .number()
      .nullable()
      .describe('Share (0-1) of the columns whose source columns are known; null for an asset nothing feeds'),
  }),
  foreignKeys: z.object({ references: z.number(), referencedBy: z.number() }),
  columns: z.array(columnSchema),
  columnsTruncated: z.boolean(),
  recentActivity: z.array(
    z.object({ type: z.string(), summary: z.string(), actor: z.string().nullable(), at: z.string() }),
  ),
  dataProduct: dataProductSchema
    .optional()
    .describe('For a data product a pipeline publishes: its pipeline, data dictionary and latest changelog entries'),
  updatedAt: z.string(),
});
/** Everything an asset page shows (read-models/asset-profile.ts builds it). */
export type AssetProfile = z.infer<typeof assetProfileSchema>;
