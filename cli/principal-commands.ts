import { type Command, Option } from 'commander';
import { classificationLevels, roleNames } from '../db/schema/types.js';
import {
  governanceListPrincipals,
  governanceListTokens,
  governanceRemovePrincipal,
  governanceRevokeToken,
  governanceUpdatePrincipal,
} from '../mcp-server/governance/principal-tools.js';
import { type CliKit, toolAction } from './cli-kit.js';

const group = (program: Command, name: string, description: string) =>
  program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);

/** `dataops principal list|update|remove` and `dataops token list|revoke` (the governance_* tools). */
export function addPrincipalCommands(program: Command, kit: CliKit): void {
  const principal = group(program, 'principal', 'the people and services that use DataOps (admin)');
  principal
    .command('list')
    .description('principals with clearance, roles, domains, linked identities and live tokens')
    .option('--all', 'also removed principals')
    .action(
      toolAction(kit, governanceListPrincipals, (_ws, cmd: { all?: boolean }) => ({ includeRemoved: !!cmd.all })),
    );
  principal
    .command('update')
    .description('change only what is given of a principal (`principal add` replaces it all)')
    .argument('<id>', 'the principal id')
    .option('--name <name>', 'display name')
    .option('--email <email>', 'e-mail address ("" clears it)')
    .addOption(new Option('--clearance <marking>', 'highest marking it may see').choices(classificationLevels))
    .addOption(new Option('--role <role...>', 'its roles (replaces them)').choices(roleNames))
    .option('--domain <domain...>', 'its restricted domains (replaces them)')
    .option('--no-domains', 'take it out of every restricted domain')
    .option('--group <group...>', 'its groups (replaces them)')
    .action(
      toolAction(
        kit,
        governanceUpdatePrincipal,
        (
          _ws,
          id: string,
          cmd: {
            name?: string;
            email?: string;
            clearance?: string;
            role?: string[];
            domain?: string[];
            domains: boolean;
            group?: string[];
          },
        ) => ({
          id,
          displayName: cmd.name,
          email: cmd.email === undefined ? undefined : cmd.email || null,
          clearance: cmd.clearance,
          roles: cmd.role,
          domains: cmd.domains === false ? [] : cmd.domain,
          groups: cmd.group,
        }),
      ),
    );
  principal
    .command('remove')
    .description('stop a principal acting: revokes its tokens; the audit log keeps its name (add it again to restore)')
    .argument('<id>', 'the principal id')
    .option('--reason <text>', 'why, for the audit log')
    .action(
      toolAction(kit, governanceRemovePrincipal, (_ws, id: string, cmd: { reason?: string }) => ({
        id,
        reason: cmd.reason,
      })),
    );

  const token = group(program, 'token', 'API tokens for HTTP clients');
  token
    .command('list')
    .description("your tokens (never their value); an admin may ask for another principal's or all")
    .option('--principal <id>', "this principal's tokens (admin)")
    .option('--all', "everyone's tokens (admin)")
    .option('--include-inactive', 'also revoked and expired tokens')
    .action(
      toolAction(
        kit,
        governanceListTokens,
        (_ws, cmd: { principal?: string; all?: boolean; includeInactive?: boolean }) => ({
          principal: cmd.principal,
          all: !!cmd.all,
          includeInactive: !!cmd.includeInactive,
        }),
      ),
    );
  token
    .command('revoke')
    .description('revoke a token by its id (from `token list`): its next request is refused')
    .argument('<id>', 'the token id')
    .action(toolAction(kit, governanceRevokeToken, (_ws, id: string) => ({ id })));
}
