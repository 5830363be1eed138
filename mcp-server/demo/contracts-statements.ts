import { asOf, fiscalYear, foreignKey, hashInt as h, keys, list, lit, pick, scramble } from './deterministic-sql.js';

// name|portfolio|acquisition category; the last three are special access programs known by nickname only.
const programs = list(`
  Tactical Radio Modernization|C3I|ACAT I; Joint Light Logistics Vehicle|Ground Vehicles|ACAT I;
  Next Generation Body Armor|Soldier Systems|ACAT II; Expeditionary Fuel Distribution|Logistics|ACAT III;
  Depot Maintenance Information System|Business Systems|ACAT III; Rotary Wing Sustainment|Aviation|ACAT II;
  Counter-UAS Integration|Air and Missile Defense|ACAT II; Satellite Ground Terminal Refresh|Space|ACAT II;
  Medical Countermeasures Stockpile|Medical|ACAT III; Base Operations Support|Installations|ACAT III;
  Munitions Readiness|Munitions|ACAT II; Fleet Spare Parts Pooling|Logistics|ACAT III;
  Tactical Network Transport|C3I|ACAT I; Heavy Lift Watercraft Overhaul|Maritime|ACAT II;
  Aircraft Engine Component Repair|Aviation|ACAT II; Combat Ration Supply|Subsistence|ACAT III;
  Enterprise Resource Planning Sustainment|Business Systems|ACAT I;
  Night Vision Device Production|Soldier Systems|ACAT II; Airfield Damage Repair Kits|Installations|ACAT III;
  Integrated Air Defense Radar Upgrade|Air and Missile Defense|ACAT I; Cyber Training Range|Cyber|ACAT III;
  Tactical Water Purification|Logistics|ACAT III; Small Arms Modernization|Soldier Systems|ACAT II;
  Munitions Demilitarization|Munitions|ACAT III; Space Domain Awareness Sensors|Space|ACAT I;
  Hospital Equipment Modernization|Medical|ACAT III; Strategic Sealift Readiness|Maritime|ACAT II;
  Unmanned Ground Vehicle Family|Ground Vehicles|ACAT II;
  Predictive Logistics Analytics|Business Systems|ACAT III; Mobile Power Generation|Logistics|ACAT III;
  Helmet Mounted Display|Aviation|ACAT II; Chemical Biological Defense Equipment|CBRN Defense|ACAT II;
  Training Ammunition Production|Munitions|ACAT III; CLEAR HORIZON|Special Programs|ACAT I;
  SILENT ANVIL|Special Programs|ACAT II; QUIET LANTERN|Special Programs|ACAT II
`).map((entry) => entry.split('|') as [string, string, string]);
const vendorPrefixes = list(`
  Apex; Blue Ridge; Cobalt; Delta; Evergreen; Falcon; Granite; Harbor; Ironclad; Keystone; Liberty; Meridian;
  Northstar; Orion; Patriot; Quantum; Redstone; Summit; Trident; Vanguard; Sentinel; Pinnacle; Horizon; Atlas;
  Beacon
`);
const vendorCores = list(`
  Defense Systems; Logistics; Technologies; Aerospace; Solutions; Federal Services; Engineering; Analytics;
  Manufacturing; Marine Industries; Research; Integrated Services; Mission Support; Cyber
`);
const vendorCities = list(`
  Reston|VA; Arlington|VA; Huntsville|AL; San Diego|CA; Dayton|OH; Colorado Springs|CO; Herndon|VA;
  Chantilly|VA; Fort Worth|TX; Bethesda|MD; Columbia|MD; Tampa|FL; Oklahoma City|OK; Ogden|UT;
  Warner Robins|GA; Norfolk|VA; Boston|MA; Seattle|WA; Phoenix|AZ; St. Louis|MO
`);
// naics|psc|title prefix
const work = list(`
  541330|R425|Engineering and technical services for; 541512|D302|IT systems development for;
  336992|2320|Production vehicles for; 488190|J015|Aircraft maintenance for;
  493110|S215|Warehousing and distribution for; 541715|AC13|Research and development for;
  334511|5840|Radar components for; 561210|S216|Facilities support for; 611430|U009|Training support for;
  336413|1560|Airframe spares for; 332994|1005|Weapon components for;
  541614|R706|Logistics support services for
`);
const installations = list(`
  Fort Bragg; Naval Station Norfolk; Joint Base San Antonio; Redstone Arsenal; Camp Lejeune; Hill AFB;
  Fort Belvoir
`);
const appropriations = list(`
  Operation and Maintenance, Army; Operation and Maintenance, Navy; Operation and Maintenance, Air Force;
  Aircraft Procurement, Air Force; Research, Development, Test and Evaluation, Army; Procurement, Defense-Wide;
  Defense Working Capital Fund; Other Procurement, Army; Shipbuilding and Conversion, Navy
`);
const contractingOffices = '(SELECT count(*) FROM personnel.units WHERE is_contracting_office)';

