import { asOf, base36, foreignKey, hashInt as h, keys, list, lit, pick, scramble } from './deterministic-sql.js';

// [dodaac, name, type, city, state (null OCONUS), operating unit (personnel.units)]
const depots: [string, string, string, string, string | null, number][] = [
  ['SW3124', 'DLA Distribution San Joaquin', 'Distribution Center', 'Tracy', 'CA', 6],
  ['SW3120', 'DLA Distribution Susquehanna', 'Distribution Center', 'New Cumberland', 'PA', 6],
  ['SW3210', 'DLA Distribution Red River', 'Distribution Center', 'Texarkana', 'TX', 6],
  ['SW3220', 'DLA Distribution Warner Robins', 'Distribution Center', 'Warner Robins', 'GA', 6],
  ['SW3211', 'DLA Distribution Oklahoma City', 'Distribution Center', 'Oklahoma City', 'OK', 6],
  ['SW3117', 'DLA Distribution Norfolk', 'Distribution Center', 'Norfolk', 'VA', 6],
  ['SW3225', 'DLA Distribution Puget Sound', 'Distribution Center', 'Bremerton', 'WA', 6],
  ['SW3122', 'DLA Distribution Jacksonville', 'Distribution Center', 'Jacksonville', 'FL', 6],
  ['SW3222', 'DLA Distribution Corpus Christi', 'Distribution Center', 'Corpus Christi', 'TX', 6],
  ['SW3216', 'DLA Distribution Hill', 'Distribution Center', 'Ogden', 'UT', 6],
  ['SW3113', 'DLA Distribution Albany', 'Distribution Center', 'Albany', 'GA', 6],
  ['SW3212', 'DLA Distribution Anniston', 'Distribution Center', 'Anniston', 'AL', 6],
  ['SW3145', 'DLA Distribution Germersheim', 'Distribution Center', 'Germersheim', null, 6],
  ['W25G1R', 'Red River Army Depot', 'Army Depot', 'Texarkana', 'TX', 7],
  ['W25G1U', 'Tobyhanna Army Depot', 'Army Depot', 'Tobyhanna', 'PA', 7],
  ['W31G1Z', 'Anniston Army Depot', 'Army Depot', 'Anniston', 'AL', 7],
  ['W45N7Y', 'Letterkenny Army Depot', 'Army Depot', 'Chambersburg', 'PA', 7],
  ['W45H08', 'Corpus Christi Army Depot', 'Army Depot', 'Corpus Christi', 'TX', 7],
  ['W31G1F', 'Sierra Army Depot', 'Army Depot', 'Herlong', 'CA', 7],
  ['N00189', 'Fleet Logistics Center Norfolk', 'Fleet Logistics Center', 'Norfolk', 'VA', 2],
  ['N00244', 'Fleet Logistics Center San Diego', 'Fleet Logistics Center', 'San Diego', 'CA', 2],
  ['FA8501', 'Warner Robins Air Logistics Complex', 'Air Logistics Complex', 'Warner Robins', 'GA', 3],
  ['FA8119', 'Oklahoma City Air Logistics Complex', 'Air Logistics Complex', 'Oklahoma City', 'OK', 3],
  ['M67004', 'Marine Corps Logistics Base Albany', 'Marine Corps Logistics Base', 'Albany', 'GA', 4],
];
// fsc|nomenclature|unit of issue|typical price|hazmat|demil code
const items = [
  '2530|BRAKE SHOE|EA|48.50|f|A',
  '2940|FILTER ELEMENT,FLUID|EA|23.10|f|A',
  '5305|SCREW,CAP,HEXAGON HEAD|HD|12.40|f|A',
  '5310|NUT,SELF-LOCKING,HEXAGON|HD|9.75|f|A',
  '5330|PACKING,PREFORMED|EA|2.15|f|A',
  '5340|BRACKET,MOUNTING|EA|31.00|f|A',
  '5961|TRANSISTOR|EA|14.60|f|A',
  '5998|CIRCUIT CARD ASSEMBLY|EA|2450.00|f|D',
  '6135|BATTERY,NONRECHARGEABLE|BX|39.90|t|A',
  '6140|BATTERY,STORAGE|EA|310.00|t|A',
  '6515|TOURNIQUET,NONPNEUMATIC|EA|29.95|f|A',
  '6505|IBUPROFEN TABLETS|BT|6.20|f|A',
  '8415|GLOVES,COMBAT|PR|42.00|f|A',
  '8465|CANTEEN,WATER|EA|7.80|f|A',
  '8470|HELMET,COMBAT|EA|380.00|f|D',
  '2610|TIRE,PNEUMATIC,VEHICULAR|EA|640.00|f|A',
  '2815|CYLINDER HEAD,DIESEL ENGINE|EA|3900.00|f|A',
  '2840|BLADE,TURBINE ROTOR|EA|8200.00|f|D',
  '1560|PANEL,ACCESS,AIRCRAFT|EA|1175.00|f|B',
  '1615|BLADE,ROTARY WING|EA|54000.00|f|D',
  '4720|HOSE ASSEMBLY,NONMETALLIC|EA|86.00|f|A',
  '4820|VALVE,GATE|EA|215.00|f|A',
  '5820|RADIO SET|EA|18500.00|f|D',
  '5985|ANTENNA|EA|940.00|f|B',
  '6230|FLASHLIGHT|EA|24.50|f|A',
  '5855|NIGHT VISION GOGGLE|EA|6300.00|f|D',
  '7025|KEYBOARD,DATA ENTRY|EA|95.00|f|A',
  '9150|LUBRICATING OIL,ENGINE|CN|18.25|t|A',
  '6810|ISOPROPYL ALCOHOL|GL|21.40|t|A',
  '8340|TENT,GENERAL PURPOSE|EA|2900.00|f|A',
];
const partByRank = '(SELECT nsn, row_number() OVER (ORDER BY nsn) AS rn FROM logistics.parts)';
const carrier = `CASE s.mode WHEN 'Air' THEN ${pick(['AMC Channel Airlift', 'FedEx Custom Critical', 'UPS Next Day Air'], 's.id', 143)}
    WHEN 'Parcel' THEN ${pick(['UPS Ground', 'FedEx Ground', 'USPS Priority Mail'], 's.id', 143)}
    WHEN 'Truck' THEN ${pick(['Estes Express', 'Old Dominion Freight Line', 'XPO', 'Saia'], 's.id', 143)}
    WHEN 'Rail' THEN ${pick(['Norfolk Southern', 'BNSF Railway', 'Union Pacific'], 's.id', 143)}
    ELSE ${pick(['Maersk Line Limited', 'APL Marine Services', 'Liberty Maritime'], 's.id', 143)} END`;
