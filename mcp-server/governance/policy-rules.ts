import { z } from 'zod';
import { assetKinds } from '../../db/schema/catalog.js';
import { type Classification, classificationLevels } from '../../db/schema/types.js';
import { clearanceAllows } from './access.js';

/**
 * The writes a blocking rule can refuse. Each names the service function that calls `enforcePolicies`:
 * catalog_update_asset, lineage edits, certification approval, classification changes, access grants.
 */
export const governedActions = [
  'asset.update',
  'lineage.edit',
  'certification.approve',
  'classification.change',
  'access.grant',
] as const;
export type GovernedAction = (typeof governedActions)[number];

const levelSchema = z.enum(classificationLevels);

/** Which assets a rule looks at: every field given must hold (an empty condition: every governed asset). */
export const ruleConditionSchema = z
  .object({
    classificationAtLeast: levelSchema.optional().describe('Assets marked at least this (U < C < S < TS)'),
    tag: z.string().min(1).max(100).optional().describe('Assets carrying this tag'),
    domain: z.string().min(1).max(100).optional().describe('Assets of this domain id'),
    kind: z.enum(assetKinds).optional().describe('Assets of this kind'),
    hasOwner: z.boolean().optional().describe('Assets that have (true) or lack (false) an owner'),
    certified: z.boolean().optional().describe('Assets with (true) or without (false) a certification in force'),
    columnSensitivity: z
      .string()
      .min(1)
      .max(50)
      .optional()
      .describe('Assets with at least one column of this sensitivity, e.g. pii'),
  })
  .strict();

export const requirementSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('has_owner') }).strict(),
  z.object({ type: z.literal('description') }).strict(),
  z
    .object({
      type: z.literal('certified'),
      label: z.string().min(1).max(100).optional().describe('A particular label, e.g. Production Ready'),
    })
    .strict(),
  z
    .object({
      type: z.literal('tag'),
      tag: z.string().min(1).max(100).describe('The tag itself, or `<tag>:<value>` such as retention:7y'),
    })
    .strict(),
  z.object({ type: z.literal('classification_at_least'), level: levelSchema }).strict(),
  z.object({ type: z.literal('ato_current') }).strict(),
  z.object({ type: z.literal('controls_closed') }).strict(),
]);
export type Requirement = z.infer<typeof requirementSchema>;

export const policyRuleSchema = z
  .object({
    when: ruleConditionSchema.default({}).describe('Which assets the rule applies to (default: all governed ones)'),
    require: requirementSchema.describe(
      'What those assets must satisfy; ato_current: an unexpired ATO or IATO; controls_closed: no open STIG control',
    ),
    enforcement: z
      .enum(['warning', 'blocking'])
      .describe('blocking refuses the governed actions on an asset that would not satisfy it; warning reports it'),
    actions: z
      .array(z.enum(governedActions))
      .max(governedActions.length)
      .default([])
      .describe('The actions a blocking rule refuses (default: all)'),
  })
  .strict();
export type PolicyRule = z.infer<typeof policyRuleSchema>;

/** What rule evaluation reads about an asset; loaded by policies.ts in the caller's transaction. */
export interface AssetFacts {
  id: string;
  urn: string;
  qualifiedName: string;
  kind: string;
  domain: string | null;
  tags: string[];
  classification: Classification;
  owner: string | null;
  description: string | null;
  /** Labels of certifications in force (approved, not expired). */
  certifications: string[];
  columnSensitivities: string[];
  /** Whether an authorised or interim ATO is in force. */
  atoCurrent: boolean;
  openControls: number;
}

export function conditionHolds(condition: PolicyRule['when'], facts: AssetFacts): boolean {
  const c = condition;
  if (c.classificationAtLeast && !clearanceAllows(facts.classification, c.classificationAtLeast)) return false;
  if (c.tag !== undefined && !facts.tags.includes(c.tag)) return false;
  if (c.domain !== undefined && facts.domain !== c.domain) return false;
  if (c.kind !== undefined && facts.kind !== c.kind) return false;
  if (c.hasOwner !== undefined && (facts.owner !== null) !== c.hasOwner) return false;
  if (c.certified !== undefined && facts.certifications.length > 0 !== c.certified) return false;
  if (c.columnSensitivity !== undefined && !facts.columnSensitivities.includes(c.columnSensitivity)) return false;
  return true;
}

