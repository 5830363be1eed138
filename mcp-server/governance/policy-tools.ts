import { z } from 'zod';
import { classificationSchema, cursorInput, limitInput, urnInput } from '../catalog/schemas.js';
import { defineTool, fenceUntrusted, idempotent, readOnly } from '../tool.js';
import { type AssetCompliance, atoStatuses, controlStatuses, getCompliance, recordCompliance } from './compliance.js';
import { linkPolicy, listPolicies, policyKinds, savePolicy } from './policies.js';
import { describeRule, governedActions, policyRuleSchema } from './policy-rules.js';

const policySchema = z.object({
  name: z.string(),
  kind: z.string(),
  description: z.string().nullable(),
  document: z.string().nullable(),
  authority: z.string().nullable(),
  rules: z.array(policyRuleSchema),
  linkedTo: z.object({ assets: z.array(z.string()), tags: z.array(z.string()), domains: z.array(z.string()) }),
  updatedAt: z.string(),
});
type PolicyOutput = z.infer<typeof policySchema>;

function renderPolicy(p: PolicyOutput): string {
  const links = [
    ...p.linkedTo.assets,
    ...p.linkedTo.tags.map((t) => `tag ${t}`),
    ...p.linkedTo.domains.map((d) => `domain ${d}`),
  ];
  return [
    `${p.name} (${p.kind}${p.authority ? `; ${p.authority}` : ''})`,
    ...p.rules.map((r) => `  - ${describeRule(r)}`),
    `  governs: ${links.join(', ') || 'nothing yet (link it with governance_link_policy)'}`,
  ].join('\n');
}

export const governanceCreatePolicy = defineTool({
  name: 'governance_create_policy',
  title: 'Create or update a policy',
  description:
    'Write a governance policy: its markdown document, the authority it implements (e.g. NIST SP 800-53 AC-3) and rules, ' +
    'each naming the assets it looks at (`when`), what they must satisfy (`require`) and whether a breach is reported ' +
    '(`warning`) or refuses the governed actions (`blocking`). An existing name is replaced. Link it to assets, tags or ' +
    'domains with governance_link_policy. Steward or admin; audited.',
  input: z
    .object({
      name: z.string().min(1).max(200).describe('A unique name, e.g. "PII handling"'),
      kind: z.enum(policyKinds),
      description: z.string().max(1_000).optional().describe('One line for lists'),
      document: z.string().min(1).max(100_000).describe('The policy text people read (markdown)'),
      authority: z.string().min(1).max(500).describe('What mandates it, e.g. NIST SP 800-53 Rev. 5 AC-3'),
      rules: z.array(policyRuleSchema).max(50).default([]),
    })
    .strict(),
  output: policySchema,
  annotations: idempotent,
  handler: (input, ctx) => savePolicy(ctx, input),
  render: renderPolicy,
});

export const governanceLinkPolicy = defineTool({
  name: 'governance_link_policy',
  title: 'Apply a policy to an asset, a tag or a domain',
  description:
    'Make a policy govern one asset (urn), every asset carrying a tag, or every asset of a domain; `unlink: true` removes that ' +
    'link. Linking twice changes nothing. Steward or admin; audited.',
  input: z
    .object({
      policy: z.string().min(1).max(200).describe('The policy name'),
      urn: urnInput.optional(),
      tag: z.string().min(1).max(100).optional(),
      domain: z.string().min(1).max(100).optional().describe('A domain id'),
      unlink: z.boolean().default(false),
    })
    .strict()
    .refine((i) => [i.urn, i.tag, i.domain].filter((v) => v !== undefined).length === 1, {
      message: 'give exactly one of urn, tag or domain',
    }),
  output: z.object({ policy: z.string(), target: z.string(), linked: z.boolean(), changed: z.boolean() }),
  annotations: idempotent,
  handler: ({ policy, urn, tag, domain, unlink }, ctx) =>
    linkPolicy(ctx, {
      policy,
      target: urn !== undefined ? { urn } : tag !== undefined ? { tag } : { domain: domain! },
      unlink,
    }),
  render: (r) =>
    `${r.policy} ${r.linked ? 'governs' : 'no longer governs'} ${r.target}${r.changed ? '' : ' (unchanged)'}.`,
});

export const governanceListPolicies = defineTool({
  name: 'governance_list_policies',
  title: 'List policies',
  description:
    'The governance policies with their authority, document, rules and what they govern; give an asset urn to see only the ' +
    'policies that apply to it (linked to it, its tags or its domain).',
  input: z
    .object({
      urn: urnInput.optional().describe('Only policies governing this asset'),
      verbose: z.boolean().default(false).describe('Include each policy document (markdown)'),
    })
    .strict(),
  output: z.object({ policies: z.array(policySchema) }),
  annotations: readOnly,
  handler: async ({ urn, verbose }, ctx) => {
    const result = await listPolicies(ctx, { urn });
    return { policies: result.policies.map((p) => (verbose ? p : { ...p, document: null })) };
  },
  render: (r) => (r.policies.length === 0 ? 'No policies.' : r.policies.map(renderPolicy).join('\n')),
});

