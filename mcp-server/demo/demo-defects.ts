/** The kinds of data-quality defect planted in the demo database. */
export type DemoDefectKind = 'nulls' | 'duplicates' | 'stale' | 'orphans';

/** A defect planted on purpose, so quality checks have something real to find (and tests can assert they do). */
export interface DemoDefect {
  /** `schema.table`. */
  table: string;
  column?: string;
  kind: DemoDefectKind;
  /** What happened, as a data steward would explain it. */
  detail: string;
  /**
   * nulls: rows where `column` is NULL. duplicates: rows beyond the first copy of each identical row.
   * stale: rows whose `column` is more than a year older than the demo's as-of date (2026-06-30).
   * orphans: rows whose `column` matches no row of `references`.
   */
  expectedCount: number;
  /** orphans: the parent key the column should point at, `schema.table.column` (no foreign key is declared). */
  references?: string;
  /** stale: the newest value of `column`, ISO 8601 without a time zone. */
  latest?: string;
}

export const demoDefects: DemoDefect[] = [
  {
    table: 'personnel.people',
    column: 'email',
    kind: 'nulls',
    detail:
      'Official e-mail missing for 23 people: accounts created by the legacy onboarding tool before e-mail became mandatory.',
    expectedCount: 23,
  },
  {
    table: 'contracts.vendors',
    column: 'cage_code',
    kind: 'nulls',
    detail: 'CAGE code missing for 18 vendors whose SAM registration was migrated without it.',
    expectedCount: 18,
  },
  {
    table: 'logistics.shipment_events',
    kind: 'duplicates',
    detail:
      'The carrier EDI 214 feed replayed one batch: 412 departure events were loaded twice. The table has no key.',
    expectedCount: 412,
  },
  {
    table: 'logistics.depot_fuel_issues',
    column: 'last_updated',
    kind: 'stale',
    detail:
      'Not loaded since 1 April 2021, when bulk fuel accounting moved to another system; nobody retired the table.',
    expectedCount: 5000,
    latest: '2021-04-01T02:15:00',
  },
  {
    table: 'contracts.subcontract_reports',
    column: 'prime_contract_id',
    kind: 'orphans',
    detail:
      '37 subaward reports name prime contracts missing from contracts.contracts (awarded by other offices, never loaded); no foreign key stops it.',
    expectedCount: 37,
    references: 'contracts.contracts.contract_id',
  },
  {
    table: 'logistics.shipment_events',
    column: 'shipment_id',
    kind: 'orphans',
    detail: 'A carrier reported 29 departures for shipment ids that were never registered in the shipments table.',
    expectedCount: 29,
    references: 'logistics.shipments.shipment_id',
  },
];
