import { z } from 'zod';
import { urnInput } from '../catalog/schemas.js';
import { defineTool, readOnly } from '../tool.js';
import { buildAuditReport } from './audit-report.js';
import { renderAuditReportMarkdown } from './audit-report-markdown.js';

export const governanceAuditReport = defineTool({
  name: 'governance_audit_report',
  title: 'Audit report of an asset or a domain',
  description:
    'The audit report an assessor asks for, as Markdown, for one asset (urn) or a whole domain: markings and their ' +
    'history, lineage, policies and compliance, certifications, access grants and the audit trail. Steward or admin.',
  input: z
    .object({
      urn: urnInput.optional(),
      domain: z.string().min(1).max(100).optional().describe('A domain id'),
    })
    .strict()
    .refine((i) => (i.urn === undefined) !== (i.domain === undefined), {
      message: 'give exactly one of urn or domain',
    }),
  output: z.object({
    title: z.string(),
    scope: z.object({ kind: z.enum(['asset', 'domain']), id: z.string(), name: z.string() }),
    summary: z.object({
      assets: z.number(),
      compliant: z.number(),
      warning: z.number(),
      nonCompliant: z.number(),
      notGoverned: z.number(),
      certified: z.number(),
      activeGrants: z.number(),
      openControls: z.number(),
    }),
    markdown: z.string().describe('The whole report'),
  }),
  annotations: readOnly,
  handler: async ({ urn, domain }, ctx) => {
    const report = await buildAuditReport(ctx, urn !== undefined ? { urn } : { domain: domain! });
    return {
      title: report.title,
      scope: report.scope,
      summary: report.summary,
      markdown: renderAuditReportMarkdown(report, { fenceData: true }),
    };
  },
  render: (r) => r.markdown,
});

export const auditReportTools = [governanceAuditReport];
