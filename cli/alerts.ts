import type { Command } from 'commander';
import { Option } from 'commander';
import { DataOpsError } from '../core/errors.js';
import { readInbox, webhookChannel } from '../mcp-server/quality/alerts-dispatch.js';
import { qualityListAlerts, qualityUpdateAlert } from '../mcp-server/quality/alerts-tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import { type SchedulerConfig, schedulerConfig } from '../mcp-server/runtime/config.js';
import { renderCycle } from '../mcp-server/runtime/quality-scheduler.js';
import { type CycleSummary, newInstanceId, runDueCycle } from '../mcp-server/scheduler/scheduler.js';
import type { GlobalOptions, Workspace } from './workspace.js';

type WithWorkspace = <A extends unknown[]>(
  run: (ws: Workspace, options: GlobalOptions, ...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;
type Print = (options: GlobalOptions, data: unknown, text: string) => void;

/** `dataops alerts [list|ack|resolve|assign|inbox]` and `dataops quality run-due`. */
export function addAlertCommands(program: Command, withWorkspace: WithWorkspace, print: Print): void {
  const alerts = program.command('alerts').description('data-quality alerts on assets you may see');
  alerts
    .command('list', { isDefault: true })
    .description('the unresolved alerts, most severe first')
    .addOption(
      new Option('--state <state>', 'which alerts')
        .choices(['unresolved', 'open', 'acknowledged', 'resolved', 'all'])
        .default('unresolved'),
    )
    .addOption(new Option('--severity <level>', 'this severity and up').choices(['info', 'warning', 'critical']))
    .option('--asset <urn>', 'only alerts on this asset')
    .option('--mine', 'only alerts assigned to me')
    .option('--limit <n>', 'how many (1-100)', '20')
    .action(
      withWorkspace(
        async (
          ws,
          options,
          cmd: { state: string; severity?: string; asset?: string; mine?: boolean; limit: string },
        ) => {
          const result = await runTool(
            qualityListAlerts,
            {
              state: cmd.state,
              minSeverity: cmd.severity,
              urn: cmd.asset,
              assignee: cmd.mine ? 'me' : undefined,
              limit: Number(cmd.limit),
            },
            ws.ctx,
          );
          print(options, result, qualityListAlerts.render(result));
        },
      ),
    );

  const act = (name: string, action: 'acknowledge' | 'resolve', description: string) =>
    alerts
      .command(name)
      .description(description)
      .argument('<id>', 'the alert id (from `dataops alerts`)')
      .option('--note <text>', 'why, for the record')
      .action(
        withWorkspace(async (ws, options, id: string, cmd: { note?: string }) => {
          const alert = await runTool(qualityUpdateAlert, { id, action, note: cmd.note }, ws.ctx);
          print(options, alert, qualityUpdateAlert.render(alert));
        }),
      );
  act('ack', 'acknowledge', 'acknowledge an alert: someone is on it');
  act('resolve', 'resolve', 'resolve an alert (a new occurrence opens a new one)');
  alerts
    .command('assign')
    .description('assign an alert to a principal who may see the asset (--none to unassign)')
    .argument('<id>', 'the alert id')
    .argument('[principal]', 'the principal id')
    .option('--none', 'unassign')
    .action(
      withWorkspace(async (ws, options, id: string, assignee: string | undefined, cmd: { none?: boolean }) => {
        if (!assignee && !cmd.none)
          throw new DataOpsError('invalid_input', 'give a principal id, or --none to unassign');
        const alert = await runTool(
          qualityUpdateAlert,
          { id, action: 'assign', assignee: cmd.none ? null : assignee },
          ws.ctx,
        );
        print(options, alert, qualityUpdateAlert.render(alert));
      }),
    );
  alerts
    .command('inbox')
    .description('alert events delivered to your inbox subscriptions (quality_subscribe_alerts), newest first')
    .option('--limit <n>', 'how many', '20')
    .action(
      withWorkspace(async (ws, options, cmd: { limit: string }) => {
        const entries = await readInbox(ws.ctx, Math.min(Math.max(Number(cmd.limit) || 20, 1), 200));
        print(
          options,
          entries,
          entries.length === 0
            ? 'Your inbox is empty.'
            : entries
                .map((e) => `${e.at} ${e.event} [${e.severity}] ${e.title} (${e.alertId}, now ${e.state})`)
                .join('\n'),
        );
      }),
    );

  const quality = program.commands.find((c) => c.name() === 'quality') ?? program.command('quality');
  quality
    .command('run-due')
    .description(
      'run one scheduler cycle: due checks and profiles, alerts, deliveries (dataops start runs it on its own)',
    )
    .action(
      withWorkspace(async (ws, options) => {
        const summary = await runSchedulerCycle(ws, schedulerConfig(ws.env));
        print(options, summary, renderCycle(summary));
      }),
    );
}

/** One cycle with the workspace's settings. */
export function runSchedulerCycle(ws: Workspace, config: SchedulerConfig): Promise<CycleSummary> {
  return runDueCycle(ws.ctx, { instanceId: newInstanceId(), ...config, channels: [webhookChannel()] });
}
