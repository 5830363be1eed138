/**
 * What the demo's people said and did in the weeks before the workspace is opened: ratings, discussions,
 * follows and the groups of assets each of them works with (from which usage is generated). Assets are
 * `schema.table` names of the demo database; every one is visible to the person acting on it.
 */

export interface DemoRating {
  by: string;
  asset: string;
  stars: number;
  review?: string;
  daysAgo: number;
}

export interface DemoThread {
  asset: string;
  by: string;
  body: string;
  daysAgo: number;
  replies: { by: string; body: string; daysAgo: number }[];
}

export const demoRatings: DemoRating[] = [
  {
    by: 'a.chen',
    asset: 'contracts.vendor_spend_by_fy',
    stars: 5,
    review: 'The one I use for every spend question; totals tie out to the ledger.',
    daysAgo: 30,
  },
  {
    by: 'a.chen',
    asset: 'contracts.payments',
    stars: 4,
    review: 'Complete since FY22. Earlier years miss some invoices.',
    daysAgo: 26,
  },
  { by: 'a.chen', asset: 'logistics.depot_stock_value', stars: 4, daysAgo: 12 },
  {
    by: 't.brooks',
    asset: 'logistics.shipments',
    stars: 4,
    review: 'Good coverage; carrier codes need the lookup in shipment_events.',
    daysAgo: 21,
  },
  { by: 't.brooks', asset: 'logistics.open_shipments', stars: 5, daysAgo: 6 },
  {
    by: 'd.kowalski',
    asset: 'logistics.inventory',
    stars: 3,
    review: 'The Monday load lands late while the depot system is patched: check last modified before trusting it.',
    daysAgo: 9,
  },
  {
    by: 'd.kowalski',
    asset: 'logistics.depot_stock_value',
    stars: 5,
    review: 'Valued at standard unit price, reconciled with the depots every month.',
    daysAgo: 33,
  },
  { by: 'j.alvarez', asset: 'contracts.contracts', stars: 5, review: 'System of record for awards.', daysAgo: 38 },
  { by: 'j.alvarez', asset: 'contracts.contract_burn_rate', stars: 4, daysAgo: 15 },
  {
    by: 'm.okafor',
    asset: 'performance.vendor_scorecard',
    stars: 4,
    review: 'Weights were revised for FY25; older scores are not comparable one to one.',
    daysAgo: 18,
  },
  {
    by: 'm.okafor',
    asset: 'contracts.subcontract_reports',
    stars: 2,
    review: 'Many reports from small primes are missing; do not sum subaward totals from this alone.',
    daysAgo: 11,
  },
  { by: 'k.washington', asset: 'performance.sap_program_reviews', stars: 4, daysAgo: 24 },
  {
    by: 'r.patel',
    asset: 'personnel.roster',
    stars: 4,
    review: 'Use this view rather than people: it leaves out the PII columns.',
    daysAgo: 20,
  },
  { by: 's.nguyen', asset: 'contracts.contract_burn_rate', stars: 4, daysAgo: 4 },
  { by: 's.nguyen', asset: 'logistics.open_shipments', stars: 4, daysAgo: 3 },
];

export const demoThreads: DemoThread[] = [
  {
    asset: 'contracts.vendor_spend_by_fy',
    by: 'a.chen',
    body: 'Does FY here mean the federal fiscal year (October to September)? @m.okafor',
    daysAgo: 16,
    replies: [
      {
        by: 'm.okafor',
        body: 'Yes, the federal fiscal year. @a.chen the FY26 rows stay partial until the year closes.',
        daysAgo: 15,
      },
      { by: 'a.chen', body: 'Thanks, that explains the dip in the chart.', daysAgo: 15 },
    ],
  },
  {
    asset: 'logistics.shipments',
    by: 't.brooks',
    body: 'Shipments to depot 12 show no delivery events since last Tuesday. @d.kowalski can you check the carrier feed?',
    daysAgo: 8,
    replies: [
      {
        by: 'd.kowalski',
        body: 'The carrier feed was down Tuesday; the backfill ran overnight and the events are complete now.',
        daysAgo: 7,
      },
    ],
  },
  {
    asset: 'performance.evaluations',
    by: 'm.okafor',
    body: '@j.alvarez the FY25 evaluations for the radar sustainment contract are in: Marginal to Satisfactory on schedule.',
    daysAgo: 13,
    replies: [{ by: 'j.alvarez', body: 'Good news, I will bring it to the award review.', daysAgo: 12 }],
  },
  {
    asset: 'personnel.clearances',
    by: 'r.patel',
    body: 'Reinvestigation dates were recomputed under the continuous vetting rules. @s.nguyen please refresh reinvestigations_due.',
    daysAgo: 5,
    replies: [{ by: 's.nguyen', body: 'Refreshed this morning.', daysAgo: 4 }],
  },
  {
    asset: 'logistics.inventory',
    by: 'd.kowalski',
    body: 'Heads up: Monday loads land around 09:00 instead of 06:00 while the depot system is being patched.',
    daysAgo: 9,
    replies: [],
  },
  {
    asset: 'contracts.contract_burn_rate',
    by: 'j.alvarez',
    body: 'Burn rate now counts deobligations as negative obligations, as finance asked.',
    daysAgo: 2,
    replies: [],
  },
];

