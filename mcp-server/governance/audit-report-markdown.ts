import { fenceUntrusted } from '../tool.js';
import type { AuditReport, AuditReportAsset } from './audit-report.js';

/** Text from the catalog inside a table cell: one line, pipes escaped, so it cannot break the table. */
function cell(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return value.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function day(value: string | null): string {
  return value ? value.slice(0, 10) : '—';
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['None.'];
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const statusWords = {
  compliant: 'Compliant',
  warning: 'Compliant with warnings',
  non_compliant: 'NOT compliant',
  not_governed: 'No policy applies',
} as const;

/**
 * The report as an assessor reads it: a summary, the policies, then one section per asset. `fenceData` marks
 * text that came from the data (descriptions, reasons, evidence) for a model reading it, as other tools do.
 */
export function renderAuditReportMarkdown(report: AuditReport, options: { fenceData?: boolean } = {}): string {
  const s = report.summary;
  const lines = [
    `# ${report.title}`,
    '',
    `- Scope: ${report.scope.kind} ${report.scope.kind === 'domain' ? `${report.scope.name} (${report.scope.id})` : report.scope.id}`,
    `- Generated: ${report.generatedAt} by ${report.generatedBy.displayName} (${report.generatedBy.id}), cleared ${report.generatedBy.clearance}; ` +
      'assets and entries above that clearance or outside its need-to-know are not included',
    '',
    '## Summary',
    '',
    ...table(
      [
        'Assets',
        'Compliant',
        'With warnings',
        'Not compliant',
        'Not governed',
        'Certified',
        'Access grants',
        'Open STIG controls',
      ],
      [
        [
          s.assets,
          s.compliant,
          s.warning,
          s.nonCompliant,
          s.notGoverned,
          s.certified,
          s.activeGrants,
          s.openControls,
        ].map(String),
      ],
    ),
    '',
    '## Policies',
    '',
  ];
  if (report.policies.length === 0) lines.push('No policy governs these assets.', '');
  for (const p of report.policies) {
    lines.push(`### ${p.name}`, '', `- Kind: ${p.kind}`, `- Authority: ${p.authority ?? '—'}`);
    for (const r of p.rules) lines.push(`- Rule: ${r}`);
    lines.push('');
  }
  const data = (value: string | null) => (options.fenceData && value ? fenceUntrusted(cell(value)) : cell(value));
  for (const asset of report.assets) lines.push(...assetSection(asset, data));
  return `${lines.join('\n').trimEnd()}\n`;
}

function assetSection(a: AuditReportAsset, data: (value: string | null) => string): string[] {
  const c = a.compliance;
  const lines = [
    `## ${a.qualifiedName}`,
    '',
    `- URN: \`${a.urn}\``,
    `- Kind: ${a.kind}; domain: ${a.domain ?? '—'}; owner: ${a.owner ?? '—'}; tags: ${a.tags.join(', ') || '—'}`,
    `- Description: ${data(a.description)}`,
    '',
    '### Classification',
    '',
    `Marking: **${a.classification.marking}**`,
    '',
    ...table(
      ['Column', 'Sensitivity', 'Marking'],
      a.classification.sensitiveColumns.map((k) => [cell(k.name), cell(k.sensitivity), cell(k.classification)]),
    ),
    '',
    'History:',
    '',
    ...table(
      ['When', 'Column', 'From', 'To', 'Reason', 'By'],
      a.classification.history.map((h) => [
        day(h.at),
        cell(h.column),
        cell(h.from),
        h.to,
        data(h.reason),
        cell(h.actor),
      ]),
    ),
    '',
    '### Lineage',
    '',
    `Upstream (within 3 hops): ${neighbours(a.lineage.upstream)}`,
    '',
    `Downstream (within 3 hops): ${neighbours(a.lineage.downstream)}`,
    ...(a.lineage.truncated ? ['', '(lineage cut short: more assets than one report lists)'] : []),
    '',
    '### Policies and compliance',
    '',
    `Status: **${statusWords[c.status]}**${c.policies.length > 0 ? ` (policies: ${c.policies.join(', ')})` : ''}`,
    '',
    ...(c.unmet.length > 0
      ? table(
          ['Unmet requirement', 'Policy', 'Authority', 'Enforcement'],
          c.unmet.map((u) => [u.requirement, cell(u.policy), cell(u.authority), u.enforcement]),
        )
      : [c.policies.length > 0 ? 'Every requirement that applies is met.' : 'No policy governs this asset.']),
    '',
    c.ato
      ? `ATO: ${c.ato.status}${c.ato.inForce ? ' (in force)' : ' (NOT in force)'}, authorising official ${cell(c.ato.authorizingOfficial)}, granted ${day(c.ato.grantedAt)}, expires ${day(c.ato.expiresAt)}`
      : 'ATO: none recorded',
    '',
    `STIG controls: ${c.controls.open} open, ${c.controls.notAFinding} not a finding, ${c.controls.notApplicable} not applicable`,
    '',
    ...(c.controls.items.length > 0
      ? table(
          ['Control', 'Benchmark', 'Status', 'Evidence', 'Updated'],
          c.controls.items.map((k) => [
            cell(k.controlId),
            cell(k.benchmark),
            k.status,
            data(k.evidence),
            day(k.updatedAt),
          ]),
        ).concat([''])
      : []),
    'Governing documents:',
    '',
    ...table(
      ['Title', 'Kind', 'Reference'],
      c.documents.map((d) => [data(d.title), cell(d.kind), data(d.reference)]),
    ),
    '',
    '### Certifications',
    '',
    ...table(
      ['Label', 'Status', 'Requested by', 'Reviewed by', 'Reviewed', 'Expires', 'Note'],
      a.certifications.map((k) => [
        cell(k.label),
        k.status,
        cell(k.requestedBy),
        cell(k.reviewedBy),
        day(k.reviewedAt),
        day(k.expiresAt),
        data(k.reviewNote),
      ]),
    ),
    '',
    '### Access grants in force',
    '',
    ...table(
      ['Principal', 'Purpose', 'Approved by', 'Approved', 'Expires'],
      a.accessGrants.map((g) => [
        cell(g.principal),
        data(g.purpose),
        cell(g.approvedBy),
        day(g.approvedAt),
        day(g.expiresAt),
      ]),
    ),
    '',
    `### Audit trail (${a.auditTrail.entries.length < a.auditTrail.total ? `newest ${a.auditTrail.entries.length} of ${a.auditTrail.total}` : a.auditTrail.total} entries)`,
    '',
    ...table(
      ['#', 'When', 'Who', 'Action', 'Details'],
      a.auditTrail.entries.map((e) => [
        String(e.seq),
        e.at,
        cell(e.actor),
        cell(e.action),
        data(auditDetails(e.details)),
      ]),
    ),
    '',
  ];
  return lines;
}

function neighbours(list: AuditReportAsset['lineage']['upstream']): string {
  if (list.length === 0) return 'none';
  return list
    .map((n) => `${n.qualifiedName} (${n.classification}, ${n.hops} hop${n.hops === 1 ? '' : 's'})`)
    .join('; ');
}

/** Audit details in one short line: the outcome of a tool call, or the changed fields. */
function auditDetails(details: Record<string, unknown>): string {
  const text = Object.entries(details)
    .filter(([key]) => key !== 'argsDigest')
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
  return text.length > 200 ? `${text.slice(0, 197)}…` : text;
}
