import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { cursorInput, limitInput, urnInput } from '../catalog/schemas.js';
import { additive, defineTool, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import { feedScopes, readFeed, trendingDays } from './feed.js';
import { followAsset, followDomain } from './follows.js';
import { recommend } from './recommend.js';
import { recordUsage, usageActions } from './usage.js';

export const socialFollow = defineTool({
  name: 'social_follow',
  title: 'Follow or unfollow an asset or a domain',
  description:
    'Follow an asset (`urn`) or a whole domain (`domain`) to see its activity in your feed (social_feed scope ' +
    '"following"); `follow: false` unfollows.',
  input: z
    .object({
      urn: urnInput.optional(),
      domain: z.string().min(1).max(100).optional().describe('A domain id, e.g. logistics'),
      follow: z.boolean().default(true),
    })
    .strict(),
  output: z.object({ target: z.string(), kind: z.enum(['asset', 'domain']), following: z.boolean() }),
  annotations: idempotent,
  handler: ({ urn, domain, follow }, ctx) => {
    if ((urn === undefined) === (domain === undefined)) {
      throw new DataOpsError('invalid_input', 'give either an asset urn or a domain to follow');
    }
    return urn !== undefined ? followAsset(ctx, { urn, follow }) : followDomain(ctx, { domain: domain!, follow });
  },
  render: (r) => `${r.following ? 'Following' : 'No longer following'} ${r.kind} ${r.target}`,
});

export const socialFeed = defineTool({
  name: 'social_feed',
  title: 'Your activity feed',
  description:
    'What happened lately: "following" (assets and domains you follow), "domains" (your own domains), "mentions" ' +
    `(comments that @mention you), "trending" (most used by distinct people in the last ${trendingDays} days), or ` +
    '"new" (assets that joined the catalog lately).',
  input: z
    .object({ scope: z.enum(feedScopes).default('following'), limit: limitInput(100, 20), cursor: cursorInput })
    .strict(),
  output: z.object({
    scope: z.enum(feedScopes),
    items: z.array(
      z.object({
        type: z.string(),
        urn: z.string(),
        asset: z.string(),
        summary: z.string(),
        actor: z.string().nullable(),
        at: z.string(),
        text: z.string().nullable(),
        uses: z.number().nullable(),
        people: z.number().nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
  }),
  annotations: readOnly,
  handler: (input, ctx) => readFeed(ctx, input),
  render: (r) =>
    r.items.length === 0
      ? `Nothing in your ${r.scope} feed yet.`
      : r.items
          .map(
            (i) =>
              `- ${i.at.slice(0, 10)} ${i.asset}: ${fenceUntrusted(i.summary)}${i.text ? ` ${fenceUntrusted(i.text.slice(0, 200))}` : ''}`,
          )
          .join('\n'),
});

export const socialRecommend = defineTool({
  name: 'social_recommend',
  title: 'Recommend related data',
  description:
    'Assets related to one asset (or, without a urn, to what you used lately): "people who used this also used" from ' +
    'co-usage, and the most similar assets by meaning.',
  input: z
    .object({ urn: urnInput.optional(), limit: z.number().int().min(1).max(20).default(5).describe('Per list (1-20)') })
    .strict(),
  output: z.object({
    basis: z.enum(['asset', 'your usage']),
    alsoUsed: z.array(z.object({ urn: z.string(), asset: z.string(), people: z.number() })),
    similar: z.array(z.object({ urn: z.string(), asset: z.string(), similarity: z.number() })),
  }),
  annotations: readOnly,
  handler: (input, ctx) => recommend(ctx, input),
  render: (r) =>
    [
      `People who used ${r.basis === 'asset' ? 'this' : 'what you used'} also used:`,
      ...(r.alsoUsed.length ? r.alsoUsed.map((a) => `- ${a.asset} (${a.people} people) ${a.urn}`) : ['- nothing yet']),
      'Similar assets:',
      ...(r.similar.length ? r.similar.map((s) => `- ${s.asset} (${s.similarity}) ${s.urn}`) : ['- none']),
    ].join('\n'),
});

export const socialRecordUsage = defineTool({
  name: 'social_record_usage',
  title: 'Record that an asset was used',
  description:
    'Report a use of an asset (a query run against it, a download) so usage counts, trending and recommendations stay ' +
    'true; catalog_get_asset records views itself.',
  input: z.object({ urn: urnInput, action: z.enum(usageActions) }).strict(),
  output: z.object({ urn: z.string(), action: z.enum(usageActions), usageCount: z.number() }),
  annotations: additive,
  handler: ({ urn, action }, ctx) => recordUsage(ctx, urn, action),
  render: (r) => `Recorded a ${r.action} of ${r.urn} (${r.usageCount} uses in all)`,
});

/** Follows, the feed, recommendations and usage: what people do around assets. */
export const activityTools = [socialFollow, socialFeed, socialRecommend, socialRecordUsage];
