import { asOf, base36, foreignKey, hashInt as h, keys, list, pick, scramble } from './deterministic-sql.js';

const firstNames = list(`
  James; Maria; Robert; Aisha; Michael; Jennifer; David; Linda; Carlos; Patricia; Kevin; Ngozi; Daniel; Emily;
  Marcus; Sarah; Anthony; Jessica; Jamal; Ashley; Brian; Mei; Christopher; Rachel; Jose; Laura; Tyrone; Hannah;
  Andrew; Priya; Joshua; Megan; Luis; Nicole; Samuel; Fatima; Eric; Grace; Derek; Olivia; Raymond; Sofia;
  Brandon; Keisha; Thomas; Elena; Victor; Amanda
`);
const lastNames = list(`
  Smith; Johnson; Williams; Brown; Garcia; Miller; Davis; Rodriguez; Martinez; Hernandez; Lopez; Wilson;
  Anderson; Thomas; Taylor; Moore; Jackson; Martin; Lee; Perez; Thompson; White; Harris; Sanchez; Clark;
  Ramirez; Lewis; Robinson; Walker; Young; Allen; King; Wright; Scott; Torres; Nguyen; Hill; Flores; Green;
  Adams; Nelson; Baker; Hall; Rivera; Campbell; Mitchell; Carter; Roberts; Okafor; Patel; Kowalski; Washington;
  Chen; Alvarez; Brooks; Kim; Singh; Murphy; Reyes; Cooper; Ward; Diaz; Morales; Sullivan
`);
const homes = list(`
  Fayetteville|NC|28314; Killeen|TX|76542; Lakewood|WA|98499; Colorado Springs|CO|80916; Clarksville|TN|37042;
  Norfolk|VA|23503; Chula Vista|CA|91910; Jacksonville|NC|28540; Oceanside|CA|92054; Beavercreek|OH|45431;
  Midwest City|OK|73110; Layton|UT|84041; Warner Robins|GA|31088; San Antonio|TX|78245; Alexandria|VA|22310;
  Huntsville|AL|35806; Aberdeen|MD|21001; Mechanicsburg|PA|17050; Albany|GA|31707; Falls Church|VA|22042;
  Arlington|VA|22204; Woodbridge|VA|22193; Dayton|OH|45424; Tacoma|WA|98406
`);
const streets = list(`
  Oak; Maple; Cedar; Pine; Elm; Washington; Lincoln; Jefferson; Madison; Lake; Hill; Sunset; Ridge; Meadow;
  Forest; Highland; Magnolia; Dogwood; Willow; Chestnut
`);
// Home stations by service: name|state (no state outside the US).
const stations: Record<string, string[]> = {
  Army: list(
    'Fort Bragg|NC; Fort Hood|TX; Joint Base Lewis-McChord|WA; Fort Carson|CO; Fort Campbell|KY; Camp Humphreys|',
  ),
  Navy: list('Naval Station Norfolk|VA; Naval Base San Diego|CA; Naval Base Kitsap|WA; Naval Station Mayport|FL'),
  'Air Force': list('Wright-Patterson AFB|OH; Tinker AFB|OK; Hill AFB|UT; Robins AFB|GA; Ramstein AB|'),
  'Marine Corps': list('Camp Lejeune|NC; Camp Pendleton|CA; Marine Corps Logistics Base Albany|GA'),
  'Space Force': list('Schriever SFB|CO; Peterson SFB|CO; Los Angeles AFB|CA'),
  'Defense Agency': list('Fort Belvoir|VA; Columbus|OH; Philadelphia|PA; New Cumberland|PA; Falls Church|VA'),
};
const commands = [
  "(1, 'Army Contracting Command', 'Army', 'Command', 'Redstone Arsenal', 'AL', DATE '2008-10-01')",
  "(2, 'Naval Supply Systems Command', 'Navy', 'Command', 'Mechanicsburg', 'PA', DATE '1966-05-01')",
  "(3, 'Air Force Materiel Command', 'Air Force', 'Command', 'Wright-Patterson AFB', 'OH', DATE '1992-07-01')",
  "(4, 'Marine Corps Logistics Command', 'Marine Corps', 'Command', 'Albany', 'GA', DATE '2005-11-01')",
  "(5, 'Space Systems Command', 'Space Force', 'Command', 'Los Angeles AFB', 'CA', DATE '2021-08-13')",
  "(6, 'Defense Logistics Agency', 'Defense Agency', 'Command', 'Fort Belvoir', 'VA', DATE '1961-10-01')",
  "(7, 'Army Materiel Command', 'Army', 'Command', 'Redstone Arsenal', 'AL', DATE '1962-08-01')",
  "(8, 'Defense Health Agency', 'Defense Agency', 'Command', 'Falls Church', 'VA', DATE '2013-10-01')",
];
const ordinal = (n: string) =>
  `${n} || CASE WHEN ${n} % 100 BETWEEN 11 AND 13 THEN 'th' WHEN ${n} % 10 = 1 THEN 'st' WHEN ${n} % 10 = 2 THEN 'nd' WHEN ${n} % 10 = 3 THEN 'rd' ELSE 'th' END`;