export const demoFollows: { by: string; assets: string[]; domains: string[] }[] = [
  { by: 'a.chen', assets: ['contracts.vendor_spend_by_fy', 'contracts.payments'], domains: ['contracts'] },
  { by: 't.brooks', assets: ['logistics.shipments', 'logistics.open_shipments'], domains: [] },
  { by: 'd.kowalski', assets: [], domains: ['logistics'] },
  { by: 'j.alvarez', assets: ['contracts.contracts', 'performance.evaluations'], domains: [] },
  { by: 'm.okafor', assets: ['contracts.vendor_spend_by_fy'], domains: ['performance'] },
  { by: 'r.patel', assets: [], domains: ['personnel'] },
  { by: 'k.washington', assets: ['performance.sap_program_reviews'], domains: [] },
  { by: 's.nguyen', assets: ['personnel.clearances', 'contracts.contract_burn_rate'], domains: [] },
];

/** The groups of assets each person uses together in a working session; usage is drawn from them. */
export const demoWorkingSets: Record<string, string[][]> = {
  'a.chen': [
    ['contracts.vendor_spend_by_fy', 'contracts.payments', 'contracts.obligations', 'contracts.contracts'],
    ['logistics.depot_stock_value', 'logistics.inventory'],
  ],
  't.brooks': [['logistics.shipments', 'logistics.shipment_events', 'logistics.open_shipments', 'logistics.depots']],
  'd.kowalski': [
    ['logistics.inventory', 'logistics.requisitions', 'logistics.depot_stock_value', 'logistics.parts'],
    ['logistics.shipments', 'logistics.shipment_events', 'logistics.depots', 'logistics.depot_fuel_issues'],
  ],
  'j.alvarez': [
    ['contracts.contracts', 'contracts.contract_line_items', 'contracts.obligations', 'contracts.contract_burn_rate'],
    ['performance.evaluations', 'performance.vendor_scorecard', 'contracts.programs'],
  ],
  'm.okafor': [
    ['contracts.vendors', 'performance.vendor_scorecard', 'performance.evaluations', 'performance.vendor_responses'],
    ['contracts.vendor_spend_by_fy', 'contracts.payments', 'contracts.subcontract_reports'],
    ['performance.corrective_action_requests', 'performance.vendor_responses'],
  ],
  'r.patel': [
    ['personnel.people', 'personnel.assignments', 'personnel.units', 'personnel.roster'],
    ['personnel.clearances', 'personnel.reinvestigations_due'],
  ],
  'k.washington': [
    ['performance.sensitive_program_performance', 'performance.sap_program_reviews', 'contracts.programs'],
    ['performance.evaluations', 'performance.vendor_scorecard'],
  ],
  's.nguyen': [
    ['contracts.contract_burn_rate', 'contracts.vendor_spend_by_fy'],
    ['personnel.clearances', 'personnel.reinvestigations_due'],
    ['logistics.depot_fuel_issues', 'logistics.depot_stock_value', 'logistics.open_shipments'],
  ],
};

/**
 * A burst of the last ten days: the depot 12 carrier outage sent people to the open shipments, so
 * trending has a story to tell.
 */
export const demoRecentBurst = {
  days: 10,
  people: ['t.brooks', 'd.kowalski', 'a.chen', 's.nguyen'],
  assets: ['logistics.open_shipments', 'logistics.shipment_events', 'logistics.shipments'],
};