/** The contracts schema: programs, vendors, contracts, line items, obligations, payments and subaward reports. */
export function contractsStatements(): string[] {
  const programRows = programs.map(
    ([name, portfolio, acat], k) =>
      `(${k + 1}, 'PE0' || (604000 + ${(k + 1) * 113}) || ${lit('ANFD'[k % 4] ?? 'A')}, ${lit(name)},
        ${lit(portfolio)}, ${lit(acat)}, ${portfolio === 'Special Programs'}, ${10 * (1 + ((k * 37) % 600))})`,
  );
  return [
    `CREATE TYPE contracts.contract_type AS ENUM ('FFP', 'CPFF', 'CPIF', 'CPAF', 'T&M', 'LH', 'IDIQ')`,
    `CREATE DOMAIN contracts.usd AS numeric(15,2)`,
    `CREATE DOMAIN contracts.piid AS varchar(17) CHECK (VALUE ~ '^[A-Z0-9]{6}[0-9]{2}[A-Z][0-9]{4}$')`,
    `CREATE TABLE contracts.programs (
      program_id integer NOT NULL, program_element text NOT NULL, program_name text NOT NULL,
      portfolio text NOT NULL, acquisition_category text NOT NULL, is_special_access boolean NOT NULL,
      program_manager_id integer)`,
    `INSERT INTO contracts.programs VALUES ${programRows.join(',\n')}`,
    `CREATE TABLE contracts.vendors (
      vendor_id integer NOT NULL, uei char(12) NOT NULL, cage_code char(5), legal_name text NOT NULL,
      doing_business_as text, hq_city text NOT NULL, hq_state char(2) NOT NULL, business_size text NOT NULL,
      socioeconomic_categories text[] NOT NULL, sam_registered_on date NOT NULL, sam_expires_on date NOT NULL,
      is_excluded boolean NOT NULL)`,
    `INSERT INTO contracts.vendors
     SELECT i, translate(upper(substr(md5('uei-' || i), 1, 12)), '01', 'ZK'),
       CASE WHEN i % 25 <> 0 THEN (c.s % 10)::text || chr(65 + (c.s / 10 % 26)::int) || chr(65 + (c.s / 260 % 26)::int)
         || lpad((c.s / 6760)::text, 2, '0') END,
       n.legal, CASE WHEN i % 7 = 0 THEN split_part(n.legal, ' ', 1) || ' Federal' END,
       split_part(n.hq, '|', 1), split_part(n.hq, '|', 2), CASE WHEN i % 3 = 0 THEN 'Other Than Small' ELSE 'Small' END,
       CASE i % 6 WHEN 1 THEN ARRAY['8(a)', 'SDB'] WHEN 2 THEN ARRAY['SDVOSB', 'VOSB'] WHEN 4 THEN ARRAY['WOSB']
         WHEN 5 THEN ARRAY['HUBZone'] ELSE '{}'::text[] END,
       DATE '2008-07-01' + ${h('i', 71, 6000)}, ${asOf} - 60 + ${h('i', 72, 420)}, i % 150 = 0
     FROM generate_series(1, 450) i
     CROSS JOIN LATERAL (SELECT (i * 7919) % 450 AS j, ${scramble('i', 19)} AS s) c
     CROSS JOIN LATERAL (SELECT (ARRAY['${vendorPrefixes.join("','")}'])[1 + c.j % 25] || ' '
       || (ARRAY['${vendorCores.join("','")}'])[1 + (c.j / 25) % 14] || CASE WHEN c.j >= 350 THEN ' International' ELSE '' END
       || ' ' || ${pick(['Inc.', 'LLC', 'Corp.', 'Corporation', 'LP'], 'i', 73)} AS legal, ${pick(vendorCities, 'i', 74)} AS hq) n`,
    `CREATE TABLE contracts.contracts (
      contract_id integer NOT NULL, piid contracts.piid NOT NULL, vendor_id integer NOT NULL,
      program_id integer, contracting_office_id integer NOT NULL, contracting_officer_id integer NOT NULL,
      contract_type contracts.contract_type NOT NULL, title text NOT NULL, naics_code char(6) NOT NULL,
      psc_code char(4) NOT NULL, award_date date NOT NULL, period_of_performance_start date NOT NULL,
      period_of_performance_end date NOT NULL, ceiling_value contracts.usd NOT NULL, status text NOT NULL,
      competed boolean NOT NULL, set_aside text NOT NULL)`,
    `INSERT INTO contracts.contracts
     SELECT i, ${pick(['W56HZV', 'N00024', 'FA8620', 'M67854', 'FA8807', 'SPE7M1', 'W15P7T', 'HT9425'], 'i', 49)}
         || lpad((${fiscalYear('x.award')} % 100)::text, 2, '0') || CASE WHEN x.ctype = 'IDIQ' THEN 'D' ELSE 'C' END
         || lpad(${scramble('i', 13)}::text, 4, '0'),
       1 + least(${h('i', 50, 450)}, ${h('i', 51, 450)}), x.program_id, o.unit_id, 10 * (1 + ${h('i', 52, 600)}), x.ctype,
       split_part(x.work, '|', 3) || ' ' || coalesce(p.program_name, ${pick(installations, 'i', 53)}),
       split_part(x.work, '|', 1), split_part(x.work, '|', 2), x.award, x.award + x.pop_offset,
       x.award + x.pop_offset + 365 * x.years - 1,
       ((25000 + x.size * x.size * x.size * 40 + ${h('i', 54, 100000)}) * CASE p.acquisition_category
         WHEN 'ACAT I' THEN 8 WHEN 'ACAT II' THEN 3 ELSE 1 END)::numeric + ${h('i', 55, 100)} / 100.0,
       CASE WHEN i % 97 = 0 THEN 'Terminated' WHEN x.award + x.pop_offset + 365 * x.years - 1 < ${asOf} - 365 THEN 'Closed'
         WHEN x.award + x.pop_offset + 365 * x.years - 1 < ${asOf} THEN 'Completed' ELSE 'Active' END,
       i % 6 <> 0, ${pick(['None', 'None', 'None', 'Small Business', '8(a)', 'SDVOSB', 'HUBZone', 'WOSB'], 'i', 56)}
     FROM generate_series(1, 3200) i
     CROSS JOIN LATERAL (SELECT ${asOf} - ${h('i', 40, 2900)} AS award,
       (${pick(['FFP', 'FFP', 'FFP', 'CPFF', 'CPIF', 'T&M', 'FFP', 'IDIQ', 'CPAF', 'LH'], 'i', 41)})::contracts.contract_type AS ctype,
       ${pick(work, 'i', 42)} AS work, CASE WHEN ${h('i', 43, 10)} < 7 THEN 1 + ${h('i', 44, programs.length)} END AS program_id,
       1 + ${h('i', 45, 30)} AS pop_offset, 1 + ${h('i', 46, 5)} AS years, ${h('i', 47, 100)}::bigint AS size) x
     LEFT JOIN contracts.programs p ON p.program_id = x.program_id
     JOIN (SELECT unit_id, row_number() OVER (ORDER BY unit_id) AS rn FROM personnel.units WHERE is_contracting_office) o
       ON o.rn = 1 + ${h('i', 48, contractingOffices)}`,
    `CREATE TABLE contracts.contract_line_items (
      clin_id integer NOT NULL, contract_id integer NOT NULL, clin_number char(4) NOT NULL, description text NOT NULL,
      quantity numeric(12,2) NOT NULL, unit_of_measure text NOT NULL, unit_price contracts.usd NOT NULL,
      extended_amount numeric(15,2) GENERATED ALWAYS AS (quantity * unit_price) STORED, is_option boolean NOT NULL)`,
    `INSERT INTO contracts.contract_line_items (clin_id, contract_id, clin_number, description, quantity, unit_of_measure, unit_price, is_option)
     SELECT (c.contract_id - 1) * 4 + k, c.contract_id, (ARRAY['0001', '0002', '0003', '1001'])[k],
       (ARRAY['Base period labor', 'Materials and equipment', 'Other direct costs (travel, shipping)', 'Option period 1 labor'])[k],
       q.qty, (ARRAY['HR', 'EA', 'LOT', 'HR'])[k], round(c.ceiling_value * q.share / q.qty, 2), k = 4
     FROM contracts.contracts c CROSS JOIN generate_series(1, 4) k
     CROSS JOIN LATERAL (SELECT (ARRAY[0.40, 0.30, 0.15, 0.15])[k] AS share) s
     CROSS JOIN LATERAL (SELECT s.share, CASE k WHEN 3 THEN 1 WHEN 2 THEN 1 + ${h('c.contract_id', 57, 200)}
       ELSE greatest(1, round(c.ceiling_value * s.share / (95 + ${h('c.contract_id * 4 + k', 58, 110)}))) END AS qty) q`,
    `CREATE TABLE contracts.obligations (
      obligation_id integer NOT NULL, contract_id integer NOT NULL, clin_id integer NOT NULL,
      modification_number char(6) NOT NULL, action_date date NOT NULL, fiscal_year smallint NOT NULL,
      appropriation text NOT NULL, action_type text NOT NULL, amount contracts.usd NOT NULL)`,
    `INSERT INTO contracts.obligations
     SELECT row_number() OVER (ORDER BY l.clin_id, a), l.contract_id, l.clin_id,
       'P' || lpad((a - 1 + CASE WHEN l.is_option THEN 3 ELSE 0 END)::text, 5, '0'), d.action_date,
       ${fiscalYear('d.action_date')}, ${pick(appropriations, 'c.contract_id', 59)},
       CASE WHEN d.deob THEN 'Deobligation' WHEN a = 1 AND l.is_option THEN 'Option Exercise'
         WHEN a = 1 THEN 'Initial Award' ELSE 'Incremental Funding' END,
       CASE WHEN d.deob THEN -round(l.extended_amount * 0.05, 2) ELSE round(l.extended_amount * (ARRAY[0.5, 0.3, 0.2])[a], 2) END
     FROM contracts.contract_line_items l JOIN contracts.contracts c USING (contract_id)
     CROSS JOIN generate_series(1, 3) a
     CROSS JOIN LATERAL (SELECT c.award_date + (a - 1) * 120 + ${h('l.clin_id * 3 + a', 60, 45)}
       + CASE WHEN l.is_option THEN 365 ELSE 0 END AS action_date, a > 1 AND l.clin_id % 41 = 0 AND a = 1 + l.clin_id % 3 AS deob) d
     WHERE a <= 1 + l.clin_id % 3 AND d.action_date <= ${asOf}`,
    `CREATE TABLE contracts.payments (
      payment_id bigint NOT NULL, contract_id integer NOT NULL, obligation_id integer NOT NULL,
      invoice_number text NOT NULL, invoice_received_on date NOT NULL, paid_on date, amount contracts.usd NOT NULL,
      interest_penalty contracts.usd NOT NULL, payment_system text NOT NULL, status text NOT NULL)`,
    // 100,000 invoices spread evenly over the positive obligations, each paying 18-25% of its obligation.
    `INSERT INTO contracts.payments
     SELECT i, contract_id, obligation_id, 'INV' || to_char(received, 'YYMM') || '-' || lpad(i::text, 6, '0'), received,
       CASE WHEN status = 'Paid' THEN paid END, amount,
       CASE WHEN status = 'Paid' AND paid - received > 30 THEN round(amount * 0.0001 * (paid - received - 30), 2) ELSE 0 END,
       ${pick(['MOCAS', 'MOCAS', 'MOCAS', 'DAI', 'One Pay', 'CAPS-W', 'IAPS'], 'contract_id', 61)}, status
     FROM (SELECT i, contract_id, obligation_id, received, amount, paid,
             CASE WHEN i % 211 = 0 THEN 'Rejected' WHEN paid > ${asOf} THEN 'Pending' ELSE 'Paid' END AS status
       FROM (SELECT i, o.contract_id, o.obligation_id, r.received, r.amount, r.received + 5 + ${h('i', 65, 38)} AS paid
         FROM (SELECT ob.*, row_number() OVER (ORDER BY obligation_id) AS rn, count(*) OVER () AS n
               FROM contracts.obligations ob WHERE amount > 0) o
         CROSS JOIN LATERAL generate_series((((o.rn - 1) * 100000 + o.n - 1) / o.n + 1)::int, ((o.rn * 100000 + o.n - 1) / o.n)::int) i
         CROSS JOIN LATERAL (SELECT greatest(o.action_date, least(o.action_date + 20 + 40 * (i % 4) + ${h('i', 62, 25)},
           ${asOf} - ${h('i', 63, 7)})) AS received, round(o.amount * (18 + ${h('i', 64, 8)}) / 100.0, 2) AS amount) r
         OFFSET 0) x0
       OFFSET 0) x`,
    `CREATE TABLE contracts.subcontract_reports (
      report_id integer NOT NULL, prime_contract_id integer NOT NULL, subcontractor_name text NOT NULL,
      subcontractor_uei char(12) NOT NULL, subaward_amount contracts.usd NOT NULL, subaward_date date NOT NULL,
      report_period text NOT NULL)`,
    // Every 108th report names a prime contract that was never loaded here: orphans, and no FK to catch them.
    `INSERT INTO contracts.subcontract_reports
     SELECT i, CASE WHEN i % 108 = 0 THEN 3200 + 17 * (i / 108) ELSE 1 + ${h('i', 66, 3200)} END,
       ${pick(vendorPrefixes.slice(5), 'i', 67)} || ' '
         || ${pick(list('Precision; Machining; Staffing; Electronics; Composites; Software; Fabrication'), 'i', 68)}
         || ' ' || ${pick(['LLC', 'Inc.', 'Corp.'], 'i', 69)},
       translate(upper(substr(md5('sub-' || i), 1, 12)), '01', 'ZK'),
       (2500 + ${h('i', 75, 1000)}::numeric * (1 + ${h('i', 76, 400)})) + ${h('i', 77, 100)} / 100.0, d.d, to_char(d.d, 'YYYY-"Q"Q')
     FROM generate_series(1, 4000) i CROSS JOIN LATERAL (SELECT ${asOf} - ${h('i', 78, 1800)} AS d) d`,
    'CREATE INDEX obligations_contract_id_idx ON contracts.obligations (contract_id)',
    'CREATE INDEX payments_contract_id_idx ON contracts.payments (contract_id)',
  ];
}

