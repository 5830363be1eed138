import { type Command, Option } from 'commander';
import { socialFeed, socialRecommend } from '../mcp-server/social/activity-tools.js';
import { feedScopes } from '../mcp-server/social/feed.js';
import { socialComment, socialListComments, socialListReviews, socialRate } from '../mcp-server/social/tools.js';
import { type CliKit, toolAction } from './cli-kit.js';

type Flags = Record<string, string | boolean | undefined>;

/** `dataops social …`: reviews, comments, the feed and recommendations, plus rating and commenting. */
export function addSocialCommands(program: Command, kit: CliKit): void {
  const limit = (cmd: Flags, max: number) =>
    cmd.limit === undefined ? undefined : kit.positiveInteger('--limit', String(cmd.limit), max);
  const social = program.command('social').description('ratings, reviews, comments, feed and recommendations');
  social
    .command('reviews')
    .description("an asset's ratings and reviews, newest first, with the average")
    .argument('<asset>', 'URN or qualified name')
    .option('--with-text', 'only ratings with a written review')
    .option('--limit <n>', 'how many (1-100)')
    .action(
      toolAction(kit, socialListReviews, async (ws, asset: string, cmd: Flags) => ({
        urn: await kit.resolveAsset(ws, asset),
        withText: cmd.withText ? true : undefined,
        limit: limit(cmd, 100),
      })),
    );
  social
    .command('comments')
    .description("an asset's discussion: threads newest first, with their replies")
    .argument('<asset>', 'URN or qualified name')
    .option('--limit <n>', 'how many threads (1-100)')
    .action(
      toolAction(kit, socialListComments, async (ws, asset: string, cmd: Flags) => ({
        urn: await kit.resolveAsset(ws, asset),
        limit: limit(cmd, 100),
      })),
    );
  social
    .command('feed')
    .description('what happened on what you follow, your domains, your mentions, or what is trending or new')
    .addOption(new Option('--scope <scope>', 'which feed').choices(feedScopes).default('following'))
    .option('--limit <n>', 'how many (1-100)')
    .action(toolAction(kit, socialFeed, (_ws, cmd: Flags) => ({ scope: cmd.scope, limit: limit(cmd, 100) })));
  social
    .command('recommend')
    .description('data you may want: popular, well rated, related to an asset')
    .argument('[asset]', 'related to this asset (URN or qualified name)')
    .option('--limit <n>', 'per list (1-20)')
    .action(
      toolAction(kit, socialRecommend, async (ws, asset: string | undefined, cmd: Flags) => ({
        urn: asset === undefined ? undefined : await kit.resolveAsset(ws, asset),
        limit: limit(cmd, 20),
      })),
    );
  social
    .command('rate')
    .description('rate an asset from 1 to 5 stars, with an optional review (rating again replaces yours)')
    .argument('<asset>', 'URN or qualified name')
    .argument('<stars>', '1 (poor) to 5 (excellent)')
    .option('--review <text>', 'what others should know about this data')
    .action(
      toolAction(kit, socialRate, async (ws, asset: string, stars: string, cmd: Flags) => ({
        urn: await kit.resolveAsset(ws, asset),
        stars: kit.positiveInteger('stars', stars, 5),
        review: typeof cmd.review === 'string' ? cmd.review : undefined,
      })),
    );
  social
    .command('comment')
    .description('comment on an asset (@id mentions notify people)')
    .argument('<asset>', 'URN or qualified name')
    .argument('<text>', 'the comment')
    .option('--reply-to <id>', 'answer this comment')
    .action(
      toolAction(kit, socialComment, async (ws, asset: string, body: string, cmd: Flags) => ({
        urn: await kit.resolveAsset(ws, asset),
        body,
        replyTo: typeof cmd.replyTo === 'string' ? cmd.replyTo : undefined,
      })),
    );
}
