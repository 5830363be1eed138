import type { Classification } from '../../db/schema/types.js';
import type { DemoDomainId } from './demo-domains.js';

/** Why a column needs care beyond its classification. */
export type Sensitivity = 'pii' | 'financial' | 'proprietary' | 'opsec';

export interface DemoColumnAnnotation {
  sensitivity?: Sensitivity;
  /** Set when the column is marked higher than its table. */
  classification?: Classification;
}

/** Catalog metadata that Postgres does not hold: domain, owner, tags and markings. */
export interface DemoAnnotation {
  domain: DemoDomainId;
  /** A principal id from demoPrincipals. */
  owner: string;
  tags: string[];
  classification: Classification;
  columns?: Record<string, DemoColumnAnnotation>;
}

const pii: DemoColumnAnnotation = { sensitivity: 'pii' };
const financial: DemoColumnAnnotation = { sensitivity: 'financial' };
const proprietary: DemoColumnAnnotation = { sensitivity: 'proprietary' };
const unitMovements: DemoColumnAnnotation = { sensitivity: 'opsec', classification: 'C' };

/** Annotations for every table and view of the demo database, keyed by `schema.table`. */
export const demoAnnotations: Record<string, DemoAnnotation> = {
  'contracts.programs': {
    domain: 'contracts',
    owner: 'j.alvarez',
    tags: ['acquisition', 'programs', 'reference-data'],
    classification: 'U',
    columns: { is_special_access: { classification: 'S' } },
  },
  'contracts.vendors': {
    domain: 'contracts',
    owner: 'm.okafor',
    tags: ['vendors', 'sam-gov', 'master-data'],
    classification: 'U',
  },
  'contracts.contracts': {
    domain: 'contracts',
    owner: 'j.alvarez',
    tags: ['contracts', 'awards', 'fpds', 'authoritative'],
    classification: 'U',
    columns: { ceiling_value: financial },
  },
  'contracts.contract_line_items': {
    domain: 'contracts',
    owner: 'j.alvarez',
    tags: ['contracts', 'clins', 'pricing'],
    classification: 'U',
    columns: { unit_price: proprietary, extended_amount: financial },
  },
  'contracts.obligations': {
    domain: 'contracts',
    owner: 'j.alvarez',
    tags: ['spend', 'obligations', 'authoritative'],
    classification: 'U',
    columns: { amount: financial },
  },
  'contracts.payments': {
    domain: 'contracts',
    owner: 'm.okafor',
    tags: ['spend', 'payments', 'disbursements'],
    classification: 'U',
    columns: { amount: financial, interest_penalty: financial },
  },
  'contracts.subcontract_reports': {
    domain: 'contracts',
    owner: 'm.okafor',
    tags: ['ffata', 'subawards', 'external-feed'],
    classification: 'U',
    columns: { subaward_amount: financial },
  },
  'contracts.vendor_spend_by_fy': {
    domain: 'contracts',
    owner: 'm.okafor',
    tags: ['spend', 'fiscal-year', 'certified', 'reporting'],
    classification: 'U',
    columns: { obligated_usd: financial, paid_usd: financial },
  },
  'contracts.contract_burn_rate': {
    domain: 'contracts',
    owner: 'j.alvarez',
    tags: ['spend', 'burn-rate', 'reporting'],
    classification: 'U',
    columns: { obligated_usd: financial, paid_usd: financial, monthly_burn_usd: financial },
  },
  'performance.evaluations': {
    domain: 'performance',
    owner: 'm.okafor',
    tags: ['cpars', 'past-performance', 'source-selection'],
    classification: 'C',
    columns: { narrative: proprietary },
  },
  'performance.vendor_responses': {
    domain: 'performance',
    owner: 'm.okafor',
    tags: ['cpars', 'contractor-comments'],
    classification: 'C',
    columns: { response_text: proprietary },
  },
  'performance.corrective_action_requests': {
    domain: 'performance',
    owner: 'm.okafor',
    tags: ['quality-assurance', 'dcma', 'cars'],
    classification: 'U',
  },
  'performance.vendor_scorecard': {
    domain: 'performance',
    owner: 'm.okafor',
    tags: ['vendors', 'scorecard', 'past-performance', 'reporting'],
    classification: 'C',
    columns: { lifetime_obligated_usd: financial },
  },
  'performance.sensitive_program_performance': {
    domain: 'performance',
    owner: 'k.washington',
    tags: ['special-access', 'cpars'],
    classification: 'S',
  },
  'performance.sap_program_reviews': {
    domain: 'performance',
    owner: 'k.washington',
    tags: ['special-access', 'program-reviews', 'security'],
    classification: 'TS',
  },
  'personnel.units': {
    domain: 'personnel',
    owner: 'r.patel',
    tags: ['force-structure', 'org-hierarchy', 'reference-data'],
    classification: 'U',
  },
  'personnel.people': {
    domain: 'personnel',
    owner: 'r.patel',
    tags: ['hr', 'pii', 'master-data'],
    classification: 'C',
    columns: {
      dod_id: pii,
      ssn: pii,
      last_name: pii,
      first_name: pii,
      middle_initial: pii,
      date_of_birth: pii,
      email: pii,
      work_phone: pii,
      mobile_phone: pii,
      home_street: pii,
      home_city: pii,
      home_state: pii,
      home_zip: pii,
    },
  },
  'personnel.clearances': {
    domain: 'personnel',
    owner: 'r.patel',
    tags: ['security', 'clearances', 'dcsa'],
    classification: 'S',
  },
  'personnel.assignments': {
    domain: 'personnel',
    owner: 'r.patel',
    tags: ['hr', 'manning'],
    classification: 'C',
  },
  'personnel.roster': {
    domain: 'personnel',
    owner: 'r.patel',
    tags: ['hr', 'roster', 'pii-free', 'reporting'],
    classification: 'U',
  },
  'personnel.reinvestigations_due': {
    domain: 'personnel',
    owner: 'r.patel',
    tags: ['security', 'clearances', 'action-list'],
    classification: 'S',
    columns: { last_name: pii, first_name: pii },
  },
  'logistics.depots': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['depots', 'reference-data'],
    classification: 'U',
  },
  'logistics.parts': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['nsn', 'flis', 'catalog', 'reference-data'],
    classification: 'U',
    columns: { unit_price: financial },
  },
  'logistics.inventory': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['inventory', 'supply', 'daily'],
    classification: 'U',
  },
  'logistics.requisitions': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['milstrip', 'supply', 'demand'],
    classification: 'U',
  },
  'logistics.shipments': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['transportation', 'in-transit-visibility'],
    classification: 'U',
    columns: { destination_unit_id: unitMovements },
  },
  'logistics.shipment_events': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['transportation', 'edi-214', 'tracking'],
    classification: 'U',
  },
  'logistics.depot_fuel_issues': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['fuel', 'bulk-petroleum'],
    classification: 'U',
  },
  'logistics.open_shipments': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['transportation', 'in-transit-visibility', 'operational'],
    classification: 'U',
    columns: { destination: unitMovements },
  },
  'logistics.depot_stock_value': {
    domain: 'logistics',
    owner: 'd.kowalski',
    tags: ['inventory', 'valuation', 'reporting'],
    classification: 'U',
    columns: { stock_value_usd: financial },
  },
};
