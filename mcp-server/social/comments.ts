import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import { activityEvents, comments, principals } from '../../db/schema/index.js';
import { decodeCursor, encodeCursor } from '../catalog/cursor.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { hasRole, visibleAssetsSql } from '../governance/access.js';

export const maxCommentLength = 10_000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `@id` tokens in a text; an id ends on a letter or digit, so "@a.chen." mentions a.chen. */
export function mentionedIds(body: string): string[] {
  const ids = [...body.matchAll(/(?<![\w@])@([A-Za-z0-9][\w.-]*)/g)].map((m) => m[1]!.replace(/[._-]+$/, ''));
  return [...new Set(ids)];
}

/** The mentioned ids that are principals (enabled ones), so only real people are stored and notified. */
async function resolveMentions(tx: Tx, body: string): Promise<string[]> {
  const ids = mentionedIds(body);
  if (ids.length === 0) return [];
  const rows = await tx
    .select({ id: principals.id })
    .from(principals)
    .where(and(inArray(principals.id, ids), eq(principals.disabled, false)));
  return ids.filter((id) => rows.some((r) => r.id === id));
}

function validateBody(body: string): string {
  const text = body.trim();
  if (!text) throw new DataOpsError('invalid_input', 'a comment needs some text');
  if (text.length > maxCommentLength) {
    throw new DataOpsError('invalid_input', `a comment holds at most ${maxCommentLength} characters`);
  }
  return text;
}

function commentNotFound(id: string) {
  return new DataOpsError('not_found', `no comment ${id} that you may see: list them with social_list_comments`);
}

/** A comment on an asset the caller may see, or "not found". */
async function findVisibleComment(ctx: ServiceContext, db: Tx | ServiceContext['db'], id: string) {
  if (!uuidPattern.test(id)) throw commentNotFound(id);
  const [row] = await queryRows<{
    id: string;
    assetId: string;
    authorId: string;
    parentId: string | null;
    deleted: boolean;
    urn: string;
  }>(
    db,
    sql`select c.id::text, c.asset_id::text as "assetId", c.author_id as "authorId", c.parent_id::text as "parentId",
        c.deleted_at is not null as deleted, a.urn
      from comments c join assets a on a.id = c.asset_id
      where c.id = ${id}::uuid and ${visibleAssetsSql(ctx.principal)}`,
  );
  if (!row) throw commentNotFound(id);
  return row;
}

/**
 * Comments on an asset, or replies to a comment (a reply to a reply joins the same thread). @mentions of
 * principals are resolved and stored, so the people named find them in their feed.
 */
export async function addComment(ctx: ServiceContext, input: { urn: string; body: string; replyTo?: string }) {
  const body = validateBody(input.body);
  const asset = await findVisibleAsset(ctx, input.urn);
  const now = ctx.clock();
  const id = await ctx.db.transaction(async (tx) => {
    let parentId: string | null = null;
    if (input.replyTo) {
      const parent = await findVisibleComment(ctx, tx, input.replyTo);
      if (parent.assetId !== asset.id) {
        throw new DataOpsError('invalid_input', `comment ${input.replyTo} is about another asset: reply on that asset`);
      }
      parentId = parent.parentId ?? parent.id;
    }
    const mentions = await resolveMentions(tx, body);
    const [row] = await tx
      .insert(comments)
      .values({ assetId: asset.id, authorId: ctx.principal.id, parentId, body, mentions, createdAt: now })
      .returning({ id: comments.id });
    await tx.insert(activityEvents).values({
      assetId: asset.id,
      type: parentId ? 'replied' : 'commented',
      actorId: ctx.principal.id,
      summary: `${ctx.principal.displayName} ${parentId ? 'replied to a comment' : 'commented'}`,
      details: { comment: row!.id, mentions },
      at: now,
    });
    return row!.id;
  });
  return loadComment(ctx, id);
}

