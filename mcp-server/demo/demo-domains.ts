/** The four data domains of the demo workspace. */
export type DemoDomainId = 'contracts' | 'performance' | 'personnel' | 'logistics';

export interface DemoDomain {
  id: DemoDomainId;
  name: string;
  description: string;
  /** Need-to-know: only principals assigned to the domain may learn that its assets exist. */
  restricted: boolean;
}

export const demoDomains: DemoDomain[] = [
  {
    id: 'contracts',
    name: 'Contracts and Spend',
    description: 'Contract awards, line items, obligations, payments, subawards and the vendors that hold them.',
    restricted: false,
  },
  {
    id: 'performance',
    name: 'Contractor Performance',
    description:
      'CPARS-style evaluations, contractor responses, corrective action requests and special program reviews.',
    restricted: false,
  },
  {
    id: 'personnel',
    name: 'Personnel',
    description: 'People, security clearances, units and assignments. Contains PII; access is on a need-to-know basis.',
    restricted: true,
  },
  {
    id: 'logistics',
    name: 'Logistics',
    description: 'Depots, the NSN parts catalog, inventory, requisitions, shipments and carrier tracking events.',
    restricted: false,
  },
];
