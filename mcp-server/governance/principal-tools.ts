import { z } from 'zod';
import { classificationLevels, roleNames } from '../../db/schema/types.js';
import { defineTool, idempotent, idempotentDestructive, readOnly } from '../tool.js';
import { listTokens, revokeToken, type TokenView } from './api-tokens.js';
import { listPrincipals, removePrincipal, updatePrincipal } from './principal-admin.js';

const principalId = z.string().min(1).max(200).describe('The principal id');

const principalSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  clearance: z.string(),
  roles: z.array(z.string()),
  domains: z.array(z.string()),
  groups: z.array(z.string()),
  removed: z.boolean(),
  identities: z.array(z.object({ provider: z.string(), subject: z.string() })),
  activeTokens: z.number(),
  createdAt: z.string(),
});

export const renderPrincipal = (p: z.infer<typeof principalSchema>) =>
  `- ${p.id} (${p.displayName})${p.removed ? ' REMOVED' : ''}: clearance ${p.clearance}, roles ${p.roles.join(', ')}` +
  `${p.domains.length ? `, domains ${p.domains.join(', ')}` : ''}${p.identities.length ? `, ${p.identities.length} linked identit${p.identities.length === 1 ? 'y' : 'ies'}` : ''}, ${p.activeTokens} active token${p.activeTokens === 1 ? '' : 's'}`;

export const governanceListPrincipals = defineTool({
  name: 'governance_list_principals',
  title: 'List principals',
  description:
    'The people and service accounts of this DataOps (administrators): clearance, roles, need-to-know domains, groups, ' +
    'linked sign-in identities and how many live API tokens each has. Removed ones only with includeRemoved.',
  input: z.strictObject({ includeRemoved: z.boolean().default(false) }),
  output: z.object({ principals: z.array(principalSchema) }),
  annotations: readOnly,
  handler: async ({ includeRemoved }, ctx) => ({ principals: await listPrincipals(ctx, { includeRemoved }) }),
  render: (o) => (o.principals.length ? o.principals.map(renderPrincipal).join('\n') : 'No principals.'),
});

export const governanceUpdatePrincipal = defineTool({
  name: 'governance_update_principal',
  title: 'Change a principal',
  description:
    'Changes what is given of a principal and leaves the rest (administrators): display name, e-mail, clearance, ' +
    'roles, need-to-know domains (the full list), groups. The last administrator keeps the admin role. Audited.',
  input: z.strictObject({
    id: principalId,
    displayName: z.string().min(1).max(200).optional(),
    email: z.string().max(320).nullable().optional(),
    clearance: z.enum(classificationLevels).optional(),
    roles: z.array(z.enum(roleNames)).min(1).max(4).optional(),
    domains: z.array(z.string().min(1).max(200)).max(100).optional().describe('Replaces its restricted domains'),
    groups: z.array(z.string().min(1).max(200)).max(100).optional(),
  }),
  output: z.object({ principal: principalSchema }),
  annotations: idempotent,
  handler: async (input, ctx) => ({ principal: await updatePrincipal(ctx, input) }),
  render: (o) => `Updated:\n${renderPrincipal(o.principal)}`,
});

export const governanceRemovePrincipal = defineTool({
  name: 'governance_remove_principal',
  title: 'Remove a principal',
  description:
    'Removes a principal (administrators): it can no longer act, its API tokens are revoked and its sign-ins refused. ' +
    'It stays in the audit log, comments and decisions that name it; adding it again restores it (tokens stay revoked). ' +
    'Neither oneself, the local administrator nor the last administrator can be removed.',
  input: z.strictObject({ id: principalId, reason: z.string().max(2000).optional() }),
  output: z.object({ principal: z.string(), tokensRevoked: z.number(), changed: z.boolean() }),
  annotations: idempotentDestructive,
  handler: ({ id, reason }, ctx) => removePrincipal(ctx, id, reason),
  render: (o) =>
    o.changed
      ? `Removed ${o.principal}; ${o.tokensRevoked} token${o.tokensRevoked === 1 ? '' : 's'} revoked.`
      : `${o.principal} was already removed.`,
});

const tokenSchema = z.object({
  id: z.string(),
  principal: z.string(),
  name: z.string(),
  state: z.enum(['active', 'expired', 'revoked']),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const renderToken = (t: TokenView) =>
  `- ${t.id} ${t.principal} "${t.name}" ${t.state}${t.expiresAt ? `, expires ${t.expiresAt}` : ', never expires'}${t.lastUsedAt ? `, last used ${t.lastUsedAt}` : ', never used'}`;

export const governanceListTokens = defineTool({
  name: 'governance_list_tokens',
  title: 'List API tokens',
  description:
    'API tokens (never their value): your own by default; administrators may name a principal or ask for all. Each with ' +
    'its state (active, expired, revoked), expiry and last use. Revoked and expired ones only with includeInactive.',
  input: z.strictObject({
    principal: principalId.optional().describe("Another principal's tokens (administrators)"),
    all: z.boolean().default(false).describe("Everyone's tokens (administrators)"),
    includeInactive: z.boolean().default(false),
  }),
  output: z.object({ tokens: z.array(tokenSchema) }),
  annotations: readOnly,
  handler: async (input, ctx) => ({ tokens: await listTokens(ctx, input) }),
  render: (o) => (o.tokens.length ? o.tokens.map(renderToken).join('\n') : 'No tokens.'),
});

export const governanceRevokeToken = defineTool({
  name: 'governance_revoke_token',
  title: 'Revoke an API token',
  description:
    'Revokes an API token by id (from governance_list_tokens) at once: its next request is refused. Your own tokens, ' +
    'or anyone’s for administrators. Audited.',
  input: z.strictObject({ id: z.string().min(1).max(100).describe('The token id (not its value)') }),
  output: z.object({ token: tokenSchema, changed: z.boolean() }),
  annotations: idempotentDestructive,
  handler: ({ id }, ctx) => revokeToken(ctx, id),
  render: (o) => `${o.changed ? 'Revoked' : 'Already revoked:'}\n${renderToken(o.token)}`,
});

export const principalTools = [
  governanceListPrincipals,
  governanceUpdatePrincipal,
  governanceRemovePrincipal,
  governanceListTokens,
  governanceRevokeToken,
];
