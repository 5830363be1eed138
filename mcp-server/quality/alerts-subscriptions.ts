import { sql } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { queryRows, type Tx } from '../../db/create-db.js';
import type { AlertSeverity } from '../../db/schema/index.js';
import { findVisibleAsset } from '../catalog/find-visible-asset.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';
import { appendAudit } from '../governance/audit.js';
import { loadPrincipal } from '../governance/principals.js';

/**
 * Channels that deliver alerts today: `inbox` (kept in the catalog, read with `dataops alerts inbox`)
 * and `webhook` (a JSON POST). Chat channels add their names here when they implement AlertChannel.
 */
export const alertChannelNames = ['inbox', 'webhook'] as const;
export type AlertChannelName = (typeof alertChannelNames)[number];

export interface SubscriptionRequest {
  /** One asset's alerts; with neither asset nor domain, alerts on every asset the subscriber may see. */
  asset?: string;
  domain?: string;
  minSeverity: AlertSeverity;
  channel: AlertChannelName;
  /** The webhook URL for `webhook`. */
  target?: string;
}

export interface SubscriptionView {
  id: string;
  asset: string | null;
  domain: string | null;
  minSeverity: AlertSeverity;
  channel: string;
  target: string | null;
}

/** Subscribes the caller; subscribing twice to the same thing keeps one subscription. Audited. */
export async function subscribeToAlerts(ctx: ServiceContext, request: SubscriptionRequest): Promise<SubscriptionView> {
  const asset = request.asset ? await findVisibleAsset(ctx, request.asset) : undefined;
  if (request.domain) await requireVisibleDomain(ctx, request.domain);
  const target = checkTarget(request.channel, request.target);
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const same = sql`principal_id = ${ctx.principal.id} and asset_id is not distinct from ${asset?.id ?? null}::uuid
      and domain_id is not distinct from ${request.domain ?? null} and channel = ${request.channel}
      and target is not distinct from ${target}`;
    const [existing] = await queryRows<{ id: string }>(
      tx,
      sql`select id::text from alert_subscriptions where ${same} for update`,
    );
    const [row] = existing
      ? await queryRows<{ id: string }>(
          tx,
          sql`update alert_subscriptions set min_severity = ${request.minSeverity} where id = ${existing.id} returning id::text`,
        )
      : await queryRows<{ id: string }>(
          tx,
          sql`insert into alert_subscriptions (principal_id, asset_id, domain_id, min_severity, channel, target)
              values (${ctx.principal.id}, ${asset?.id ?? null}, ${request.domain ?? null}, ${request.minSeverity},
                      ${request.channel}, ${target})
              returning id::text`,
        );
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'quality.alert_subscribe',
      targetUrn: asset?.urn ?? null,
      details: { domain: request.domain, minSeverity: request.minSeverity, channel: request.channel, target },
      at: now,
    });
    return {
      id: row!.id,
      asset: asset?.urn ?? null,
      domain: request.domain ?? null,
      minSeverity: request.minSeverity,
      channel: request.channel,
      target,
    };
  });
}

/** Removes one of the caller's subscriptions. */
export async function unsubscribeFromAlerts(ctx: ServiceContext, id: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const removed = await queryRows(
      tx,
      sql`delete from alert_subscriptions where id::text = ${id} and principal_id = ${ctx.principal.id} returning id`,
    );
    if (removed.length === 0) {
      throw new DataOpsError(
        'not_found',
        `you have no alert subscription ${id}: list yours with quality_subscribe_alerts`,
      );
    }
    await appendAudit(tx, {
      actorId: ctx.principal.id,
      action: 'quality.alert_unsubscribe',
      details: { subscription: id },
      at: ctx.clock(),
    });
  });
}

/** The caller's subscriptions (an asset it no longer may see shows as null, never by name). */
export async function listSubscriptions(ctx: ServiceContext): Promise<SubscriptionView[]> {
  return queryRows<SubscriptionView>(
    ctx.db,
    sql`select s.id::text, (select a.urn from assets a where a.id = s.asset_id and ${visibleAssetsSql(ctx.principal)}) as asset,
          s.domain_id as domain, s.min_severity as "minSeverity", s.channel, s.target
        from alert_subscriptions s where s.principal_id = ${ctx.principal.id} order by s.created_at, s.id`,
  );
}

async function requireVisibleDomain(ctx: ServiceContext, domain: string): Promise<void> {
  const [row] = await queryRows(
    ctx.db,
    sql`select 1 from domains d where d.id = ${domain}
        and (not d.restricted or d.id = any(array(select jsonb_array_elements_text(${JSON.stringify(ctx.principal.domains)}::jsonb))))`,
  );
  if (!row) throw new DataOpsError('not_found', `no domain ${domain}: catalog_browse lists the domains you may see`);
}

function checkTarget(channel: AlertChannelName, target: string | undefined): string | null {
  if (channel === 'inbox') {
    if (target) throw new DataOpsError('invalid_input', 'the inbox channel takes no target: leave it out');
    return null;
  }
  let url: URL | undefined;
  try {
    url = target ? new URL(target) : undefined;
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new DataOpsError(
      'invalid_input',
      `the webhook channel needs an http(s) URL as target, e.g. https://hooks.example.org/dataops, not "${target ?? ''}"`,
    );
  }
  return url.toString();
}

/**
 * Queues an alert event for every subscriber whose subscription matches (the asset, its domain, or
 * everything) at or above the alert's severity, and who may see the asset: a subscriber never hears of
 * an asset it may not know exists. Inbox deliveries are done on insert; others wait for the dispatcher.
 */
export async function fanOutAlert(
  tx: Tx,
  alertId: string,
  event: 'opened' | 'escalated' | 'resolved',
  now: Date,
): Promise<number> {
  const candidates = await queryRows<{ subscriptionId: string; principalId: string; channel: string }>(
    tx,
    sql`select s.id::text as "subscriptionId", s.principal_id as "principalId", s.channel
        from alerts al join assets a on a.id = al.asset_id
        join alert_subscriptions s
          on (s.asset_id = al.asset_id or s.domain_id = a.domain_id or (s.asset_id is null and s.domain_id is null))
        join principals p on p.id = s.principal_id and not p.disabled
        where al.id = ${alertId}
          and (case al.severity when 'critical' then 2 when 'warning' then 1 else 0 end)
            >= (case s.min_severity when 'critical' then 2 when 'warning' then 1 else 0 end)`,
  );
  let queued = 0;
  for (const c of candidates) {
    const subscriber = await loadPrincipal(tx, c.principalId);
    const [visible] = await queryRows(
      tx,
      sql`select 1 from alerts al join assets a on a.id = al.asset_id where al.id = ${alertId} and ${visibleAssetsSql(subscriber)}`,
    );
    if (!visible) continue;
    const delivered = c.channel === 'inbox';
    await tx.execute(
      sql`insert into alert_deliveries (alert_id, subscription_id, event, status, created_at, sent_at)
          values (${alertId}, ${c.subscriptionId}, ${event}, ${delivered ? 'sent' : 'pending'},
                  ${now.toISOString()}::timestamptz, ${delivered ? now.toISOString() : null}::timestamptz)`,
    );
    queued++;
  }
  return queued;
}