/** The author changes a comment's text; mentions are resolved again. */
export async function editComment(ctx: ServiceContext, input: { id: string; body: string }) {
  const body = validateBody(input.body);
  await ctx.db.transaction(async (tx) => {
    const comment = await findVisibleComment(ctx, tx, input.id);
    if (comment.authorId !== ctx.principal.id) {
      throw new DataOpsError('forbidden', 'only its author may edit a comment');
    }
    if (comment.deleted) throw new DataOpsError('conflict', `comment ${input.id} was deleted`);
    const mentions = await resolveMentions(tx, body);
    await tx.update(comments).set({ body, mentions, editedAt: ctx.clock() }).where(eq(comments.id, comment.id));
  });
  return loadComment(ctx, input.id);
}

/**
 * The author (or a steward, moderating) deletes a comment: its text and mentions are erased, while the
 * thread keeps its place so replies still make sense.
 */
export async function deleteComment(ctx: ServiceContext, input: { id: string }) {
  await ctx.db.transaction(async (tx) => {
    const comment = await findVisibleComment(ctx, tx, input.id);
    if (comment.authorId !== ctx.principal.id && !hasRole(ctx.principal, 'steward')) {
      throw new DataOpsError('forbidden', 'only its author or a steward may delete a comment');
    }
    if (comment.deleted) return;
    await tx
      .update(comments)
      .set({ body: '', mentions: [], deletedAt: ctx.clock() })
      .where(eq(comments.id, comment.id));
  });
  return loadComment(ctx, input.id);
}

type CommentRow = typeof comments.$inferSelect & { authorName: string };

function commentView(c: CommentRow) {
  const deleted = c.deletedAt !== null;
  return {
    id: c.id,
    replyTo: c.parentId,
    author: c.authorId,
    authorName: c.authorName,
    body: deleted ? null : c.body,
    mentions: c.mentions,
    createdAt: c.createdAt.toISOString(),
    editedAt: c.editedAt?.toISOString() ?? null,
    deleted,
  };
}

export type CommentView = ReturnType<typeof commentView>;

const commentFields = {
  id: comments.id,
  assetId: comments.assetId,
  authorId: comments.authorId,
  parentId: comments.parentId,
  body: comments.body,
  mentions: comments.mentions,
  createdAt: comments.createdAt,
  editedAt: comments.editedAt,
  deletedAt: comments.deletedAt,
  authorName: principals.displayName,
};

async function loadComment(ctx: ServiceContext, id: string): Promise<CommentView & { urn: string }> {
  const { urn } = await findVisibleComment(ctx, ctx.db, id);
  const [row] = await ctx.db
    .select(commentFields)
    .from(comments)
    .innerJoin(principals, eq(principals.id, comments.authorId))
    .where(eq(comments.id, id));
  return { urn, ...commentView(row as CommentRow) };
}

/** An asset's threads, newest first, each with its replies in the order they were written. */
export async function listComments(ctx: ServiceContext, input: { urn: string; limit?: number; cursor?: string }) {
  const asset = await findVisibleAsset(ctx, input.urn);
  const limit = input.limit ?? 20;
  const offset = input.cursor ? decodeCursor(input.cursor) : 0;
  const roots = and(eq(comments.assetId, asset.id), isNull(comments.parentId));
  const [total] = await ctx.db.select({ n: sql<number>`count(*)::int` }).from(comments).where(roots);
  const threads = await ctx.db
    .select(commentFields)
    .from(comments)
    .innerJoin(principals, eq(principals.id, comments.authorId))
    .where(roots)
    .orderBy(desc(comments.createdAt), desc(comments.id))
    .limit(limit)
    .offset(offset);
  const replies = threads.length
    ? await ctx.db
        .select(commentFields)
        .from(comments)
        .innerJoin(principals, eq(principals.id, comments.authorId))
        .where(
          inArray(
            comments.parentId,
            threads.map((t) => t.id),
          ),
        )
        .orderBy(asc(comments.createdAt), asc(comments.id))
    : [];
  return {
    urn: asset.urn,
    total: total!.n,
    threads: threads.map((t) => ({
      ...commentView(t as CommentRow),
      replies: replies.filter((r) => r.parentId === t.id).map((r) => commentView(r as CommentRow)),
    })),
    nextCursor: offset + limit < total!.n ? encodeCursor(offset + limit) : null,
  };
}
