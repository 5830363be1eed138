import type { Command } from 'commander';
import { qualityDeleteRule, qualityDisableRule, qualityEnableRule } from '../mcp-server/quality/rules-manage-tools.js';
import { qualityListRules } from '../mcp-server/quality/rules-tools.js';
import type { ToolDefinition } from '../mcp-server/tool.js';
import { type CliKit, toolAction } from './cli-kit.js';

/** `dataops quality rules|disable|enable|delete`: the rule tools from a shell. */
export function addQualityRuleCommands(program: Command, kit: CliKit): void {
  const quality = program.commands.find((c) => c.name() === 'quality') ?? program.command('quality');
  quality
    .command('rules')
    .description("an asset's quality rules (quality_list_rules)")
    .argument('<asset>', 'the asset: its URN or qualified name')
    .option('--all', 'also the disabled rules')
    .action(
      toolAction(kit, qualityListRules, async (ws, asset: string, cmd: { all?: boolean }) => ({
        urn: await kit.resolveAsset(ws, asset),
        includeDisabled: Boolean(cmd.all),
      })),
    );
  const change = (name: string, tool: ToolDefinition, description: string) =>
    quality
      .command(name)
      .description(description)
      .argument('<asset>', 'the asset: its URN or qualified name')
      .argument('<rule>', 'the rule: its name (quote it) or id')
      .action(
        toolAction(kit, tool as ToolDefinition, async (ws, asset: string, rule: string) => ({
          urn: await kit.resolveAsset(ws, asset),
          rule,
        })),
      );
  change('disable', qualityDisableRule, 'turn a rule off, keeping it and its results (steward or owner)');
  change('enable', qualityEnableRule, 'turn a disabled rule back on (steward or owner)');
  change('delete', qualityDeleteRule, 'delete a rule and its past results; the audit log keeps its definition');
}
