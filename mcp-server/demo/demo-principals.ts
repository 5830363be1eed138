import type { Classification, Role } from '../../db/schema/types.js';
import type { DemoDomainId } from './demo-domains.js';

export interface DemoPrincipal {
  /** Principal id, also used as the owner of annotated assets. */
  id: string;
  displayName: string;
  clearance: Classification;
  roles: Role[];
  domains: DemoDomainId[];
}

/** People of the demo workspace, chosen so each access rule has someone it allows and someone it stops. */
export const demoPrincipals: DemoPrincipal[] = [
  {
    id: 'a.chen',
    displayName: 'Avery Chen (budget analyst)',
    clearance: 'U',
    roles: ['viewer'],
    domains: ['contracts', 'logistics'],
  },
  {
    id: 't.brooks',
    displayName: 'Taylor Brooks (logistics support contractor)',
    clearance: 'U',
    roles: ['viewer'],
    domains: ['logistics'],
  },
  {
    id: 'd.kowalski',
    displayName: 'Dan Kowalski (logistics data owner)',
    clearance: 'C',
    roles: ['viewer', 'steward', 'owner'],
    domains: ['logistics'],
  },
  {
    id: 'j.alvarez',
    displayName: 'Jordan Alvarez (contracts data owner)',
    clearance: 'S',
    roles: ['viewer', 'steward', 'owner'],
    domains: ['contracts', 'performance'],
  },
  {
    id: 'm.okafor',
    displayName: 'Maya Okafor (acquisition data steward)',
    clearance: 'S',
    roles: ['viewer', 'steward', 'owner'],
    domains: ['contracts', 'performance'],
  },
  {
    id: 'r.patel',
    displayName: 'Riya Patel (personnel records owner)',
    clearance: 'S',
    roles: ['viewer', 'steward', 'owner'],
    domains: ['personnel'],
  },
  {
    id: 'k.washington',
    displayName: 'Kim Washington (special programs security officer)',
    clearance: 'TS',
    roles: ['viewer', 'steward', 'owner'],
    domains: ['contracts', 'performance'],
  },
  {
    id: 's.nguyen',
    displayName: 'Sam Nguyen (platform administrator)',
    clearance: 'TS',
    roles: ['viewer', 'steward', 'owner', 'admin'],
    domains: ['contracts', 'performance', 'personnel', 'logistics'],
  },
];
