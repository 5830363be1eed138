import { commentStatements } from './deterministic-sql.js';

/** Descriptions of the performance schema. vendor_responses was never documented. */
export function performanceComments(): string[] {
  return [
    `COMMENT ON TYPE performance.rating IS 'CPARS adjectival rating, ordered from Unsatisfactory to Exceptional.'`,
    ...commentStatements(
      'performance.evaluations',
      'Contractor performance evaluations (CPARS-style), one per contract per period of performance. Source selection information: share only with acquisition staff.',
      {
        evaluation_type: 'Interim (annual) or Final (end of performance).',
        quality: 'Quality of product or service.',
        cost_control: 'NULL when not applicable (firm-fixed-price contracts).',
        small_business:
          'Small business subcontracting; NULL when the contract has no subcontracting plan (under $750K).',
        recommended: 'Assessing official would recommend the contractor for similar requirements.',
        assessing_official_id: 'Government official who wrote the evaluation (personnel.people).',
        signed_on: 'Date the reviewing official signed; NULL until the evaluation is completed.',
        narrative: 'Free-text assessment. Can contain proprietary information.',
      },
    ),
    ...commentStatements(
      'performance.corrective_action_requests',
      'Corrective action requests (CARs) issued to contractors for nonconformances. Level 1 minor to level 4 severe.',
      { car_number: 'CAR number, CAR-<year>-<serial>.', closed_on: 'NULL while the CAR is open or overdue.' },
    ),
    ...commentStatements(
      'performance.sap_program_reviews',
      'Semi-annual performance and security reviews of contracts on special access programs. TOP SECRET when populated with real data.',
      { security_incidents: 'Reportable security incidents in the review period.' },
    ),
  ];
}
