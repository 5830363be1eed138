import { asOf, foreignKey, hashInt as h, keys, list, pick } from './deterministic-sql.js';

// Free text, chosen by rating so narratives agree with the scores next to them.
const narratives = {
  good: list(`
    The contractor consistently delivered ahead of schedule and flagged a supplier obsolescence risk early;
    Deliverables were complete and accurate on first submission, and every CDRL was accepted without rework;
    Strong management of subcontractors; key personnel stayed in place for the whole period;
    Exceeded the acceptable quality level on every lot tested, with zero critical defects reported`),
  fair: list(`
    Performance met contractual requirements. Minor delays on two CDRLs were recovered within the period;
    The contractor met requirements; communication with the program office improved after the second quarter;
    Costs tracked to the baseline with small, explained variances. No significant issues`),
  poor: list(`
    Repeated late deliveries caused a 45-day slip to the fielding schedule. A corrective action request was issued;
    First-article test failures required two resubmissions, and quality escapes reached the field;
    Key personnel turnover exceeded 40 percent and staffing gaps hurt help desk response times;
    Cost overrun of 18 percent against the baseline without timely notice under the limitation of cost clause`),
  concur: list(
    'The contractor concurs with the assessment; We concur and thank the program office for its partnership',
  ),
  dissent: list(`
    The contractor does not concur. Schedule delays resulted from late government-furnished equipment;
    We disagree with the quality rating. The escapes were traced to a government-directed design change;
    The contractor does not concur and requests review one level above the contracting officer`),
  review: list(
    'Reviewed at the next level, rating stands; Rating revised after review of GFE delivery records; Comments noted, no change',
  ),
  findings: list(`
    Nonconforming material shipped without an approved waiver;
    DFARS 252.204-7012 cybersecurity requirements not flowed down to subcontractors;
    Late delivery of CDRL A003, monthly status report; Calibration records for test equipment incomplete;
    Counterfeit electronic part detection procedure not followed`),
  sap: list(`
    Program on track, no security incidents this period; Minor schedule slip recovered, security posture satisfactory;
    Cost and schedule within thresholds, no findings`),
};
const ratings = ['Unsatisfactory', 'Marginal', 'Satisfactory', 'Very Good', 'Exceptional'];
const ratingArray = `ARRAY[${ratings.map((r) => `'${r}'::performance.rating`).join(', ')}]`;
/** A rating for evaluation `n`, centred on the vendor's tier `adj` so a vendor's ratings agree with each other. */
const rating = (n: string, salt: number, adj = 'p.adj') =>
  `(${ratingArray})[greatest(1, least(5, 3 + ${adj} + (ARRAY[-1, 0, 0, 0, 1, 1])[1 + ${h(n, salt, 6)}]))]`;

