import type { DomainHooks } from './context.js';
import { syncViewLineage } from './lineage/view-lineage.js';
import { recordAssertions } from './quality/rules-openlineage.js';

/**
 * The reactions of domains to each other's writes, wired here, above them, so no domain imports the one
 * that reacts: assertions in OpenLineage events become quality rules and results; a source sync refreshes
 * its views' lineage. Every service context carries these.
 */
export const domainHooks: DomainHooks = {
  openLineageRecorded: recordAssertions,
  sourceSynced: syncViewLineage,
};
