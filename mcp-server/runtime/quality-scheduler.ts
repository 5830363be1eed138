import type { ServiceContext } from '../context.js';
import { webhookChannel } from '../quality/alerts-dispatch.js';
import { type CycleSummary, newInstanceId, startScheduler } from '../scheduler/scheduler.js';
import { type Env, schedulerConfig } from './config.js';

/** The scheduler a serving runtime runs beside its surfaces; started once, stopped by close(). */
export interface RuntimeScheduler {
  /** Starts it (a first cycle at once) unless DATAOPS_SCHEDULER_INTERVAL is 0 or it already runs. */
  start(): void;
  /** Waits for a cycle in progress, then stops; a no-op when it is not running. */
  stop(): Promise<void>;
}

/**
 * The quality scheduler of a runtime: a first cycle at once (so every table of a new catalog has a profile
 * and a score after it), then every DATAOPS_SCHEDULER_INTERVAL seconds; 0 turns it off. Several servers on
 * one catalog share the work through the database's leases.
 */
export function qualityScheduler(env: Env, context: () => Promise<ServiceContext>): RuntimeScheduler {
  let running: { stop(): Promise<void> } | null = null;
  let starting: Promise<void> | null = null;
  return {
    start() {
      const intervalSeconds = env.DATAOPS_SCHEDULER_INTERVAL;
      if (intervalSeconds === 0 || starting) return;
      starting = context().then((ctx) => {
        running = startScheduler(ctx, {
          instanceId: newInstanceId(),
          ...schedulerConfig(env),
          channels: [webhookChannel()],
          intervalMs: intervalSeconds * 1000,
          onCycle: (summary) => {
            if (summary.ran > 0 || summary.deliveries.sent > 0)
              ctx.logger.info(`quality scheduler: ${renderCycle(summary)}`);
          },
        });
      });
    },
    async stop() {
      await starting?.catch(() => {});
      await running?.stop();
      running = null;
      starting = null;
    },
  };
}

/** One line per cycle, as `dataops quality run-due` prints it and the server logs it. */
export function renderCycle(s: CycleSummary): string {
  return [
    `ran ${s.ran} job(s)${s.failed.length ? `, ${s.failed.length} failed` : ''}; alerts: ${s.alerts.opened} opened, ${s.alerts.escalated} escalated, ${s.alerts.resolved} resolved; ` +
      `deliveries: ${s.deliveries.sent} sent, ${s.deliveries.retrying} to retry, ${s.deliveries.failed} failed`,
    ...s.failed.map((f) => `  ${f.key}: ${f.error}`),
  ].join('\n');
}