/** Keys and foreign keys of the contracts schema (some point into personnel), added once every schema is filled. */
export function contractsConstraints(): string[] {
  return [
    keys('contracts.programs', 'program_id', 'program_element'),
    keys('contracts.vendors', 'vendor_id', 'uei'),
    keys('contracts.contracts', 'contract_id', 'piid'),
    keys('contracts.contract_line_items', 'clin_id', 'contract_id, clin_number'),
    keys('contracts.obligations', 'obligation_id'),
    keys('contracts.payments', 'payment_id'),
    keys('contracts.subcontract_reports', 'report_id'),
    foreignKey('contracts.programs', 'program_manager_id', 'personnel.people (person_id)'),
    foreignKey('contracts.contracts', 'vendor_id', 'contracts.vendors (vendor_id)'),
    foreignKey('contracts.contracts', 'program_id', 'contracts.programs (program_id)'),
    foreignKey('contracts.contracts', 'contracting_office_id', 'personnel.units (unit_id)'),
    foreignKey('contracts.contracts', 'contracting_officer_id', 'personnel.people (person_id)'),
    foreignKey('contracts.contract_line_items', 'contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('contracts.obligations', 'contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('contracts.obligations', 'clin_id', 'contracts.contract_line_items (clin_id)'),
    foreignKey('contracts.payments', 'contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('contracts.payments', 'obligation_id', 'contracts.obligations (obligation_id)'),
  ];
}
