import { z } from 'zod';
import { limitInput, urnInput } from '../catalog/schemas.js';
import { additive, defineTool, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import {
  type CertificationView,
  certificationLabels,
  certificationStatuses,
  listCertifications,
  maxCertificationDays,
  requestCertification,
  reviewCertification,
} from './certification.js';
import { describeWarning, policyWarningsOutput } from './policy-rules.js';

const certificationSchema = z.object({
  id: z.string(),
  urn: z.string(),
  qualifiedName: z.string(),
  label: z.string(),
  status: z.enum(certificationStatuses),
  requestedBy: z.string(),
  requestedAt: z.string(),
  note: z.string().nullable(),
  reviewedBy: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  reviewNote: z.string().nullable(),
  expiresAt: z.string().nullable(),
  canReview: z.boolean().describe('Whether you may approve or reject it'),
});

function renderCertification(c: CertificationView): string {
  const decided =
    c.status === 'pending'
      ? `asked by ${c.requestedBy}${c.canReview ? ' (you may review it)' : ''}`
      : `${c.reviewedBy ? `by ${c.reviewedBy}` : ''}${c.expiresAt && c.status !== 'rejected' ? ` until ${c.expiresAt.slice(0, 10)}` : ''}`;
  const note = c.reviewNote ? ` ${fenceUntrusted(c.reviewNote)}` : c.note ? ` ${fenceUntrusted(c.note)}` : '';
  return `- "${c.label}" on ${c.qualifiedName}: ${c.status} ${decided}${note} [${c.id}]`;
}

export const governanceRequestCertification = defineTool({
  name: 'governance_request_certification',
  title: 'Ask for an asset to be certified',
  description:
    `Ask the owner or a steward to certify an asset with a label (${certificationLabels.join(', ')}). ` +
    'Certified assets show the label in search results and profiles and rank higher. Asking again while a request is ' +
    'pending changes nothing. Audited.',
  input: z
    .object({
      urn: urnInput,
      label: z.enum(certificationLabels),
      note: z.string().max(2_000).optional().describe('Why it deserves the label: evidence a reviewer can check'),
    })
    .strict(),
  output: certificationSchema.extend({ created: z.boolean().describe('False when the same request was pending') }),
  annotations: idempotent,
  handler: (input, ctx) => requestCertification(ctx, input),
  render: (c) => `${c.created ? 'Requested' : 'Already pending'}:\n${renderCertification(c)}`,
});

export const governanceReviewCertification = defineTool({
  name: 'governance_review_certification',
  title: 'Approve or reject a certification request',
  description:
    'Approve (with `expiresInDays`) or reject (with a reason) a pending certification request from ' +
    "governance_list_certifications. The asset's owner or a steward decides, never the requester; blocking policies apply. Audited.",
  input: z
    .object({
      id: z.string().min(1).max(100).describe('The request id'),
      decision: z.enum(['approve', 'reject']),
      expiresInDays: z.number().int().min(1).max(maxCertificationDays).optional(),
      reason: z.string().max(2_000).optional().describe('Required to reject; a comment when approving'),
    })
    .strict(),
  output: certificationSchema.extend({ policyWarnings: policyWarningsOutput }),
  annotations: additive,
  handler: (input, ctx) => reviewCertification(ctx, input),
  render: (c) => [renderCertification(c), ...c.policyWarnings.map(describeWarning)].join('\n'),
});

export const governanceListCertifications = defineTool({
  name: 'governance_list_certifications',
  title: 'List certifications and requests',
  description:
    'Certifications and certification requests, newest first: of one asset (urn), in one status (pending, approved, ' +
    'rejected, superseded, expired), or `toReview: true` for the pending requests you may decide.',
  input: z
    .object({
      urn: urnInput.optional(),
      status: z.enum(certificationStatuses).optional(),
      toReview: z.boolean().default(false),
      limit: limitInput(200, 50),
    })
    .strict(),
  output: z.object({ certifications: z.array(certificationSchema) }),
  annotations: readOnly,
  handler: (input, ctx) => listCertifications(ctx, input),
  render: (r) =>
    r.certifications.length === 0 ? 'No certifications.' : r.certifications.map(renderCertification).join('\n'),
});

export const certificationTools = [
  governanceRequestCertification,
  governanceReviewCertification,
  governanceListCertifications,
];