/** Shipments from a source of (id, requisition_id, origin, dest_unit, dest_depot, shipped, mode, will_deliver). */
const insertShipments = (source: string) => `INSERT INTO logistics.shipments
     SELECT s.id, d.dodaac || to_char(s.shipped, 'YDDD') || ${base36('s.id', 5)} || 'XX', s.requisition_id, s.origin,
       s.dest_unit, s.dest_depot, s.mode, ${carrier}, 1 + ${h('s.id', 144, 3200)}, s.shipped, s.shipped + t.transit,
       t.delivered, CASE WHEN t.delivered IS NOT NULL THEN 'Delivered' WHEN s.shipped < ${asOf} - 60 THEN 'Lost'
         WHEN s.shipped + t.transit < ${asOf} THEN 'Delayed' ELSE 'In Transit' END,
       round((5 + ${h('s.id', 145, 4000)}) * 1.5, 1), 1 + ${h('s.id', 146, 12)}
     FROM (${source}) s JOIN logistics.depots d ON d.depot_id = s.origin
     CROSS JOIN LATERAL (SELECT tr.transit, CASE WHEN s.will_deliver
       THEN least(s.shipped + tr.transit - 1 + ${h('s.id', 147, 5)}, ${asOf}) END AS delivered
       FROM (SELECT CASE s.mode WHEN 'Air' THEN 2 WHEN 'Parcel' THEN 4 WHEN 'Truck' THEN 6 WHEN 'Rail' THEN 12 ELSE 30 END AS transit) tr) t`;
const minutes = (i: string, salt: number, n: number) => `${h(i, salt, n)} * interval '1 minute'`;

