import { commentStatements } from './deterministic-sql.js';

/** Descriptions of the personnel schema, as the HR data team wrote them. */
export function personnelComments(): string[] {
  return [
    ...commentStatements(
      'personnel.units',
      'Organisational units (UIC hierarchy) from the force structure system. One row per unit; parent_unit_id builds the chain of command.',
      {
        uic: 'Unit Identification Code, 6 characters, unique.',
        parent_unit_id: 'Next unit up the chain of command; NULL for top-level commands and agencies.',
        station_state: 'Two-letter state of the home station; NULL for units stationed outside the US (OCONUS).',
        is_contracting_office: 'True when the unit holds contracting authority and can issue awards.',
        dodaac: 'DoD Activity Address Code used on requisitions and shipping documents.',
      },
    ),
    ...commentStatements(
      'personnel.people',
      'Master person record for military members, DoD civilians and contractors. Contains PII (SSN, DoD ID, date of birth, home address): access is need-to-know, use personnel.roster for general reporting.',
      {
        dod_id: 'DoD ID number (EDIPI) printed on the CAC. 10 digits.',
        ssn: 'Social Security Number (demo values use the 9xx area, which is never issued). PII: never export.',
        date_of_birth: 'PII.',
        email: 'Official @mail.mil address. Should always be populated for active personnel.',
        home_street: 'Home address, PII. Sourced from the member self-service portal.',
        category: 'Military, Civilian or Contractor.',
        pay_grade: 'Military grade (E-, W-, O-), GS grade for civilians, CTR for contractors.',
        unit_id: 'Unit of primary assignment.',
        status: 'Active, On Leave or Separated.',
        updated_at: 'When the nightly HR extract last touched the row.',
      },
    ),
    ...commentStatements(
      'personnel.clearances',
      'Current security clearance eligibility per person, from the DCSA adjudication feed. Cleared contractors included.',
      {
        level: 'Highest eligibility granted.',
        reinvestigation_due: 'Periodic reinvestigation date; ignored for people enrolled in continuous vetting.',
        status: 'Active, Interim, Suspended or Debriefed.',
        continuous_vetting: 'Enrolled in Continuous Vetting (Trusted Workforce 2.0).',
      },
    ),
    ...commentStatements(
      'personnel.assignments',
      'Billet assignments over time. end_date is NULL for the current one.',
      {
        billet_number: 'Billet (position) number on the unit manning document.',
      },
    ),
  ];
}
