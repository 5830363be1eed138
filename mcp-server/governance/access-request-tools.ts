import { z } from 'zod';
import { cursorInput, limitInput, urnInput } from '../catalog/schemas.js';
import { additive, defineTool, destructive, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import {
  type AccessRequestView,
  decideAccess,
  listAccessRequests,
  maxAccessDays,
  requestAccess,
  revokeAccess,
} from './access-requests.js';

const statusSchema = z.enum(['pending', 'approved', 'expired', 'denied', 'revoked']);

const accessRequestSchema = z.object({
  id: z.string(),
  urn: z.string(),
  asset: z.string().describe('Qualified name of the asset'),
  requester: z.string(),
  requesterName: z.string(),
  purpose: z.string(),
  requestedDays: z.number(),
  status: statusSchema,
  decidedBy: z.string().nullable().describe('Who decided; null when a rule approved it or it is pending'),
  autoRule: z.string().nullable().describe('The rule that approved it without a person, if one did'),
  reason: z.string().nullable().describe('Why it was approved, denied or revoked'),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  expiresAt: z.string().nullable().describe('When the grant ends on its own'),
});

const requestIdInput = z.string().min(1).max(100).describe('The access request id');
const daysInput = z.number().int().min(1).max(maxAccessDays);

function renderRequest(r: AccessRequestView): string {
  const decided =
    r.status === 'pending'
      ? 'waiting for an owner or steward'
      : `${r.status}${r.autoRule ? ` by rule ${r.autoRule}` : r.decidedBy ? ` by ${r.decidedBy}` : ''}`;
  const until = r.expiresAt && (r.status === 'approved' || r.status === 'expired') ? `, until ${r.expiresAt}` : '';
  return `${r.id}: ${r.requester} → ${r.asset} (${r.requestedDays} days) ${decided}${until}\n  purpose: ${fenceUntrusted(r.purpose)}${
    r.reason ? `\n  reason: ${fenceUntrusted(r.reason)}` : ''
  }`;
}

export const governanceRequestAccess = defineTool({
  name: 'governance_request_access',
  title: 'Request access to an asset',
  description:
    'Ask for access to an asset for a purpose and a number of days. U or C data you are cleared for is approved at once ' +
    'by a rule; anything else waits for an owner or steward. Asking again while a request is open returns it.',
  input: z
    .object({
      urn: urnInput,
      purpose: z.string().min(10).max(2000).describe('What you need the data for, for the people who decide'),
      days: daysInput.default(30).describe(`How many days you need access (1-${maxAccessDays}, default 30)`),
    })
    .strict(),
  output: accessRequestSchema,
  annotations: idempotent,
  handler: (input, ctx) => requestAccess(ctx, input),
  render: renderRequest,
});

export const governanceDecideAccess = defineTool({
  name: 'governance_decide_access',
  title: 'Approve or deny an access request',
  description:
    'Decide a pending access request (for the asset owner, an owner of its domain, or a steward; never your own). Approve ' +
    'with an expiry in days (default: what was asked for) or deny with a reason. A grant gives need-to-know for that asset, ' +
    'never clearance. List what waits for you with governance_list_access_requests scope "to_decide".',
  input: z
    .object({
      id: requestIdInput,
      decision: z.enum(['approve', 'deny']),
      reason: z.string().max(2000).optional().describe('Required to deny; shown to the requester'),
      days: daysInput.optional().describe('For an approval: how many days the grant lasts'),
    })
    .strict(),
  output: accessRequestSchema,
  annotations: additive,
  handler: ({ id, decision, reason, days }, ctx) =>
    decideAccess(ctx, { id, approve: decision === 'approve', reason, days }),
  render: renderRequest,
});

export const governanceListAccessRequests = defineTool({
  name: 'governance_list_access_requests',
  title: 'List access requests',
  description:
    'Your own access requests and grants (scope "mine"), or the pending requests you may decide (scope "to_decide"), newest ' +
    'first; filter by status (pending, approved, expired, denied, revoked).',
  input: z
    .object({
      scope: z.enum(['mine', 'to_decide']).default('mine'),
      status: statusSchema.optional(),
      limit: limitInput(100, 20),
      cursor: cursorInput,
    })
    .strict(),
  output: z.object({ total: z.number(), requests: z.array(accessRequestSchema), nextCursor: z.string().nullable() }),
  annotations: readOnly,
  handler: (input, ctx) => listAccessRequests(ctx, input),
  render: (r) =>
    r.total === 0
      ? 'No access requests.'
      : `${r.total} access requests\n${r.requests.map(renderRequest).join('\n')}${r.nextCursor ? `\n(more: cursor ${r.nextCursor})` : ''}`,
});

export const governanceRevokeAccess = defineTool({
  name: 'governance_revoke_access',
  title: 'Revoke an access grant',
  description:
    'End a current access grant before it expires, with a reason: for the asset owner, an owner of its domain or a steward, ' +
    'or for the holder giving it up. The asset disappears at once for a holder who had it only through the grant.',
  input: z
    .object({
      id: requestIdInput,
      reason: z.string().min(1).max(2000).describe('Why the grant ends'),
    })
    .strict(),
  output: accessRequestSchema,
  annotations: destructive,
  handler: (input, ctx) => revokeAccess(ctx, input),
  render: renderRequest,
});

export const accessRequestTools = [
  governanceRequestAccess,
  governanceDecideAccess,
  governanceListAccessRequests,
  governanceRevokeAccess,
];