const assetComplianceSchema = z.object({
  urn: z.string(),
  qualifiedName: z.string(),
  classification: classificationSchema,
  status: z.enum(['compliant', 'warning', 'non_compliant', 'not_governed']),
  policies: z.array(z.string()),
  unmet: z.array(
    z.object({
      policy: z.string(),
      authority: z.string().nullable(),
      requirement: z.string(),
      enforcement: z.enum(['warning', 'blocking']),
      actions: z.array(z.enum(governedActions)),
    }),
  ),
  certifications: z.array(z.string()),
  ato: z
    .object({
      status: z.string(),
      inForce: z.boolean(),
      authorizingOfficial: z.string(),
      grantedAt: z.string().nullable(),
      expiresAt: z.string().nullable(),
      note: z.string().nullable(),
    })
    .nullable(),
  controls: z.object({
    open: z.number(),
    notAFinding: z.number(),
    notApplicable: z.number(),
    items: z.array(
      z.object({
        controlId: z.string(),
        benchmark: z.string().nullable(),
        status: z.string(),
        evidence: z.string().nullable(),
        updatedAt: z.string(),
      }),
    ),
  }),
  documents: z.array(z.object({ title: z.string(), kind: z.string(), reference: z.string() })),
});

const complianceOutput = z.object({
  scope: z.string(),
  total: z.number(),
  summary: z.object({
    compliant: z.number(),
    warning: z.number(),
    nonCompliant: z.number(),
    notGoverned: z.number(),
    atoInForce: z.number(),
    openControls: z.number(),
  }),
  assets: z.array(assetComplianceSchema),
  nextCursor: z.string().nullable(),
});

/** One asset's compliance in a few lines. */
function renderAssetCompliance(a: AssetCompliance): string {
  const ato = a.ato
    ? `ATO ${a.ato.status}${a.ato.inForce ? '' : ' (not in force)'} by ${a.ato.authorizingOfficial}${a.ato.expiresAt ? `, expires ${a.ato.expiresAt.slice(0, 10)}` : ''}`
    : 'no ATO recorded';
  return [
    `${a.qualifiedName} (${a.classification}): ${a.status.replace('_', ' ')}`,
    ...a.unmet.map(
      (u) => `  - unmet (${u.enforcement}): ${u.requirement} [${u.policy}${u.authority ? `, ${u.authority}` : ''}]`,
    ),
    `  ${ato}; STIG: ${a.controls.open} open, ${a.controls.notAFinding} not a finding, ${a.controls.notApplicable} not applicable`,
    ...a.documents.map((d) => `  - ${d.kind}: ${fenceUntrusted(d.title)} ${d.reference}`),
  ].join('\n');
}

export const governanceCompliance = defineTool({
  name: 'governance_compliance',
  title: 'Compliance status of an asset or a domain',
  description:
    'Is this data compliant? For one asset (urn) or a whole domain: the status with each unmet policy requirement and ' +
    'its authority, certifications, the ATO, STIG controls and governing documents.',
  input: z
    .object({
      urn: urnInput.optional(),
      domain: z.string().min(1).max(100).optional().describe('A domain id'),
      limit: limitInput(200, 50),
      cursor: cursorInput,
    })
    .strict(),
  output: complianceOutput,
  annotations: readOnly,
  handler: (input, ctx) => getCompliance(ctx, input),
  render: (r) =>
    [
      `${r.scope}: ${r.summary.compliant} compliant, ${r.summary.warning} with warnings, ${r.summary.nonCompliant} non-compliant, ` +
        `${r.summary.notGoverned} not governed; ${r.summary.atoInForce} with an ATO in force; ${r.summary.openControls} open STIG controls`,
      ...r.assets.map(renderAssetCompliance),
      r.nextCursor ? `(more: cursor ${r.nextCursor})` : '',
    ]
      .filter(Boolean)
      .join('\n'),
});

export const governanceRecordCompliance = defineTool({
  name: 'governance_record_compliance',
  title: 'Record ATO, STIG control or governing document',
  description:
    "Record an asset's authorisation to operate (authorized = ATO, interim = IATO, testing = IATT, denied = DATO), " +
    'the result of one STIG control, or a governing document; each replaces what was recorded under the same key. ' +
    "Steward or admin; audited. Returns the asset's compliance.",
  input: z
    .object({
      urn: urnInput,
      ato: z
        .object({
          status: z.enum(atoStatuses),
          authorizingOfficial: z.string().min(1).max(200),
          grantedAt: z.string().max(40).optional().describe('ISO date, e.g. 2026-01-15'),
          expiresAt: z.string().max(40).optional().describe('ISO date, e.g. 2029-01-15'),
          note: z.string().max(2_000).optional(),
        })
        .strict()
        .optional(),
      control: z
        .object({
          controlId: z.string().min(1).max(100).describe('e.g. V-214120 or AC-3'),
          benchmark: z.string().max(200).optional().describe('e.g. PostgreSQL 9.x STIG V2R5'),
          status: z.enum(controlStatuses),
          evidence: z.string().max(10_000).optional(),
        })
        .strict()
        .optional(),
      document: z
        .object({
          title: z.string().min(1).max(300),
          kind: z.string().min(1).max(100).describe('e.g. SSP, technical order, MOU, data sharing agreement'),
          reference: z.string().min(1).max(1_000).describe('A URL or a citation such as TO 00-5-1'),
        })
        .strict()
        .optional(),
    })
    .strict(),
  output: complianceOutput,
  annotations: idempotent,
  handler: (input, ctx) => recordCompliance(ctx, input),
  render: (r) => r.assets.map(renderAssetCompliance).join('\n'),
});

export const policyTools = [
  governanceCreatePolicy,
  governanceLinkPolicy,
  governanceListPolicies,
  governanceCompliance,
  governanceRecordCompliance,
];
