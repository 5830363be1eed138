import { z } from 'zod';
import { updateAssetMetadata } from '../catalog/assets.js';
import { assetProfileSchema, urnInput } from '../catalog/schemas.js';
import { describeWarning, policyWarningsOutput } from '../governance/policy-rules.js';
import { recordUsage } from '../social/usage.js';
import { defineTool, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import { getAssetProfile } from './asset-profile.js';

/** The catalog tools that answer with an asset profile: they read the read model, so they live beside it. */

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
  handler: async ({ urn, ...changes }, ctx) => {
    const { policyWarnings } = await updateAssetMetadata(ctx, urn, changes);
    return { ...(await getAssetProfile(ctx, urn)), policyWarnings };
  },
  render: (a) =>
    [
      `Updated ${a.qualifiedName}: owner ${a.owner ?? 'none'}, tags ${a.tags.join(', ') || 'none'}`,
      ...a.policyWarnings.map(describeWarning),
    ].join('\n'),
});

export const assetProfileTools = [catalogGetAsset, catalogUpdateAsset];
