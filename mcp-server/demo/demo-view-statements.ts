import { asOf, commentStatements, fiscalYear } from './deterministic-sql.js';

// Views use the demo's fixed as-of date instead of current_date so their output never changes.
const views: [name: string, kind: 'VIEW' | 'MATERIALIZED VIEW', sql: string][] = [
  [
    'contracts.vendor_spend_by_fy',
    'VIEW',
    `WITH obligated AS (
       SELECT c.vendor_id, o.fiscal_year, sum(o.amount) AS obligated_usd, count(DISTINCT o.contract_id) AS contracts_funded
       FROM contracts.obligations o JOIN contracts.contracts c ON c.contract_id = o.contract_id
       GROUP BY c.vendor_id, o.fiscal_year),
     paid AS (
       SELECT c.vendor_id, ${fiscalYear('p.paid_on')} AS fiscal_year, sum(p.amount) AS paid_usd
       FROM contracts.payments p JOIN contracts.contracts c ON c.contract_id = p.contract_id
       WHERE p.status = 'Paid' GROUP BY 1, 2)
     SELECT vendor_id, v.legal_name, v.business_size, fiscal_year, coalesce(ob.obligated_usd, 0) AS obligated_usd,
       coalesce(pd.paid_usd, 0) AS paid_usd, coalesce(ob.contracts_funded, 0) AS contracts_funded
     FROM obligated ob FULL JOIN paid pd USING (vendor_id, fiscal_year) JOIN contracts.vendors v USING (vendor_id)`,
  ],
  [
    'contracts.contract_burn_rate',
    'VIEW',
    `SELECT c.contract_id, c.piid, c.vendor_id, c.status, c.ceiling_value, coalesce(o.obligated, 0) AS obligated_usd,
       coalesce(p.paid, 0) AS paid_usd, round(100 * coalesce(o.obligated, 0) / nullif(c.ceiling_value, 0), 1) AS pct_ceiling_obligated,
       round(100 * coalesce(p.paid, 0) / nullif(o.obligated, 0), 1) AS pct_obligated_spent,
       round(100.0 * greatest(0, least(${asOf}, c.period_of_performance_end) - c.period_of_performance_start)
         / nullif(c.period_of_performance_end - c.period_of_performance_start, 0), 1) AS pct_time_elapsed,
       round(coalesce(p.paid, 0) / greatest(1, (least(${asOf}, c.period_of_performance_end) - c.period_of_performance_start) / 30.4), 2) AS monthly_burn_usd
     FROM contracts.contracts c
     LEFT JOIN (SELECT contract_id, sum(amount) AS obligated FROM contracts.obligations GROUP BY contract_id) o USING (contract_id)
     LEFT JOIN (SELECT contract_id, sum(amount) AS paid FROM contracts.payments WHERE status = 'Paid' GROUP BY contract_id) p USING (contract_id)`,
  ],
  [
    'performance.vendor_scorecard',
    'MATERIALIZED VIEW',
    `WITH ev AS (
       SELECT c.vendor_id, count(*) AS evaluations,
         round(avg(array_position(enum_range(NULL::performance.rating), e.quality)), 2) AS avg_quality_score,
         round(avg(array_position(enum_range(NULL::performance.rating), e.schedule)), 2) AS avg_schedule_score,
         round(100.0 * avg(e.recommended::int), 1) AS pct_recommended, max(e.signed_on) AS last_signed_on
       FROM performance.evaluations e JOIN contracts.contracts c USING (contract_id) GROUP BY c.vendor_id),
     cars AS (
       SELECT c.vendor_id, count(*) FILTER (WHERE car.status <> 'Closed') AS open_cars
       FROM performance.corrective_action_requests car JOIN contracts.contracts c USING (contract_id) GROUP BY c.vendor_id),
     spend AS (SELECT vendor_id, sum(obligated_usd) AS obligated_usd FROM contracts.vendor_spend_by_fy GROUP BY vendor_id)
     SELECT v.vendor_id, v.legal_name, v.business_size, coalesce(ev.evaluations, 0) AS evaluations, ev.avg_quality_score,
       ev.avg_schedule_score, ev.pct_recommended, ev.last_signed_on, coalesce(cars.open_cars, 0) AS open_cars,
       coalesce(spend.obligated_usd, 0) AS lifetime_obligated_usd,
       CASE WHEN ev.vendor_id IS NULL THEN 'Not rated' WHEN ev.avg_quality_score >= 4 AND coalesce(cars.open_cars, 0) = 0 THEN 'Preferred'
         WHEN ev.avg_quality_score < 2.5 OR cars.open_cars > 2 THEN 'Watch' ELSE 'Standard' END AS tier
     FROM contracts.vendors v LEFT JOIN ev USING (vendor_id) LEFT JOIN cars USING (vendor_id) LEFT JOIN spend USING (vendor_id)`,
  ],
  [
    'performance.sensitive_program_performance',
    'VIEW',
    `SELECT pr.program_id, pr.program_name, c.contract_id, c.piid, v.legal_name AS vendor, e.evaluation_id, e.period_end,
       e.quality, e.schedule, e.cost_control, e.management, e.recommended
     FROM performance.evaluations e JOIN contracts.contracts c ON c.contract_id = e.contract_id
     JOIN contracts.programs pr ON pr.program_id = c.program_id JOIN contracts.vendors v ON v.vendor_id = c.vendor_id
     WHERE pr.is_special_access`,
  ],
  [
    'personnel.roster',
    'VIEW',
    `SELECT p.person_id, p.category, p.pay_grade, p.status, u.uic, u.unit_name, u.service, a.position_title,
       a.start_date AS assigned_since
     FROM personnel.people p JOIN personnel.units u ON u.unit_id = p.unit_id
     LEFT JOIN personnel.assignments a ON a.person_id = p.person_id AND a.end_date IS NULL
     WHERE p.status <> 'Separated'`,
  ],
  [
    'personnel.reinvestigations_due',
    'VIEW',
    `SELECT c.person_id, p.last_name, p.first_name, p.unit_id, c.level, c.investigation_type, c.reinvestigation_due,
       c.reinvestigation_due - ${asOf} AS days_until_due
     FROM personnel.clearances c JOIN personnel.people p ON p.person_id = c.person_id
     WHERE c.status IN ('Active', 'Interim') AND NOT c.continuous_vetting AND c.reinvestigation_due <= ${asOf} + 365`,
  ],
  [
    'logistics.open_shipments',
    'VIEW',
    `SELECT s.shipment_id, s.tcn, s.status, s.transport_mode, s.carrier, o.depot_name AS origin_depot,
       coalesce(u.unit_name, dd.depot_name) AS destination, r.document_number, r.priority_designator, s.shipped_on,
       s.expected_delivery_on, ${asOf} - s.shipped_on AS days_in_transit, ${asOf} > s.expected_delivery_on AS is_overdue
     FROM logistics.shipments s JOIN logistics.depots o ON o.depot_id = s.origin_depot_id
     LEFT JOIN personnel.units u ON u.unit_id = s.destination_unit_id
     LEFT JOIN logistics.depots dd ON dd.depot_id = s.destination_depot_id
     LEFT JOIN logistics.requisitions r ON r.requisition_id = s.requisition_id
     WHERE s.delivered_on IS NULL AND s.status <> 'Lost'`,
  ],
  [
    'logistics.depot_stock_value',
    'MATERIALIZED VIEW',
    `SELECT d.depot_id, d.depot_name, count(*) AS stocked_items, sum(i.on_hand_qty) AS units_on_hand,
       sum(i.on_hand_qty * p.unit_price) AS stock_value_usd,
       count(*) FILTER (WHERE i.on_hand_qty - i.reserved_qty < i.reorder_point) AS items_below_reorder_point,
       count(*) FILTER (WHERE i.on_hand_qty = 0) AS stockouts
     FROM logistics.inventory i JOIN logistics.depots d ON d.depot_id = i.depot_id JOIN logistics.parts p ON p.nsn = i.nsn
     WHERE i.condition_code IN ('A', 'B', 'C')
     GROUP BY d.depot_id, d.depot_name`,
  ],
];

