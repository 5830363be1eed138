import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/create-db.js';
import type { AlertSeverity, AlertState, Classification } from '../../db/schema/index.js';
import type { ServiceContext } from '../context.js';
import { visibleAssetsSql } from '../governance/access.js';

/** One alert event for one subscriber, as a channel receives it. */
export interface AlertMessage {
  deliveryId: number;
  event: 'opened' | 'escalated' | 'resolved';
  recipient: string;
  /** Where the subscription said to deliver (a webhook URL, a chat channel id). */
  target: string | null;
  alert: {
    id: string;
    kind: string;
    severity: AlertSeverity;
    state: AlertState;
    title: string;
    evidence: Record<string, unknown>;
    assignee: string | null;
  };
  asset: { urn: string; qualifiedName: string; classification: Classification };
}

/**
 * A way to deliver alerts. The dispatcher gives each pending delivery of the channel's name to
 * `deliver`; a thrown error leaves it pending for a retry. Slack and Teams implement this too.
 */
export interface AlertChannel {
  name: string;
  deliver(message: AlertMessage): Promise<void>;
}

/** POSTs the message as JSON to the subscription's URL; any status other than 2xx is a failure. */
export function webhookChannel(options: { timeoutMs?: number } = {}): AlertChannel {
  return {
    name: 'webhook',
    async deliver(message) {
      const response = await fetch(message.target!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'dataops-alerts' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        redirect: 'manual',
      });
      if (response.status < 200 || response.status > 299) {
        throw new Error(`the webhook answered ${response.status} ${response.statusText}`.trim());
      }
    },
  };
}

export interface DispatchSummary {
  sent: number;
  retrying: number;
  failed: number;
}

/** After this many attempts a delivery is marked failed and left alone. */
export const maxDeliveryAttempts = 5;

/**
 * Delivers pending alert events on the given channels. Rows are claimed with `for update skip locked`,
 * so several server instances dispatching at once never send one event twice; a batch is delivered
 * concurrently, so one slow endpoint costs one timeout, not one per event.
 */
export async function dispatchAlerts(
  db: Db,
  channels: AlertChannel[],
  options: { now: Date; limit?: number },
): Promise<DispatchSummary> {
  const byName = new Map(channels.map((c) => [c.name, c]));
  if (byName.size === 0) return { sent: 0, retrying: 0, failed: 0 };
  return db.transaction(async (tx) => {
    const pending = await queryRows<Omit<AlertMessage, 'alert' | 'asset'> & { channel: string; attempts: number }>(
      tx,
      sql`select d.id::int as "deliveryId", d.event, s.principal_id as recipient, s.target, s.channel, d.attempts
          from alert_deliveries d join alert_subscriptions s on s.id = d.subscription_id
          where d.status = 'pending'
            and s.channel = any(array(select jsonb_array_elements_text(${JSON.stringify([...byName.keys()])}::jsonb)))
          order by d.id limit ${options.limit ?? 50}
          for update of d skip locked`,
    );
    const summary: DispatchSummary = { sent: 0, retrying: 0, failed: 0 };
    await Promise.all(
      pending.map(async (p) => {
        const [details] = await queryRows<Pick<AlertMessage, 'alert' | 'asset'>>(
          tx,
          sql`select json_build_object('id', al.id, 'kind', al.kind, 'severity', al.severity, 'state', al.state,
                  'title', al.title, 'evidence', al.evidence, 'assignee', al.assignee) as alert,
                json_build_object('urn', a.urn, 'qualifiedName', a.qualified_name, 'classification', a.classification) as asset
              from alert_deliveries d join alerts al on al.id = d.alert_id join assets a on a.id = al.asset_id
              where d.id = ${p.deliveryId}`,
        );
        const { channel, attempts, ...message } = p;
        let error: string | null = null;
        try {
          await byName.get(channel)!.deliver({ ...message, ...details! });
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        const status = error === null ? 'sent' : attempts + 1 >= maxDeliveryAttempts ? 'failed' : 'pending';
        summary[status === 'sent' ? 'sent' : status === 'failed' ? 'failed' : 'retrying']++;
        await tx.execute(
          sql`update alert_deliveries set status = ${status}, attempts = attempts + 1, last_error = ${error},
                sent_at = ${status === 'sent' ? options.now.toISOString() : null}::timestamptz
              where id = ${p.deliveryId}`,
        );
      }),
    );
    return summary;
  });
}

export interface InboxEntry {
  event: string;
  at: string;
  alertId: string;
  asset: string;
  qualifiedName: string;
  severity: AlertSeverity;
  state: AlertState;
  title: string;
}

/** The caller's inbox: alert events delivered to its `inbox` subscriptions, newest first, visible assets only. */
export async function readInbox(ctx: ServiceContext, limit = 20): Promise<InboxEntry[]> {
  return queryRows<InboxEntry>(
    ctx.db,
    sql`select d.event, to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at,
          al.id::text as "alertId", a.urn as asset, a.qualified_name as "qualifiedName", al.severity, al.state, al.title
        from alert_deliveries d join alert_subscriptions s on s.id = d.subscription_id
        join alerts al on al.id = d.alert_id join assets a on a.id = al.asset_id
        where s.principal_id = ${ctx.principal.id} and s.channel = 'inbox' and ${visibleAssetsSql(ctx.principal)}
        order by d.id desc limit ${limit}`,
  );
}
