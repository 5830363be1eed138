import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { annotateAssets, defineDomains } from '../mcp-server/catalog/annotate.js';
import type { SyncSummary } from '../mcp-server/catalog/sync.js';
import { assetUrn } from '../mcp-server/catalog/urn.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import { demoAnnotations } from '../mcp-server/demo/demo-annotations.js';
import { demoDomains } from '../mcp-server/demo/demo-domains.js';
import { loadDemoGovernance } from '../mcp-server/demo/demo-governance.js';
import { loadDemoPipelines } from '../mcp-server/demo/demo-pipelines.js';
import { demoPrincipals } from '../mcp-server/demo/demo-principals.js';
import { demoSchemaStatements } from '../mcp-server/demo/demo-schema-statements.js';
import { loadDemoSocialHistory } from '../mcp-server/demo/demo-social.js';
import { requireRole } from '../mcp-server/governance/access.js';
import { setClassification } from '../mcp-server/governance/markings.js';
import { addDomainMember, upsertPrincipal } from '../mcp-server/governance/principals.js';
import { applyRulesYaml } from '../mcp-server/quality/rules-yaml.js';
import { openDemoSource } from './demo-source.js';
import { ingest } from './ingest.js';
import type { Workspace } from './workspace.js';

export const demoSourceName = 'demo';
/** The demo's quality rules, in the format `dataops quality apply` reads. */
const demoRulesFile = fileURLToPath(new URL('../mcp-server/demo/demo-quality-rules.yml', import.meta.url));
const demoSchemas = ['contracts', 'performance', 'personnel', 'logistics'];

export interface LoadDemoOptions {
  /**
   * Save the demo's pipeline ("monthly contract spend by vendor") too (default true). Tests that build
   * their own pipelines from the same goals leave it out, so pipeline names and output tables stay theirs.
   */
  pipelines?: boolean;
}

/**
 * Loads the demo workspace the way a user's data arrives: the demo database is filled, read through the
 * real Postgres connector, then given the domains, owners, tags and markings a data team would add, and
 * the pipeline `pipelines_suggest` builds for "monthly contract spend by vendor".
 */
export async function loadDemo(
  ws: Workspace,
  log: (message: string) => void,
  options: LoadDemoOptions = {},
): Promise<SyncSummary> {
  requireRole(ws.ctx.principal, 'load the demo workspace', 'admin');
  const source = await openDemoSource(ws.storage);
  let summary: SyncSummary;
  try {
    log(`loading the demo database (contracts, performance, personnel, logistics) into ${source.location}`);
    await source.load(demoSchemaStatements());
    log('ingesting it through the Postgres connector');
    // On the embedded default the demo database is served on a new port each time: same source, new address.
    summary = await ingest(
      ws.ctx,
      createPostgresConnector({ url: source.url, name: demoSourceName, schemas: demoSchemas }),
      { scope: demoSchemas, relocate: true, connection: source.connection },
    );
    await defineDomains(ws.ctx, demoDomains);
    for (const principal of demoPrincipals) await upsertPrincipal(ws.database.db, principal);
    // Whoever loads the demo may see all of it, restricted personnel data included.
    for (const domain of demoDomains) await addDomainMember(ws.database.db, domain.id, ws.ctx.principal.id);
    await annotateAssets(
      ws.ctx,
      Object.entries(demoAnnotations).map(([qualifiedName, annotation]) => {
        const [namespace, name] = qualifiedName.split('.') as [string, string];
        return { urn: assetUrn('postgres', demoSourceName, namespace, name), ...annotation };
      }),
    );
    // Quality rules that find the defects planted in the demo data (checks run on the scheduler's first cycle).
    const rules = await applyRulesYaml(
      await ws.contextFor(ws.ctx.principal.id),
      await readFile(demoRulesFile, 'utf8'),
      'demo-quality-rules.yml',
    );
    if (rules.added.length) log(`added ${rules.added.length} quality rules`);
    // The roster view reads personnel.people (C) but keeps none of its personal columns: its owner's
    // downgrade is recorded, so lineage leaves it U until an input is marked above C. (A fresh context: the
    // memberships added above are not in ws.ctx yet.)
    await setClassification(await ws.contextFor(ws.ctx.principal.id), {
      urn: assetUrn('postgres', demoSourceName, 'personnel', 'roster'),
      classification: 'U',
      reason: 'The roster keeps no personal columns (no names, SSN, DoD ID, birth dates or addresses)',
    });
    const history = await loadDemoSocialHistory(ws.ctx);
    if (history) log(`added six weeks of ratings, discussions, follows and ${history.usageEvents} uses`);
    const governance = await loadDemoGovernance((id) => ws.contextFor(id));
    if (governance.certified) log(`added ${governance.policies} policies and ${governance.certified} certifications`);
  } finally {
    await source.close();
  }
  // After the source is closed: the pipeline test reads the embedded demo database, one opener at a time.
  if (options.pipelines !== false) {
    const pipelines = await loadDemoPipelines(await ws.contextFor(ws.ctx.principal.id));
    for (const name of pipelines.created) log(`added the pipeline "${name}" with a passing pipeline test`);
  }
  return summary;
}