// Unit types by service: [brigade level, battalion level].
const unitKinds: Record<string, [string, string]> = {
  Army: [
    'Sustainment Brigade; Contracting Support Brigade; Field Support Brigade',
    'Quartermaster Battalion; Contracting Battalion; Ordnance Company; Signal Battalion',
  ],
  Navy: [
    'Fleet Logistics Center Detachment; Naval Contracting Division',
    'Supply Support Detachment; Contracting Office',
  ],
  'Air Force': ['Contracting Squadron; Logistics Readiness Group', 'Logistics Readiness Squadron; Acquisition Flight'],
  'Marine Corps': ['Combat Logistics Battalion; Supply Battalion', 'Supply Battalion; Regional Contracting Office'],
  'Space Force': ['Space Delta; Acquisition Delta', 'Contracting Squadron; Acquisition Delta'],
  'Defense Agency': [
    'Acquisition Directorate; Supply Chain Directorate; Contracting Directorate',
    'Contracting Office; Distribution Office; Program Office',
  ],
};
const payGrades = {
  Military: list('E-3; E-4; E-4; E-5; E-5; E-6; E-7; E-8; W-2; O-2; O-3; O-4; O-5; O-6'),
  Civilian: list('GS-07; GS-09; GS-11; GS-12; GS-12; GS-13; GS-13; GS-14; GS-15'),
};
const positions = {
  Military: list(
    'Supply Sergeant; Logistics Officer; Contracting Officer; Operations NCO; Platoon Leader; Property Book Officer',
  ),
  Civilian: list(
    'Contract Specialist; Contracting Officer; Program Analyst; Budget Analyst; Logistics Management Specialist; HR Specialist',
  ),
  Contractor: list('Systems Engineer; Data Analyst; Help Desk Technician; Logistics Analyst'),
};
const areaCodes = list('703; 571; 202; 301; 410; 757; 619; 910; 254; 256; 937; 405');
const mobileAreaCodes = list('540; 804; 706; 912; 719; 915; 831; 253; 843');
/** A per-service choice for the unit being generated (row `i`, parent unit `p`). */
const byService = (choices: (service: string) => string[], salt: number) =>
  `CASE p.service ${Object.keys(stations)
    .map((service) => `WHEN '${service}' THEN ${pick(choices(service), 'i', salt)}`)
    .join(' ')} END`;
const kinds = (level: 2 | 3) => byService((service) => list(unitKinds[service]?.[level - 2] ?? 'Office'), 3);
const unitInsert = (from: number, to: number, parent: string, level: 2 | 3) => `
INSERT INTO personnel.units
SELECT i, 'W' || ${base36(scramble('i', 25), 5)}, n.name, p.service,
  coalesce(substring(n.name FROM '(Brigade|Battalion|Company|Squadron|Group|Flight|Delta)'),
    CASE WHEN n.name ~ 'Directorate|Division' THEN 'Directorate' ELSE 'Office' END),
  p.unit_id, split_part(n.station, '|', 1), nullif(split_part(n.station, '|', 2), ''),
  false, 'W81' || lpad(i::text, 3, '0'), DATE '1990-01-01' + ${h('i', 2, 12000)}
FROM generate_series(${from}, ${to}) i
JOIN personnel.units p ON p.unit_id = ${parent}
CROSS JOIN LATERAL (SELECT ${ordinal(`(1 + ${h('i', 1, 499)})`)} || ' ' || ${kinds(level)} AS name,
  ${byService((service) => stations[service] ?? [], 4)} AS station) n`;

const category = `CASE WHEN i % 10 IN (0, 3, 6) THEN 'Civilian' WHEN i % 10 = 9 THEN 'Contractor' ELSE 'Military' END`;

