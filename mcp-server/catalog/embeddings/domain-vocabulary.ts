/**
 * Words a data catalog for government, defense and business teams must understand even when they are rare in
 * general English. The build script keeps every one of them (and their close neighbours) in the shipped word
 * vectors, whatever their frequency; the tests check that each one is known.
 */
const AREAS = {
  data: `data dataset datasets database databases table tables column columns row rows record records field fields
    schema schemas catalog catalogue metadata lineage pipeline pipelines query queries sql warehouse lake
    analytics analysis analyst report reports reporting dashboard dashboards metric metrics dimension measure
    attribute attributes value values key keys identifier identifiers index code codes category categories
    type types format file files csv json xml spreadsheet archive repository source sources target extract
    transform load ingest ingestion export import sync snapshot backup replica partition timestamp date dates
    time year years month months week day days hour hours minute quarter quarterly annual monthly weekly daily
    fiscal calendar period periods history historical version versions status flag indicator count total sum
    average mean median minimum maximum percent percentage ratio rate score rank quality accuracy completeness
    validity duplicate duplicates missing null error errors anomaly outlier profile statistics sample
    classification classified unclassified confidential secret sensitive restricted privacy personal private
    public open access permission owner steward stewardship governance policy policies compliance audit
    retention consent lookup reference master transaction transactions event events log logs stream sensor
    telemetry measurement observation observations forecast prediction model models feature features label
    identifier name names description title comment comments tag tags text document documents email phone
    address addresses street city county state province region country postal zip latitude longitude location
    geographic geospatial coordinates map boundary area population census survey demographic demographics`,
  business: `customer customers client clients account accounts order orders purchase purchases sale sales sell
    seller buyer product products item items sku catalog price prices pricing discount cost costs margin
    revenue revenues profit profits loss losses income sales market marketing campaign lead leads opportunity
    pipeline forecast quota segment channel retail wholesale store stores shop ecommerce subscription
    subscriber churn retention loyalty promotion brand advertising partner partners supplier suppliers vendor
    vendors contractor contractors subcontractor manufacturer distributor merchant provider consumer consumers
    service services support ticket tickets complaint feedback satisfaction rating review reviews survey
    project projects program programs portfolio initiative milestone deliverable schedule plan planning
    strategy operations operational performance productivity efficiency objective objectives target goals
    enterprise company companies corporation business businesses organization organizations subsidiary
    division department departments unit units branch office headquarters facility facilities site sites`,
  finance: `finance financial budget budgets budgeting appropriation appropriations allocation obligation
    obligations expenditure expenditures expense expenses spend spending outlay outlays disbursement
    disbursements payment payments payable receivable receivables invoice invoices billing bill bills receipt
    receipts refund refunds ledger journal accounting accountant bookkeeping audit auditor balance balances
    asset assets liability liabilities equity debt debts loan loans credit debit interest principal mortgage
    collateral capital investment investments investor investors fund funds funding grant grants award awards
    contract contracts contracting procurement acquisition acquisitions solicitation bid bids bidder tender
    proposal award obligation agreement agreements lease leases rent tax taxes taxation tariff tariffs duty
    customs revenue treasury bond bonds securities stock stocks shares dividend dividends portfolio currency
    currencies dollar dollars euro exchange inflation deficit surplus subsidy subsidies reimbursement
    compensation salary salaries wage wages payroll bonus pension pensions benefits allowance stipend fee fees
    fine fines penalty penalties fraud waste abuse overrun overruns cash liquidity solvency insurance premium
    claim claims actuarial valuation depreciation amortization accrual accruals reconciliation`,
  government: `government governments federal agency agencies administration administrative bureau ministry
    department secretary commission committee council congress congressional senate legislature legislative
    legislation law laws statute statutes regulation regulations regulatory rule rules ordinance executive
    judicial court courts justice attorney prosecution prosecutor lawsuit litigation case cases docket permit
    permits license licenses licensing certification inspection inspections enforcement oversight inspector
    citizen citizens resident residents immigration visa passport border customs election elections voter
    voters ballot census municipality municipal county counties city cities town state states territory
    tribal public welfare medicaid medicare benefit benefits eligibility enrollment program grants housing
    transportation infrastructure highway highways transit utility utilities water energy environment
    environmental emissions pollution health healthcare hospital hospitals patient patients clinic medical
    diagnosis treatment pharmacy prescription disease diseases vaccine vaccination mortality education school
    schools student students teacher teachers university enrollment graduation police crime crimes arrest
    arrests incident incidents emergency disaster disasters fire safety veterans veteran`,
  defense: `defense defence military army navy naval marine marines airforce force forces command commander
    commanders headquarters battalion brigade regiment division squadron fleet wing corps unit units troop
    troops soldier soldiers sailor sailors airman airmen officer officers enlisted rank ranks sergeant captain
    colonel general admiral lieutenant deployment deployments deployed mission missions operation operations
    readiness training exercise exercises combat battle warfare weapon weapons weaponry munitions ammunition
    missile missiles aircraft helicopter helicopters vehicle vehicles tank tanks ship ships submarine vessel
    vessels radar sensor satellite satellites drone drones intelligence surveillance reconnaissance
    cyber cybersecurity security threat threats threat vulnerability vulnerabilities incident clearance
    clearances classified secret confidential declassified nuclear strategic tactical logistics materiel
    sustainment maintenance repair overhaul spare spares armament ordnance installation installations base
    bases garrison theater coalition allied allies nato pentagon contractor contractors acquisition
    procurement requirement requirements capability capabilities casualty casualties medevac`,
  logistics: `logistics logistic supply supplies supplier shipment shipments shipping ship shipped freight cargo
    carrier carriers transport transportation delivery deliveries deliver delivered dispatch route routes
    routing fleet truck trucks trucking rail railway container containers port ports airport terminal dock
    warehouse warehouses warehousing distribution depot inventory inventories stock stockpile storage bin
    pallet pallets package packages parcel parcels tracking tracker manifest consignment customs import imports
    export exports origin destination transit lead replenishment reorder fulfillment picking packing
    receiving requisition requisitions demand forecast lot batch serial part parts component components
    assembly material materials equipment spare quantity quantities unit weight volume dimensions capacity
    utilization schedule delay delays arrival departure eta lane mileage fuel vehicle maintenance`,
  personnel: `personnel staff staffing employee employees employer employment workforce worker workers labor
    labour hire hiring hired recruit recruitment recruiting recruiter applicant applicants candidate
    candidates onboarding termination terminated resignation retirement retired retiree retirees attrition
    turnover headcount position positions job jobs role roles title occupation occupational grade grades pay
    salary salaries wage wages compensation overtime leave absence vacation sick holiday holidays shift shifts
    schedule timesheet timesheets attendance payroll benefits pension training skill skills qualification
    qualifications certification performance appraisal evaluation promotion promotions transfer manager
    managers supervisor supervisors team teams contractor volunteer volunteers civilian civilians human
    resources birth birthday age gender ethnicity race nationality marital dependent dependents spouse
    education degree diploma resume contact emergency badge identification social security`,
};

/** Every domain word, lowercase, deduplicated, in a stable order. */
export const DOMAIN_VOCABULARY: readonly string[] = [
  ...new Set(
    Object.values(AREAS)
      .join(' ')
      .split(/\s+/)
      .filter((word) => word.length > 0),
  ),
];
