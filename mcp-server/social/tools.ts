import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';
import { cursorInput, limitInput, urnInput } from '../catalog/schemas.js';
import { additive, defineTool, fenceUntrusted, idempotent, idempotentDestructive, readOnly } from '../tool.js';
import { activityTools } from './activity-tools.js';
import {
  addComment,
  type CommentView,
  deleteComment,
  editComment,
  listComments,
  maxCommentLength,
} from './comments.js';
import { listReviews, rateAsset } from './ratings.js';

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
  annotations: idempotent,
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
  annotations: readOnly,
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
  annotations: additive,
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
  annotations: idempotentDestructive,
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
  annotations: readOnly,
  handler: (input, ctx) => listComments(ctx, input),
  render: (r) =>
    r.total === 0
      ? `No comments on ${r.urn}.`
      : `${r.total} threads on ${r.urn}\n${r.threads
          .map((t) => [renderComment(t), ...t.replies.map((c) => renderComment(c, '  '))].join('\n'))
          .join('\n')}`,
});

/** Every social tool: ratings and discussion here, then follows, the feed, recommendations and usage. */
export const socialTools = [
  socialRate,
  socialListReviews,
  socialComment,
  socialEditComment,
  socialListComments,
  ...activityTools,
];
