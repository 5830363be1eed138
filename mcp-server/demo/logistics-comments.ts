import { commentStatements } from './deterministic-sql.js';

/** Descriptions of the logistics schema. depot_fuel_issues was never documented (and is no longer loaded). */
export function logisticsComments(): string[] {
  return [
    ...commentStatements(
      'logistics.depots',
      'Storage and maintenance depots (DLA distribution centers, service depots, fleet logistics centers).',
      {
        dodaac: 'DoD Activity Address Code of the depot; prefixes every TCN it ships.',
        state: 'NULL for depots outside the US.',
        operating_unit_id: 'Command that operates the depot (personnel.units).',
      },
    ),
    ...commentStatements(
      'logistics.parts',
      'NSN catalog: items of supply the enterprise stocks, from the Federal Logistics Information System (FLIS) subscription.',
      {
        nsn: 'National Stock Number: FSC (4) - NATO country code (2) - item number (7).',
        niin: 'National Item Identification Number: country code plus item number, unique.',
        fsc: 'Federal Supply Class.',
        unit_of_issue: 'EA each, HD hundred, BX box, PR pair, BT bottle, CN can, GL gallon.',
        unit_price: 'Standard unit price, USD.',
        manufacturer_vendor_id:
          'Primary manufacturer when it is one of our vendors (contracts.vendors); NULL for commercial items.',
        demil_code: 'Demilitarization code; anything other than A needs controlled disposal.',
        shelf_life_code: '0 means no shelf life.',
        is_critical: 'Critical safety item.',
      },
    ),
    ...commentStatements(
      'logistics.inventory',
      'On-hand balances by depot and NSN from the warehouse management system, refreshed nightly.',
      {
        condition_code:
          'Supply condition code: A serviceable, B/C serviceable with limits, F unserviceable reparable, H condemned.',
        reserved_qty: 'Quantity committed to open requisitions.',
        reorder_point: 'Replenishment is triggered when on_hand_qty - reserved_qty falls below this.',
        last_counted_on: 'Last physical inventory count.',
      },
    ),
    ...commentStatements(
      'logistics.requisitions',
      'Supply requisitions (MILSTRIP) raised by units against the NSN catalog.',
      {
        document_number: 'MILSTRIP document number: requester DoDAAC, ordinal date (YDDD), serial.',
        requested_by: 'Person who raised the requisition (personnel.people).',
        priority_designator: 'Issue priority designator, 01 (highest) to 15.',
        source_depot_id: 'Depot filling the requisition; NULL until sourced.',
        status: 'Open, Backordered, Shipped, Received or Cancelled.',
      },
    ),
    ...commentStatements(
      'logistics.shipments',
      'Outbound shipments: issues against requisitions and depot-to-depot transfers. One requisition can ship in several pieces.',
      {
        tcn: 'Transportation Control Number (17 characters), unique.',
        requisition_id: 'NULL for depot-to-depot transfers.',
        destination_unit_id: 'Receiving unit; exactly one of destination_unit_id and destination_depot_id is set.',
        carrier_contract_id: 'Transportation contract that paid for the move (contracts.contracts).',
        delivered_on: 'Proof-of-delivery date; NULL until delivered.',
        status: 'In Transit, Delayed, Delivered or Lost.',
      },
    ),
    ...commentStatements(
      'logistics.shipment_events',
      'Carrier tracking events (EDI 214 and AMC GATES), appended as received. No key: the feed can deliver the same event twice.',
      { event_code: 'EDI 214 shipment status code: AF departed, X1 arrived, D1 delivered, SD delayed.' },
    ),
  ];
}