/** The personnel schema: organisational units, people (with PII), clearances and assignments. */
export function personnelStatements(): string[] {
  return [
    `CREATE TYPE personnel.clearance_level AS ENUM ('Confidential', 'Secret', 'Top Secret', 'TS/SCI')`,
    `CREATE DOMAIN personnel.dod_id AS char(10) CHECK (VALUE ~ '^[0-9]{10}$')`,
    `CREATE TABLE personnel.units (
      unit_id integer NOT NULL, uic char(6) NOT NULL, unit_name text NOT NULL, service text NOT NULL,
      echelon text NOT NULL, parent_unit_id integer, station text NOT NULL, station_state char(2),
      is_contracting_office boolean NOT NULL DEFAULT false, dodaac char(6) NOT NULL, activated_on date NOT NULL)`,
    `INSERT INTO personnel.units (unit_id, unit_name, service, echelon, station, station_state, activated_on, uic, dodaac)
     SELECT v.*, 'W' || ${base36(scramble('v.column1', 25), 5)}, 'W81' || lpad(v.column1::text, 3, '0')
     FROM (VALUES ${commands.join(', ')}) v`,
    unitInsert(9, 40, '1 + i % 8', 2),
    unitInsert(41, 120, '9 + i % 32', 3),
    `UPDATE personnel.units SET is_contracting_office = true
     WHERE unit_id IN (1, 2, 3, 5, 6) OR unit_name ~ 'Contracting|Acquisition'`,
    `CREATE TABLE personnel.people (
      person_id integer NOT NULL, dod_id personnel.dod_id NOT NULL, ssn char(11) NOT NULL,
      last_name text NOT NULL, first_name text NOT NULL, middle_initial char(1), date_of_birth date NOT NULL,
      email text, work_phone text, mobile_phone text, home_street text NOT NULL, home_city text NOT NULL,
      home_state char(2) NOT NULL, home_zip char(5) NOT NULL, category text NOT NULL
      CHECK (category IN ('Military', 'Civilian', 'Contractor')), pay_grade text NOT NULL, unit_id integer NOT NULL,
      hire_date date NOT NULL, status text NOT NULL, updated_at timestamp NOT NULL)`,
    // j permutes 1..6000 (6007 is prime), so (first, last, suffix) and hence e-mail addresses are unique.
    `INSERT INTO personnel.people
     SELECT i, (1000000000 + ${scramble('i', 32)})::text,
       '9' || substr(x.d, 1, 2) || '-' || substr(x.d, 3, 2) || '-' || substr(x.d, 5, 4),
       x.last, x.first, x.mi, x.dob,
       CASE WHEN i % 257 <> 0 THEN lower(x.first || '.' || x.mi || '.' || x.last)
         || CASE WHEN x.j >= 3072 THEN '2' ELSE '' END || '.'
         || CASE x.cat WHEN 'Military' THEN 'mil' WHEN 'Civilian' THEN 'civ' ELSE 'ctr' END || '@mail.mil' END,
       '(' || ${pick(areaCodes, 'i', 5)} || ') 555-' || lpad(${h('i', 6, 10000)}::text, 4, '0'),
       CASE WHEN i % 4 <> 0 THEN '(' || ${pick(mobileAreaCodes, 'i', 7)} || ') ' || (200 + ${h('i', 8, 800)}) || '-'
         || lpad(${h('i', 9, 10000)}::text, 4, '0') END,
       (100 + ${h('i', 10, 9800)}) || ' ' || ${pick(streets, 'i', 11)} || ' ' || ${pick(list('St; Ave; Dr; Ln; Ct; Way; Rd; Blvd'), 'i', 12)},
       split_part(x.home, '|', 1), split_part(x.home, '|', 2), split_part(x.home, '|', 3), x.cat,
       CASE x.cat WHEN 'Military' THEN ${pick(payGrades.Military, 'i', 13)}
         WHEN 'Civilian' THEN ${pick(payGrades.Civilian, 'i', 14)} ELSE 'CTR' END,
       1 + ${h('i', 15, 120)}, least(x.dob + 6575 + ${h('i', 16, 9000)}, ${asOf} - 30 - ${h('i', 17, 60)}),
       CASE WHEN i % 17 = 0 THEN 'Separated' WHEN i % 53 = 0 THEN 'On Leave' ELSE 'Active' END,
       (${asOf} - ${h('i', 18, 120)}) + time '02:00' + ${h('i', 19, 3600)} * interval '1 second'
     FROM generate_series(1, 6000) i
     CROSS JOIN LATERAL (SELECT lpad(${scramble('i', 26)}::text, 8, '0') AS d, (i * 2053) % 6007 AS j,
       ${asOf} - 6575 - ${h('i', 20, 14600)} AS dob, ${pick(homes, 'i', 21)} AS home, ${category} AS cat,
       chr(65 + ${h('i', 22, 26)}) AS mi) x0
     CROSS JOIN LATERAL (SELECT x0.*, (ARRAY['${firstNames.join("','")}'])[1 + x0.j % ${firstNames.length}] AS first,
       (ARRAY['${lastNames.join("','")}'])[1 + (x0.j / ${firstNames.length}) % ${lastNames.length}] AS last) x`,
    `CREATE TABLE personnel.clearances (
      clearance_id integer NOT NULL, person_id integer NOT NULL, level personnel.clearance_level NOT NULL,
      investigation_type text NOT NULL, granted_on date NOT NULL, reinvestigation_due date NOT NULL,
      adjudicating_agency text NOT NULL, status text NOT NULL, continuous_vetting boolean NOT NULL)`,
    `INSERT INTO personnel.clearances
     SELECT 40000 + row_number() OVER (ORDER BY p.person_id), p.person_id, c.level,
       CASE WHEN c.level >= 'Top Secret' THEN 'Tier 5' ELSE 'Tier 3' END, c.granted,
       (c.granted + CASE WHEN c.level >= 'Top Secret' THEN interval '5 years' ELSE interval '10 years' END)::date,
       'DCSA Adjudication and Vetting Services',
       CASE WHEN p.status = 'Separated' THEN 'Debriefed' WHEN p.person_id % 89 = 0 THEN 'Suspended'
         WHEN c.granted > ${asOf} - 120 THEN 'Interim' ELSE 'Active' END, p.person_id % 5 <> 0
     FROM personnel.people p
     CROSS JOIN LATERAL (SELECT (${pick(list('Secret; Secret; Secret; Top Secret; TS/SCI; Confidential; Secret; Top Secret'), 'p.person_id', 23)})::personnel.clearance_level AS level) l
     -- Most people were (re)investigated within their reinvestigation cycle; a few are overdue.
     CROSS JOIN LATERAL (SELECT l.level, least(${asOf} - ${h('p.person_id', 25, 20)},
       greatest(p.hire_date + 30 + ${h('p.person_id', 24, 200)},
         ${asOf} - ${h('p.person_id', 26, "CASE WHEN l.level >= 'Top Secret' THEN 1950 ELSE 3800 END")})) AS granted) c
     WHERE p.person_id % 8 <> 0`,
    `CREATE TABLE personnel.assignments (
      assignment_id integer NOT NULL, person_id integer NOT NULL, unit_id integer NOT NULL,
      billet_number text NOT NULL, position_title text NOT NULL, start_date date NOT NULL, end_date date,
      is_primary boolean NOT NULL)`,
    `INSERT INTO personnel.assignments
     SELECT p.person_id, p.person_id, p.unit_id, u.uic || '-' || lpad(${h('p.person_id', 26, 1000)}::text, 4, '0'),
       CASE p.category WHEN 'Military' THEN ${pick(positions.Military, 'p.person_id', 27)}
         WHEN 'Civilian' THEN ${pick(positions.Civilian, 'p.person_id', 27)}
         ELSE ${pick(positions.Contractor, 'p.person_id', 27)} END,
       s.start_date, CASE WHEN p.status = 'Separated' THEN greatest(s.start_date, ${asOf} - ${h('p.person_id', 29, 60)}) END,
       true
     FROM personnel.people p JOIN personnel.units u ON u.unit_id = p.unit_id
     CROSS JOIN LATERAL (SELECT greatest(p.hire_date, ${asOf} - 60 - ${h('p.person_id', 28, 1400)}) AS start_date) s`,
    `INSERT INTO personnel.assignments
     SELECT 10000 + a.person_id, a.person_id, u.unit_id, u.uic || '-' || lpad(${h('a.person_id', 31, 1000)}::text, 4, '0'),
       a.position_title, p.hire_date, a.start_date - 1, true
     FROM personnel.assignments a JOIN personnel.people p USING (person_id)
     JOIN personnel.units u ON u.unit_id = 1 + ${h('a.person_id', 30, 120)}
     WHERE a.person_id % 2 = 0 AND a.start_date - p.hire_date > 60`,
  ];
}

/** Keys and foreign keys of the personnel schema, added once every schema is filled. */
export function personnelConstraints(): string[] {
  return [
    keys('personnel.units', 'unit_id', 'uic', 'dodaac'),
    keys('personnel.people', 'person_id', 'dod_id', 'ssn'),
    keys('personnel.clearances', 'clearance_id'),
    keys('personnel.assignments', 'assignment_id'),
    foreignKey('personnel.units', 'parent_unit_id', 'personnel.units (unit_id)'),
    foreignKey('personnel.people', 'unit_id', 'personnel.units (unit_id)'),
    foreignKey('personnel.clearances', 'person_id', 'personnel.people (person_id)'),
    foreignKey('personnel.assignments', 'person_id', 'personnel.people (person_id)'),
    foreignKey('personnel.assignments', 'unit_id', 'personnel.units (unit_id)'),
  ];
}
