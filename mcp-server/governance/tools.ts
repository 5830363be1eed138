import { accessRequestTools } from './access-request-tools.js';
import { auditReportTools } from './audit-report-tools.js';
import { certificationTools } from './certification-tools.js';
import { classificationTools } from './classification-tools.js';
import { policyTools } from './policy-tools.js';
import { principalTools } from './principal-tools.js';

/** Every governance tool: access requests, policies, certification, classification, principals, the audit report. */
export const governanceTools = [
  ...accessRequestTools,
  ...policyTools,
  ...certificationTools,
  ...auditReportTools,
  ...principalTools,
  ...classificationTools,
];