export function requirementMet(requirement: Requirement, facts: AssetFacts): boolean {
  switch (requirement.type) {
    case 'has_owner':
      return facts.owner !== null && facts.owner.trim() !== '';
    case 'description':
      return facts.description !== null && facts.description.trim() !== '';
    case 'certified':
      return requirement.label ? facts.certifications.includes(requirement.label) : facts.certifications.length > 0;
    case 'tag':
      return facts.tags.some((t) => t === requirement.tag || t.startsWith(`${requirement.tag}:`));
    case 'classification_at_least':
      return clearanceAllows(facts.classification, requirement.level);
    case 'ato_current':
      return facts.atoCurrent;
    case 'controls_closed':
      return facts.openControls === 0;
  }
}

/** The requirement in words, as policy lists, compliance reports and refusals show it. */
export function describeRequirement(requirement: Requirement): string {
  switch (requirement.type) {
    case 'has_owner':
      return 'has an owner';
    case 'description':
      return 'has a description';
    case 'certified':
      return requirement.label ? `certified "${requirement.label}"` : 'certified';
    case 'tag':
      return `tagged ${requirement.tag} (or ${requirement.tag}:<value>)`;
    case 'classification_at_least':
      return `classified at least ${requirement.level}`;
    case 'ato_current':
      return 'an ATO or IATO in force';
    case 'controls_closed':
      return 'no open STIG control';
  }
}

function describeCondition(condition: PolicyRule['when']): string {
  const c = condition;
  const parts = [
    c.classificationAtLeast ? `classified at least ${c.classificationAtLeast}` : '',
    c.tag ? `tagged ${c.tag}` : '',
    c.domain ? `in domain ${c.domain}` : '',
    c.kind ? `of kind ${c.kind}` : '',
    c.hasOwner !== undefined ? (c.hasOwner ? 'with an owner' : 'without an owner') : '',
    c.certified !== undefined ? (c.certified ? 'certified' : 'not certified') : '',
    c.columnSensitivity ? `with ${c.columnSensitivity} columns` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'every governed asset';
}

export function describeRule(rule: PolicyRule): string {
  const actions = rule.actions.length > 0 ? rule.actions.join(', ') : 'every governed action';
  return `${describeCondition(rule.when)}: ${describeRequirement(rule.require)} (${rule.enforcement}${rule.enforcement === 'blocking' ? ` on ${actions}` : ''})`;
}

export function ruleGoverns(rule: PolicyRule, action: GovernedAction): boolean {
  return rule.actions.length === 0 || rule.actions.includes(action);
}

export interface PolicyForEvaluation {
  name: string;
  authority: string | null;
  rules: PolicyRule[];
}

export interface UnmetRequirement {
  policy: string;
  authority: string | null;
  requirement: string;
  enforcement: 'warning' | 'blocking';
  actions: GovernedAction[];
}

/** Every rule of the given policies that applies to the asset and is not satisfied. */
export function unmetRequirements(facts: AssetFacts, policies: PolicyForEvaluation[]): UnmetRequirement[] {
  return policies.flatMap((p) =>
    p.rules
      .filter((r) => conditionHolds(r.when, facts) && !requirementMet(r.require, facts))
      .map((r) => ({
        policy: p.name,
        authority: p.authority,
        requirement: describeRequirement(r.require),
        enforcement: r.enforcement,
        actions: r.actions.length > 0 ? r.actions : [...governedActions],
      })),
  );
}

/** How a governed write reports the warning rules it did not meet (it went through). */
export const policyWarningsOutput = z
  .array(z.object({ asset: z.string(), policy: z.string(), authority: z.string().nullable(), requirement: z.string() }))
  .describe('Warning policies the change leaves unmet: it went through, but the asset is not compliant');
export type PolicyWarning = z.infer<typeof policyWarningsOutput>[number];

/** A warning in words, for tool renderings. */
export function describeWarning(w: PolicyWarning): string {
  return `warning: policy "${w.policy}"${w.authority ? ` (${w.authority})` : ''} expects ${w.requirement}`;
}

export type ComplianceStatus = 'compliant' | 'warning' | 'non_compliant' | 'not_governed';

export function complianceStatus(policyCount: number, unmet: UnmetRequirement[]): ComplianceStatus {
  if (policyCount === 0) return 'not_governed';
  if (unmet.some((u) => u.enforcement === 'blocking')) return 'non_compliant';
  return unmet.length > 0 ? 'warning' : 'compliant';
}

/** Rules as stored: written only through `policyRuleSchema`, so parsing fills the defaults and types them. */
export function parseStoredRules(rules: unknown): PolicyRule[] {
  return z.array(policyRuleSchema).parse(rules);
}