/** The logistics schema: depots, the NSN parts catalog, inventory, requisitions, shipments and their events. */
export function logisticsStatements(): string[] {
  const depotRows = depots.map(
    ([dodaac, name, type, city, state, unit], k) =>
      `(${k + 1}, ${lit(dodaac)}, ${lit(name)}, ${lit(type)}, ${lit(city)}, ${state === null ? 'NULL' : lit(state)},
        ${unit}, ${250000 + ((k * 7919) % 40) * 25000}, DATE '1942-01-01' + ${(k * 104729) % 20000})`,
  );
  return [
    `CREATE TABLE logistics.depots (
      depot_id integer NOT NULL, dodaac char(6) NOT NULL, depot_name text NOT NULL, depot_type text NOT NULL,
      city text NOT NULL, state char(2), operating_unit_id integer NOT NULL, storage_sqft integer NOT NULL,
      established_on date NOT NULL)`,
    `INSERT INTO logistics.depots VALUES ${depotRows.join(',\n')}`,
    `CREATE TABLE logistics.parts (
      nsn char(16) NOT NULL, niin char(9) NOT NULL, fsc char(4) NOT NULL, nomenclature text NOT NULL,
      unit_of_issue char(2) NOT NULL, unit_price numeric(12,2) NOT NULL, manufacturer_vendor_id integer,
      demil_code char(1) NOT NULL, shelf_life_code char(1) NOT NULL, is_hazmat boolean NOT NULL, is_critical boolean NOT NULL)`,
    `INSERT INTO logistics.parts
     SELECT split_part(x.e, '|', 1) || '-' || x.cc || '-' || substr(x.n7, 1, 3) || '-' || substr(x.n7, 4, 4), x.cc || x.n7,
       split_part(x.e, '|', 1), split_part(x.e, '|', 2), split_part(x.e, '|', 3),
       round(split_part(x.e, '|', 4)::numeric * (50 + ${h('i', 110, 150)}) / 100.0, 2),
       CASE WHEN i % 9 <> 0 THEN 1 + ${h('i', 111, 450)} END, split_part(x.e, '|', 6),
       CASE WHEN split_part(x.e, '|', 5) = 't' OR x.e LIKE '65%' THEN ${pick(['Q', 'R', 'S', 'A'], 'i', 114)} ELSE '0' END,
       split_part(x.e, '|', 5)::boolean, i % 13 = 0
     FROM generate_series(1, 3000) i
     CROSS JOIN LATERAL (SELECT ${pick(items, 'i', 112)} AS e, ${pick(['01', '01', '01', '00', '00', '12', '21', '99'], 'i', 113)} AS cc,
       lpad(${scramble('i', 23)}::text, 7, '0') AS n7) x`,
    `CREATE TABLE logistics.inventory (
      depot_id integer NOT NULL, nsn char(16) NOT NULL, condition_code char(1) NOT NULL, on_hand_qty integer NOT NULL,
      reserved_qty integer NOT NULL, reorder_point integer NOT NULL, bin_location text NOT NULL,
      last_counted_on date NOT NULL)`,
    // Row i stocks depot 1 + (i-1) % 24; the part index walks so that every (depot, part) pair is distinct.
    `INSERT INTO logistics.inventory
     SELECT 1 + (i - 1) % 24, p.nsn, ${pick(['A', 'A', 'A', 'A', 'A', 'B', 'C', 'F', 'H'], 'i', 120)}, q.on_hand,
       least(q.on_hand, ${h('i', 121, 40)}), 5 + ${h('i', 122, 60)},
       'R' || lpad((1 + ${h('i', 123, 40)})::text, 2, '0') || '-B' || lpad((1 + ${h('i', 124, 20)})::text, 2, '0') || '-L' || (1 + ${h('i', 125, 6)}),
       ${asOf} - ${h('i', 126, 400)}
     FROM generate_series(1, 18000) i
     JOIN ${partByRank} p ON p.rn = 1 + (((i - 1) / 24) * 4 + (i - 1) % 24) % 3000
     CROSS JOIN LATERAL (SELECT CASE WHEN ${h('i', 127, 20)} = 0 THEN 0 ELSE ${h('i', 128, 500)} END AS on_hand) q`,
    `CREATE TABLE logistics.requisitions (
      requisition_id integer NOT NULL, document_number char(14) NOT NULL, nsn char(16) NOT NULL,
      requesting_unit_id integer NOT NULL, requested_by integer NOT NULL, quantity integer NOT NULL CHECK (quantity > 0),
      priority_designator char(2) NOT NULL, required_delivery_date date NOT NULL, source_depot_id integer,
      status text NOT NULL, created_on date NOT NULL)`,
    `INSERT INTO logistics.requisitions
     SELECT i, u.dodaac || to_char(x.created, 'YDDD') || ${base36('i', 4)}, p.nsn, pe.unit_id, pe.person_id,
       1 + ${h('i', 130, 20)}, x.pri, x.created + CASE WHEN x.pri <= '03' THEN 3 + ${h('i', 131, 5)} ELSE 10 + ${h('i', 131, 35)} END,
       CASE WHEN x.status NOT IN ('Open', 'Cancelled') THEN 1 + ${h('i', 132, 24)} END, x.status, x.created
     FROM generate_series(1, 30000) i
     CROSS JOIN LATERAL (SELECT ${asOf} - ${h('i', 133, 730)} AS created,
       ${pick(['02', '03', '05', '06', '09', '12', '13', '13', '15', '15'], 'i', 134)} AS pri) c
     CROSS JOIN LATERAL (SELECT c.*, CASE WHEN c.created > ${asOf} - 5 THEN 'Open' WHEN i % 23 = 0 THEN 'Cancelled'
       WHEN i % 11 = 0 AND c.created > ${asOf} - 120 THEN 'Backordered' WHEN c.created > ${asOf} - 20 THEN 'Shipped'
       ELSE 'Received' END AS status) x
     JOIN personnel.people pe ON pe.person_id = 1 + ${h('i', 135, 6000)}
     JOIN personnel.units u ON u.unit_id = pe.unit_id
     JOIN ${partByRank} p ON p.rn = 1 + ${h('i', 136, 3000)}`,
    `CREATE TABLE logistics.shipments (
      shipment_id integer NOT NULL, tcn char(17) NOT NULL, requisition_id integer,
      origin_depot_id integer NOT NULL, destination_unit_id integer, destination_depot_id integer,
      transport_mode text NOT NULL, carrier text NOT NULL, carrier_contract_id integer, shipped_on date NOT NULL,
      expected_delivery_on date NOT NULL, delivered_on date, status text NOT NULL, weight_lb numeric(10,1) NOT NULL,
      pieces integer NOT NULL, CHECK (num_nonnulls(destination_unit_id, destination_depot_id) = 1))`,
    // Issues against requisitions (every 7th split into two shipments), then depot-to-depot transfers.
    insertShipments(`SELECT (row_number() OVER (ORDER BY r.requisition_id, part))::int AS id, r.requisition_id,
       r.source_depot_id AS origin, r.requesting_unit_id AS dest_unit, NULL::integer AS dest_depot,
       least(r.created_on + 1 + 3 * (part - 1) + ${h('r.requisition_id * 2 + part', 148, 5)}, ${asOf}) AS shipped,
       CASE WHEN r.priority_designator <= '03' THEN 'Air'
         ELSE ${pick(list('Truck; Truck; Truck; Parcel; Parcel; Rail; Ocean'), 'r.requisition_id', 149)} END AS mode,
       r.status = 'Received' AS will_deliver
     FROM logistics.requisitions r CROSS JOIN generate_series(1, 2) part
     WHERE r.status IN ('Shipped', 'Received') AND (part = 1 OR r.requisition_id % 7 = 0)`),
    insertShipments(`SELECT ((SELECT max(shipment_id) FROM logistics.shipments) + i)::int AS id, NULL::integer AS requisition_id,
       o.origin, NULL::integer AS dest_unit, 1 + (o.origin + ${h('i', 150, 23)}) % 24 AS dest_depot, o.shipped,
       ${pick(['Truck', 'Truck', 'Rail'], 'i', 152)} AS mode, i % 499 <> 0 AND o.shipped < ${asOf} - 30 AS will_deliver
     FROM generate_series(1, 12000) i
     CROSS JOIN LATERAL (SELECT 1 + ${h('i', 153, 24)} AS origin, ${asOf} - ${h('i', 151, 720)} AS shipped) o`),
    `CREATE TABLE logistics.shipment_events (
      shipment_id integer NOT NULL, event_code char(2) NOT NULL, event_description text NOT NULL,
      event_at timestamp NOT NULL, location_city text, location_state char(2), reported_by text NOT NULL,
      received_at timestamp NOT NULL)`,
    `INSERT INTO logistics.shipment_events
     SELECT s.shipment_id, e.code, e.descr, e.at, CASE WHEN e.code = 'AF' THEN o.city ELSE coalesce(u.station, dd.city) END,
       CASE WHEN e.code = 'AF' THEN o.state ELSE coalesce(u.station_state, dd.state) END,
       CASE WHEN s.carrier LIKE 'AMC%' THEN 'AMC GATES' ELSE 'Carrier EDI 214' END,
       e.at + (5 + ${h('s.shipment_id * 4 + e.n', 160, 85)}) * interval '1 minute'
     FROM logistics.shipments s JOIN logistics.depots o ON o.depot_id = s.origin_depot_id
     LEFT JOIN personnel.units u ON u.unit_id = s.destination_unit_id
     LEFT JOIN logistics.depots dd ON dd.depot_id = s.destination_depot_id
     CROSS JOIN LATERAL (VALUES
       (1, 'AF', 'Departed pickup location', s.shipped_on + time '08:00' + ${minutes('s.shipment_id', 161, 480)}),
       (2, 'X1', 'Arrived at delivery location', s.delivered_on + time '07:00' + ${minutes('s.shipment_id', 162, 180)}),
       (3, 'D1', 'Delivered', s.delivered_on + time '10:30' + ${minutes('s.shipment_id', 163, 300)}),
       (4, 'SD', 'Shipment delayed', CASE WHEN s.status = 'Delayed' THEN s.expected_delivery_on + time '18:00' END)
     ) e(n, code, descr, at)
     WHERE s.shipped_on >= ${asOf} - 180 AND e.at IS NOT NULL`,
    // Planted defects: the EDI feed replayed one batch (412 exact duplicates), and a carrier reported 29 moves
    // under shipment ids that were never registered (orphans).
    `INSERT INTO logistics.shipment_events
     SELECT * FROM logistics.shipment_events WHERE event_code = 'AF' ORDER BY shipment_id LIMIT 412`,
    `INSERT INTO logistics.shipment_events
     SELECT 900000 + 7 * k, 'AF', 'Departed pickup location', (${asOf} - 5 * k) + time '09:15', 'Memphis', 'TN',
       'Carrier EDI 214', (${asOf} - 5 * k) + time '09:40'
     FROM generate_series(1, 29) k`,
    // A feed that stopped when bulk fuel accounting moved to another system: nothing after 31 March 2021.
    `CREATE TABLE logistics.depot_fuel_issues (
      issue_id integer NOT NULL, depot_id integer NOT NULL, issued_on date NOT NULL, fuel_type text NOT NULL,
      gallons numeric(10,1) NOT NULL, receiving_unit_id integer, document_number text, last_updated timestamp NOT NULL)`,
    `INSERT INTO logistics.depot_fuel_issues
     SELECT i, 1 + ${h('i', 170, 24)}, x.d, ${pick(['JP-8', 'JP-8', 'F-24', 'DF-2', 'MOGAS'], 'i', 171)},
       round((50 + ${h('i', 172, 8000)}) * 1.25, 1), 1 + ${h('i', 173, 120)},
       'FI' || to_char(x.d, 'YYMMDD') || lpad(i::text, 5, '0'), x.d + 1 + time '02:15'
     FROM generate_series(1, 5000) i CROSS JOIN LATERAL (SELECT DATE '2017-10-01' + ((i - 1) * 1277) / 4999 AS d) x`,
    'CREATE INDEX shipments_requisition_id_idx ON logistics.shipments (requisition_id)',
    'CREATE INDEX requisitions_nsn_idx ON logistics.requisitions (nsn)',
  ];
}

