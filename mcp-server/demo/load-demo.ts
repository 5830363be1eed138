import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { annotateAssets, defineDomains } from '../catalog/annotate.js';
import { type SyncSummary, syncSource } from '../catalog/sync.js';
import { assetUrn } from '../catalog/urn.js';
import { createPostgresConnector } from '../connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../context.js';
import { requireRole } from '../governance/access.js';
import { setClassification } from '../governance/markings.js';
import { addDomainMember, upsertPrincipal } from '../governance/principals.js';
import { applyRulesYaml } from '../quality/rules-yaml.js';
import { demoAnnotations } from './demo-annotations.js';
import { demoDomains } from './demo-domains.js';
import { loadDemoGovernance } from './demo-governance.js';
import { loadDemoPipelines } from './demo-pipelines.js';
import { demoPrincipals } from './demo-principals.js';
import { demoSchemaStatements } from './demo-schema-statements.js';
import { loadDemoSocialHistory } from './demo-social.js';
import { type DemoStorage, openDemoSource } from './demo-source.js';

export const demoSourceName = 'demo';
/** The demo's quality rules, in the format `dataops quality apply` reads. */
const demoRulesFile = fileURLToPath(new URL('./demo-quality-rules.yml', import.meta.url));
const demoSchemas = ['contracts', 'performance', 'personnel', 'logistics'];

/** Where the demo goes and who loads it: a runtime's storage and contexts, acting as `ctx.principal`. */
export interface DemoTarget {
  ctx: ServiceContext;
  storage: DemoStorage;
  contextFor(principalId: string): Promise<ServiceContext>;
}

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
  ws: DemoTarget,
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
    const connector = createPostgresConnector({ url: source.url, name: demoSourceName, schemas: demoSchemas });
    summary = await syncSource(ws.ctx, await connector.discover(), {
      scope: demoSchemas,
      relocate: true,
      connection: source.connection,
    });
    await defineDomains(ws.ctx, demoDomains);
    for (const principal of demoPrincipals) await upsertPrincipal(ws.ctx.db, principal);
    // Whoever loads the demo may see all of it, restricted personnel data included.
    for (const domain of demoDomains) await addDomainMember(ws.ctx.db, domain.id, ws.ctx.principal.id);
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
  if (ws.storage.dataDir) await writeFile(demoLoadedMarker(ws.storage.dataDir), `${new Date().toISOString()}\n`);
  return summary;
}

/**
 * Written beside an embedded catalog once the whole demo is in: a start stopped halfway through leaves
 * assets without it, and the next start finishes the load (every step of it may run again).
 */
export function demoLoadedMarker(dataDir: string): string {
  return path.join(dataDir, 'demo-loaded');
}
