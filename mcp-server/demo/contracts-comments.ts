import { commentStatements } from './deterministic-sql.js';

/** Descriptions of the contracts schema, as the acquisition data team wrote them (some columns left blank, as in life). */
export function contractsComments(): string[] {
  return [
    `COMMENT ON TYPE contracts.contract_type IS 'FAR contract type: FFP firm-fixed-price, CPFF/CPIF/CPAF cost-plus (fixed, incentive, award fee), T&M time-and-materials, LH labor-hour, IDIQ indefinite delivery.'`,
    `COMMENT ON DOMAIN contracts.usd IS 'US dollars, two decimals.'`,
    `COMMENT ON DOMAIN contracts.piid IS 'Procurement Instrument Identifier (DFARS 204.16): office DoDAAC, fiscal year, instrument type, serial.'`,
    ...commentStatements(
      'contracts.programs',
      'Acquisition programs that contracts are funded under. Special access programs appear by nickname only.',
      {
        program_element: 'Budget program element (PE) number.',
        acquisition_category: 'ACAT I (major), II or III, per DoDI 5000.85.',
        is_special_access: 'Program is a special access program (SAP). Details live in the SAP-accredited enclave.',
        program_manager_id: 'Program manager (personnel.people).',
      },
    ),
    ...commentStatements(
      'contracts.vendors',
      'Vendors registered in SAM.gov that hold at least one award, refreshed weekly from the SAM entity extract.',
      {
        uei: 'Unique Entity ID (SAM.gov), 12 characters. Replaced DUNS in April 2022.',
        cage_code:
          'Commercial and Government Entity code. Required for award; every registered vendor should have one.',
        legal_name: 'Legal business name as registered in SAM.',
        business_size: 'Small or Other Than Small, for the primary NAICS.',
        socioeconomic_categories: 'SBA certifications and self-certifications: 8(a), SDB, SDVOSB, VOSB, WOSB, HUBZone.',
        sam_expires_on: 'Registration expiry; vendors must renew yearly to receive new awards.',
        is_excluded: 'Active exclusion (suspension or debarment) in SAM.',
      },
    ),
    ...commentStatements(
      'contracts.contracts',
      'Contract awards (base contracts and IDIQ vehicles), one row per PIID. Source of truth: the contract writing system, reconciled nightly with FPDS.',
      {
        piid: 'Procurement Instrument Identifier, unique.',
        vendor_id: 'Awardee.',
        program_id: 'Funding program; NULL for base operations and enterprise support contracts.',
        contracting_office_id: 'Issuing contracting office (personnel.units).',
        contracting_officer_id: 'Warranted contracting officer of record (personnel.people).',
        ceiling_value: 'Total contract value including options, USD.',
        status: 'Active, Completed (performance ended), Closed (closeout done) or Terminated.',
        set_aside: 'Small business set-aside type, None when full and open.',
      },
    ),
    ...commentStatements(
      'contracts.contract_line_items',
      'Contract line items (CLINs). Option CLINs are numbered 1001 and up.',
      { extended_amount: 'quantity x unit_price, computed by the database.' },
    ),
    ...commentStatements(
      'contracts.obligations',
      'Funding actions against CLINs: initial awards, incremental funding, option exercises and deobligations. Negative amounts are deobligations.',
      {
        modification_number: 'Contract modification that carried the action; P00000 is the base award.',
        fiscal_year: 'Federal fiscal year of the action (starts 1 October).',
        appropriation: 'Appropriation (color of money) the obligation is charged to.',
        amount: 'Obligated USD; negative for deobligations.',
      },
    ),
    ...commentStatements(
      'contracts.payments',
      'Invoice payments (disbursements) from the entitlement systems. The largest table in the workspace.',
      {
        invoice_received_on: 'Date a proper invoice was received; starts the Prompt Payment Act clock.',
        paid_on: 'Disbursement date; NULL while pending or after rejection.',
        interest_penalty: 'Prompt Payment Act interest paid for payments later than 30 days.',
        payment_system: 'Entitlement system: MOCAS, DAI, One Pay, CAPS-W or IAPS.',
        status: 'Paid, Pending or Rejected.',
      },
    ),
    ...commentStatements(
      'contracts.subcontract_reports',
      'First-tier subaward reports (FFATA) from the FSRS extract, loaded as delivered.',
      { prime_contract_id: 'Prime contract the subaward was reported under.' },
    ),
  ];
}
