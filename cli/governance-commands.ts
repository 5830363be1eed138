import { Argument, type Command, Option } from 'commander';
import {
  governanceDecideAccess,
  governanceListAccessRequests,
  governanceRequestAccess,
  governanceRevokeAccess,
} from '../mcp-server/governance/access-request-tools.js';
import { certificationLabels, certificationStatuses } from '../mcp-server/governance/certification.js';
import {
  governanceListCertifications,
  governanceRequestCertification,
  governanceReviewCertification,
} from '../mcp-server/governance/certification-tools.js';
import { governanceCompliance, governanceListPolicies } from '../mcp-server/governance/policy-tools.js';
import { type CliKit, toolAction } from './cli-kit.js';

type Flags = Record<string, string | boolean | undefined>;
const text = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/**
 * `dataops policies`, `dataops certifications` and `dataops access`: the governance tools that were MCP-only,
 * run as --as through the same tools (same rights, same audit, same messages).
 */
export function addGovernanceCommands(program: Command, kit: CliKit): void {
  const limit = (cmd: Flags, max: number) =>
    cmd.limit === undefined ? undefined : kit.positiveInteger('--limit', String(cmd.limit), max);
  const asset = async (ws: Parameters<CliKit['resolveAsset']>[0], cmd: Flags) =>
    text(cmd.asset) === undefined ? undefined : kit.resolveAsset(ws, text(cmd.asset)!);

  const policies = program.command('policies').description('governance policies and compliance records');
  policies
    .command('list', { isDefault: true })
    .description('policies, or those governing one asset')
    .option('--asset <asset>', 'only policies governing this asset (URN or qualified name)')
    .option('--verbose', 'include each policy document')
    .action(
      toolAction(kit, governanceListPolicies, async (ws, cmd: Flags) => ({
        urn: await asset(ws, cmd),
        verbose: !!cmd.verbose,
      })),
    );
  policies
    .command('compliance')
    .description('compliance of assets: ATO, STIG controls, documents; gaps first')
    .option('--asset <asset>', 'one asset')
    .option('--domain <domain>', 'one domain id')
    .option('--limit <n>', 'how many assets (1-200)')
    .action(
      toolAction(kit, governanceCompliance, async (ws, cmd: Flags) => ({
        urn: await asset(ws, cmd),
        domain: text(cmd.domain),
        limit: limit(cmd, 200),
      })),
    );

  const certs = program.command('certifications').description('certification requests and reviews');
  certs
    .command('list', { isDefault: true })
    .description('certification requests you may see')
    .option('--asset <asset>', 'only this asset')
    .addOption(new Option('--status <status>', 'only this status').choices(certificationStatuses))
    .option('--to-review', 'only requests waiting for your review')
    .option('--limit <n>', 'how many (1-200)')
    .action(
      toolAction(kit, governanceListCertifications, async (ws, cmd: Flags) => ({
        urn: await asset(ws, cmd),
        status: text(cmd.status),
        toReview: !!cmd.toReview,
        limit: limit(cmd, 200),
      })),
    );
  certs
    .command('request')
    .description('ask for a certification label on an asset (steward or owner)')
    .argument('<asset>', 'URN or qualified name')
    .addOption(new Option('--label <label>', 'the label').choices(certificationLabels).makeOptionMandatory())
    .option('--note <text>', 'the evidence a reviewer can check')
    .action(
      toolAction(kit, governanceRequestCertification, async (ws, target: string, cmd: Flags) => ({
        urn: await kit.resolveAsset(ws, target),
        label: text(cmd.label),
        note: text(cmd.note),
      })),
    );
  certs
    .command('review')
    .description('approve or reject a certification request (a reviewer other than its requester)')
    .argument('<id>', 'the request id (from `certifications list --to-review`)')
    .addArgument(new Argument('<decision>', 'approve or reject').choices(['approve', 'reject']))
    .option('--reason <text>', 'required to reject')
    .option('--days <n>', 'how long an approval lasts')
    .action(
      toolAction(kit, governanceReviewCertification, (_ws, id: string, decision: string, cmd: Flags) => ({
        id,
        decision,
        reason: text(cmd.reason),
        expiresInDays: cmd.days === undefined ? undefined : kit.positiveInteger('--days', String(cmd.days)),
      })),
    );

  const access = program.command('access').description('access requests to restricted or classified data');
  access
    .command('list', { isDefault: true })
    .description('your access requests, or (--to-decide) those waiting for your decision')
    .option('--to-decide', 'requests you may decide')
    .option('--status <status>', 'only this status (pending, approved, denied, revoked, expired)')
    .option('--limit <n>', 'how many (1-100)')
    .action(
      toolAction(kit, governanceListAccessRequests, (_ws, cmd: Flags) => ({
        scope: cmd.toDecide ? 'to_decide' : 'mine',
        status: text(cmd.status),
        limit: limit(cmd, 100),
      })),
    );
  access
    .command('request')
    .description('ask for access to an asset, saying why')
    .argument('<asset>', 'URN or qualified name')
    .requiredOption('--purpose <text>', 'what you need the data for (at least 10 characters)')
    .option('--days <n>', 'how many days you need access', '30')
    .action(
      toolAction(kit, governanceRequestAccess, async (ws, target: string, cmd: Flags) => ({
        urn: await kit.resolveAsset(ws, target),
        purpose: text(cmd.purpose),
        days: kit.positiveInteger('--days', String(cmd.days)),
      })),
    );
  access
    .command('decide')
    .description('approve or deny an access request (its asset’s steward or owner, or an admin)')
    .argument('<id>', 'the request id')
    .addArgument(new Argument('<decision>', 'approve or deny').choices(['approve', 'deny']))
    .option('--reason <text>', 'required to deny; shown to the requester')
    .option('--days <n>', 'for an approval: how many days the grant lasts')
    .action(
      toolAction(kit, governanceDecideAccess, (_ws, id: string, decision: string, cmd: Flags) => ({
        id,
        decision,
        reason: text(cmd.reason),
        days: cmd.days === undefined ? undefined : kit.positiveInteger('--days', String(cmd.days)),
      })),
    );
  access
    .command('revoke')
    .description('end an approved grant early')
    .argument('<id>', 'the request id')
    .requiredOption('--reason <text>', 'why the grant ends')
    .action(
      toolAction(kit, governanceRevokeAccess, (_ws, id: string, cmd: Flags) => ({ id, reason: text(cmd.reason) })),
    );
}