/** Keys and foreign keys of the logistics schema (into personnel and contracts), added once every schema is filled. */
export function logisticsConstraints(): string[] {
  return [
    keys('logistics.depots', 'depot_id', 'dodaac'),
    keys('logistics.parts', 'nsn', 'niin'),
    keys('logistics.inventory', 'depot_id, nsn'),
    keys('logistics.requisitions', 'requisition_id', 'document_number'),
    keys('logistics.shipments', 'shipment_id', 'tcn'),
    keys('logistics.depot_fuel_issues', 'issue_id'),
    foreignKey('logistics.depots', 'operating_unit_id', 'personnel.units (unit_id)'),
    foreignKey('logistics.parts', 'manufacturer_vendor_id', 'contracts.vendors (vendor_id)'),
    foreignKey('logistics.inventory', 'depot_id', 'logistics.depots (depot_id)'),
    foreignKey('logistics.inventory', 'nsn', 'logistics.parts (nsn)'),
    foreignKey('logistics.requisitions', 'nsn', 'logistics.parts (nsn)'),
    foreignKey('logistics.requisitions', 'requesting_unit_id', 'personnel.units (unit_id)'),
    foreignKey('logistics.requisitions', 'requested_by', 'personnel.people (person_id)'),
    foreignKey('logistics.requisitions', 'source_depot_id', 'logistics.depots (depot_id)'),
    foreignKey('logistics.shipments', 'requisition_id', 'logistics.requisitions (requisition_id)'),
    foreignKey('logistics.shipments', 'origin_depot_id', 'logistics.depots (depot_id)'),
    foreignKey('logistics.shipments', 'destination_unit_id', 'personnel.units (unit_id)'),
    foreignKey('logistics.shipments', 'destination_depot_id', 'logistics.depots (depot_id)'),
    foreignKey('logistics.shipments', 'carrier_contract_id', 'contracts.contracts (contract_id)'),
    foreignKey('logistics.depot_fuel_issues', 'depot_id', 'logistics.depots (depot_id)'),
  ];
}