/** The performance schema: CPARS-like evaluations, contractor responses, corrective actions and SAP reviews. */
export function performanceStatements(): string[] {
  return [
    `CREATE TYPE performance.rating AS ENUM (${ratings.map((r) => `'${r}'`).join(', ')})`,
    `CREATE TABLE performance.evaluations (
      evaluation_id integer NOT NULL, contract_id integer NOT NULL, evaluation_type text NOT NULL,
      period_start date NOT NULL, period_end date NOT NULL, quality performance.rating NOT NULL,
      schedule performance.rating NOT NULL, cost_control performance.rating, management performance.rating NOT NULL,
      small_business performance.rating, regulatory_compliance performance.rating NOT NULL,
      recommended boolean NOT NULL, assessing_official_id integer NOT NULL, status text NOT NULL, signed_on date,
      narrative text NOT NULL)`,
    // One evaluation per contract year above the $250K reporting threshold, once the year has ended.
    `INSERT INTO performance.evaluations
     SELECT row_number() OVER (ORDER BY c.contract_id, k), c.contract_id,
       CASE WHEN p.pe = c.period_of_performance_end THEN 'Final' ELSE 'Interim' END, p.ps, p.pe,
       r.quality, r.schedule, CASE WHEN c.contract_type <> 'FFP' THEN r.cost END, r.management,
       CASE WHEN c.ceiling_value >= 750000 THEN r.small END, r.regulatory,
       r.quality >= 'Satisfactory' AND r.schedule >= 'Satisfactory', 10 * (1 + ${h('p.n', 80, 600)}),
       CASE WHEN p.pe + 120 <= ${asOf} THEN 'Completed' WHEN p.pe + 60 <= ${asOf} THEN 'Sent to Contractor' ELSE 'Draft' END,
       CASE WHEN p.pe + 120 <= ${asOf} THEN p.pe + 60 + ${h('p.n', 81, 60)} END,
       CASE WHEN r.quality >= 'Very Good' THEN ${pick(narratives.good, 'p.n', 82)} WHEN r.quality = 'Satisfactory'
         THEN ${pick(narratives.fair, 'p.n', 82)} ELSE ${pick(narratives.poor, 'p.n', 82)} END || '.'
     FROM contracts.contracts c CROSS JOIN generate_series(1, 4) k
     CROSS JOIN LATERAL (SELECT c.contract_id * 4 + k AS n, c.period_of_performance_start + 365 * (k - 1) AS ps,
       least(c.period_of_performance_start + 365 * k - 1, c.period_of_performance_end) AS pe,
       CASE WHEN (c.vendor_id * 37) % 10 = 0 THEN -1 WHEN (c.vendor_id * 37) % 10 <= 2 THEN 0 ELSE 1 END AS adj) p
     CROSS JOIN LATERAL (SELECT ${rating('p.n', 83)} AS quality, ${rating('p.n', 84)} AS schedule,
       ${rating('p.n', 85)} AS cost, ${rating('p.n', 86)} AS management, ${rating('p.n', 87)} AS small,
       ${rating('p.n', 88)} AS regulatory) r
     WHERE p.ps < c.period_of_performance_end AND p.pe <= ${asOf} AND c.ceiling_value >= 250000`,
    `CREATE TABLE performance.vendor_responses (
      response_id integer NOT NULL, evaluation_id integer NOT NULL, submitted_on date NOT NULL,
      concurs boolean NOT NULL, response_text text NOT NULL, reviewing_official_comment text)`,
    `INSERT INTO performance.vendor_responses
     SELECT row_number() OVER (ORDER BY e.evaluation_id), e.evaluation_id,
       e.period_end + 60 + ${h('e.evaluation_id', 90, 14)}, v.concurs,
       CASE WHEN v.concurs THEN ${pick(narratives.concur, 'e.evaluation_id', 91)}
         ELSE ${pick(narratives.dissent, 'e.evaluation_id', 91)} END || '.',
       CASE WHEN NOT v.concurs THEN ${pick(narratives.review, 'e.evaluation_id', 92)} || '.' END
     FROM performance.evaluations e CROSS JOIN LATERAL (SELECT e.quality >= 'Satisfactory' AS concurs) v
     WHERE e.status <> 'Draft' AND (e.evaluation_id % 6 = 0 OR e.quality < 'Satisfactory')`,
    `CREATE TABLE performance.corrective_action_requests (
      car_id integer NOT NULL, car_number text NOT NULL, contract_id integer NOT NULL, evaluation_id integer,
      car_level smallint NOT NULL CHECK (car_level BETWEEN 1 AND 4), issued_on date NOT NULL,
      response_due_on date NOT NULL, closed_on date, finding text NOT NULL, status text NOT NULL)`,
    `INSERT INTO performance.corrective_action_requests
     SELECT 700 + e.rn, 'CAR-' || to_char(d.issued, 'YYYY') || '-' || lpad(e.rn::text, 4, '0'), e.contract_id,
       e.evaluation_id, CASE WHEN e.quality = 'Unsatisfactory' THEN 3 WHEN e.evaluation_id % 9 = 0 THEN 1 ELSE 2 END,
       d.issued, d.issued + 30, CASE WHEN d.closed <= ${asOf} THEN d.closed END,
       ${pick(narratives.findings, 'e.evaluation_id', 93)} || '.',
       CASE WHEN d.closed <= ${asOf} THEN 'Closed' WHEN d.issued + 30 < ${asOf} THEN 'Overdue' ELSE 'Open' END
     FROM (SELECT ev.*, row_number() OVER (ORDER BY evaluation_id) AS rn FROM performance.evaluations ev
           WHERE ev.quality <= 'Marginal') e
     CROSS JOIN LATERAL (SELECT e.period_end - ${h('e.evaluation_id', 94, 90)} AS issued,
       e.period_end - ${h('e.evaluation_id', 94, 90)} + 20 + ${h('e.evaluation_id', 95, 70)} AS closed) d`,
    `CREATE TABLE performance.sap_program_reviews (
      review_id integer NOT NULL, program_id integer NOT NULL, contract_id integer NOT NULL, review_date date NOT NULL,
      overall_rating performance.rating NOT NULL, security_incidents smallint NOT NULL,
      schedule_variance_days integer NOT NULL, cost_variance_pct numeric(5,2) NOT NULL, reviewer_id integer NOT NULL,
      summary text NOT NULL)`,
    // Semi-annual reviews of every contract on a special access program, up to two years in.
    `INSERT INTO performance.sap_program_reviews
     SELECT row_number() OVER (ORDER BY c.contract_id, k), c.program_id, c.contract_id, c.award_date + 182 * k,
       r.rating, r.incidents, r.shortfall * 12 + ${h('r.n', 99, 20)} - 10,
       (r.shortfall * 30 + ${h('r.n', 100, 60)} - 30) / 10.0,
       10 * (1 + ${h('c.program_id', 101, 600)}),
       CASE WHEN r.incidents > 0 THEN 'Reportable security incidents this period; corrective actions in place.'
         ELSE ${pick(narratives.sap, 'r.n', 102)} || '.' END
     FROM contracts.contracts c JOIN contracts.programs pr USING (program_id) CROSS JOIN generate_series(1, 4) k
     CROSS JOIN LATERAL (SELECT c.contract_id * 8 + k AS n) n
     CROSS JOIN LATERAL (SELECT n.n, ${rating('n.n', 96, '1')} AS rating,
       CASE WHEN ${h('n.n', 97, 12)} = 0 THEN 1 + ${h('n.n', 98, 3)} ELSE 0 END AS incidents) r0
     CROSS JOIN LATERAL (SELECT r0.*, 4 - array_position(${ratingArray}, r0.rating) AS shortfall) r
     WHERE pr.is_special_access AND c.award_date + 182 * k <= ${asOf}`,
  ];
}

/** Keys and foreign keys of the performance schema (into contracts and personnel), added once every schema is filled. */
export function performanceConstraints(): string[] {
  return [
    keys('performance.evaluations', 'evaluation_id'),
    keys('performance.vendor_responses', 'response_id'),
    keys('performance.corrective_action_requests', 'car_id', 'car_number'),
    keys('performance.sap_program_reviews', 'review_id'),
    foreignKey('performance.evaluations', 'contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('performance.evaluations', 'assessing_official_id', 'personnel.people (person_id)'),
    foreignKey('performance.vendor_responses', 'evaluation_id', 'performance.evaluations (evaluation_id)'),
    foreignKey('performance.corrective_action_requests', 'contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('performance.corrective_action_requests', 'evaluation_id', 'performance.evaluations (evaluation_id)'),
    foreignKey('performance.sap_program_reviews', 'program_id', 'contracts.programs (program_id)'),
    foreignKey('performance.sap_program_reviews', 'contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('performance.sap_program_reviews', 'reviewer_id', 'personnel.people (person_id)'),
  ];
}
