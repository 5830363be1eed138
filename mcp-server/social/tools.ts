import { z } from 'zod';
import { cursorInput, limitInput, urnInput } from '../catalog/schemas.js';
import { DataOpsError } from '../errors.js';
import { defineTool, fenceUntrusted } from '../tool.js';
import {
  addComment,
  type CommentView,
  deleteComment,
  editComment,
  listComments,
  maxCommentLength,
} from './comments.js';
import { feedScopes, readFeed, trendingDays } from './feed.js';
import { followAsset, followDomain } from './follows.js';
import { listReviews, rateAsset } from './ratings.js';
import { recommend } from './recommend.js';
import { recordUsage, usageActions } from './usage.js';

const writes = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;
const reads = { readOnlyHint: true, idempotentHint: true, openWorldHint: false } as const;

export const socialRate = defineTool({
  name: 'social_rate',
  title: 'Rate an asset',
  description:
    'Give an asset 1-5 stars with an optional written review. One rating per person and asset: rating again replaces ' +
    'yours. Returns the asset’s new average and count (search ranks well-rated assets higher).',
  input: z
    .object({
      urn: urnInput,
      stars: z.number().int().min(1).max(5).describe('1 (poor) to 5 (excellent)'),
      review: z.string().max(5000).optional().describe('What others should know about this data'),
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    stars: z.number(),
    review: z.string().nullable(),
    average: z.number().nullable(),
    count: z.number(),
  }),
  annotations: { ...writes, idempotentHint: true },
  handler: (input, ctx) => rateAsset(ctx, input),
  render: (r) => `Rated ${r.stars}/5. ${r.urn} now averages ${r.average?.toFixed(1) ?? '-'} from ${r.count} ratings.`,
});

export const socialListReviews = defineTool({
  name: 'social_list_reviews',
  title: "Read an asset's ratings and reviews",
  description:
    'The ratings of an asset with their reviews, newest first, and the average; `withText` keeps written reviews only.',
  input: z
    .object({
      urn: urnInput,
      withText: z.boolean().optional().describe('Only ratings that come with a written review'),
      limit: limitInput(100, 20),
      cursor: cursorInput,
    })
    .strict(),
  output: z.object({
    urn: z.string(),
    average: z.number().nullable(),
    count: z.number(),
    reviews: z.array(
      z.object({
        principal: z.string(),
        name: z.string(),
        stars: z.number(),
        review: z.string().nullable(),
        updatedAt: z.string(),
      }),
    ),
    nextCursor: z.string().nullable(),
  }),
  annotations: reads,
  handler: (input, ctx) => listReviews(ctx, input),
  render: (r) =>
    `${r.urn}: ${r.average?.toFixed(1) ?? '-'} from ${r.count} ratings\n${r.reviews
      .map((v) => `- ${v.name}: ${v.stars}/5${v.review ? ` ${fenceUntrusted(v.review)}` : ''}`)
      .join('\n')}`,
});

const commentSchema = z.object({
  id: z.string(),
  replyTo: z.string().nullable(),
  author: z.string(),
  authorName: z.string(),
  body: z.string().nullable().describe('Null once deleted'),
  mentions: z.array(z.string()).describe('Principals the comment @mentions'),
  createdAt: z.string(),
  editedAt: z.string().nullable(),
  deleted: z.boolean(),
});

function renderComment(c: CommentView, indent = ''): string {
  return `${indent}- ${c.authorName} (${c.createdAt.slice(0, 10)}${c.editedAt ? ', edited' : ''}): ${
    c.deleted ? '[deleted]' : fenceUntrusted(c.body)
  } [${c.id}]`;
}

export const socialComment = defineTool({
  name: 'social_comment',
  title: 'Comment on an asset',
  description:
    'Start a discussion on an asset, or reply to a comment (`replyTo`). Write @principal-id to mention someone: they ' +
    'find it in their feed (social_feed scope "mentions").',
  input: z
    .object({
      urn: urnInput,
      body: z.string().min(1).max(maxCommentLength).describe('The comment, plain text; @id mentions a person'),
      replyTo: z.string().max(100).optional().describe('The id of the comment this replies to'),
    })
    .strict(),
  output: commentSchema.extend({ urn: z.string() }),
  annotations: { ...writes, idempotentHint: false },
  handler: (input, ctx) => addComment(ctx, input),
  render: (c) => `Commented on ${c.urn}\n${renderComment(c)}`,
});

export const socialEditComment = defineTool({
  name: 'social_edit_comment',
  title: 'Edit or delete your comment',
  description:
    'Change the text of your own comment, or delete it (`delete: true`; stewards may delete any). A deleted comment ' +
    'keeps its place in the thread without its text.',
  input: z
    .object({
      id: z.string().min(1).max(100).describe('The comment id'),
      body: z.string().min(1).max(maxCommentLength).optional().describe('The new text'),
      delete: z.boolean().optional().describe('Delete the comment instead'),
    })
    .strict(),
  output: commentSchema.extend({ urn: z.string() }),
  annotations: { ...writes, destructiveHint: true, idempotentHint: true },
  handler: ({ id, body, delete: remove }, ctx) => {
    if (remove) return deleteComment(ctx, { id });
    if (body === undefined) throw new DataOpsError('invalid_input', 'give the new text (body) or delete: true');
    return editComment(ctx, { id, body });
  },
  render: (c) =>
    c.deleted ? `Deleted comment ${c.id} on ${c.urn}` : `Edited comment on ${c.urn}\n${renderComment(c)}`,
});

export const socialListComments = defineTool({
  name: 'social_list_comments',
  title: "Read an asset's discussion",
  description: 'The comment threads of an asset, newest thread first, each with its replies in order.',
  input: z.object({ urn: urnInput, limit: limitInput(100, 20), cursor: cursorInput }).strict(),
  output: z.object({
    urn: z.string(),
    total: z.number().describe('Threads on the asset'),
    threads: z.array(commentSchema.extend({ replies: z.array(commentSchema) })),
    nextCursor: z.string().nullable(),
  }),
  annotations: reads,
  handler: (input, ctx) => listComments(ctx, input),
  render: (r) =>
    r.total === 0
      ? `No comments on ${r.urn}.`
      : `${r.total} threads on ${r.urn}\n${r.threads
          .map((t) => [renderComment(t), ...t.replies.map((c) => renderComment(c, '  '))].join('\n'))
          .join('\n')}`,
});

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
  annotations: { ...writes, idempotentHint: true },
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
  annotations: reads,
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
  annotations: reads,
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
  annotations: { ...writes, idempotentHint: false },
  handler: ({ urn, action }, ctx) => recordUsage(ctx, urn, action),
  render: (r) => `Recorded a ${r.action} of ${r.urn} (${r.usageCount} uses in all)`,
});

export const socialTools = [
  socialRate,
  socialListReviews,
  socialComment,
  socialEditComment,
  socialListComments,
  socialFollow,
  socialFeed,
  socialRecommend,
  socialRecordUsage,
];