const descriptions: Record<string, string> = {
  'contracts.vendor_spend_by_fy':
    'Obligations and payments per vendor per federal fiscal year. The certified source for spend questions.',
  'contracts.contract_burn_rate':
    'Per contract: share of ceiling obligated, share of obligations paid, share of the period of performance elapsed (as of 2026-06-30) and average monthly spend.',
  'performance.vendor_scorecard':
    'Vendor past-performance scorecard: average CPARS scores (1 Unsatisfactory to 5 Exceptional), open CARs and lifetime obligations. Refreshed nightly.',
  'personnel.roster':
    'Current personnel roster without PII (no names, SSN, DoD ID, birth dates or addresses). Safe for broad reporting.',
  'personnel.reinvestigations_due':
    'Cleared people not in continuous vetting whose periodic reinvestigation is overdue or due within a year of 2026-06-30.',
  'logistics.open_shipments':
    'Shipments not yet delivered (and not lost), with days in transit as of 2026-06-30. Feeds the in-transit visibility dashboard.',
  'logistics.depot_stock_value': 'Serviceable stock per depot: items, units, value and items below reorder point.',
};

/** Views and materialized views over the demo tables, with their descriptions (one is left undescribed). */
export function demoViewStatements(): string[] {
  return views.flatMap(([name, kind, sql]) => [
    `CREATE ${kind} ${name} AS ${sql}`,
    ...commentStatements(name, descriptions[name] ?? null, {}, kind),
  ]);
}
