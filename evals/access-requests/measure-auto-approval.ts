/**
 * How many access requests the auto-approval rule settles without a person, on the demo workspace.
 *
 * Loads the demo into a fresh embedded catalog (as `dataops demo` does), then lets every demo principal ask
 * for ten assets, drawn with a fixed seed: seven in eight from the domains they work in, the rest from other
 * domains, whatever their marking (people ask for what they hear of, not only for what they may have).
 * Prints each outcome and the share approved by the rule. Run: `npx tsx evals/access-requests/measure-auto-approval.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assetUrn } from '../../mcp-server/catalog/urn.js';
import { demoAnnotations } from '../../mcp-server/demo/demo-annotations.js';
import { demoPrincipals } from '../../mcp-server/demo/demo-principals.js';
import { demoSourceName, loadDemo } from '../../mcp-server/demo/load-demo.js';
import { clearanceAllows } from '../../mcp-server/governance/access.js';
import { requestAccess } from '../../mcp-server/governance/access-requests.js';
import { localAdminId } from '../../mcp-server/governance/principals.js';
import { readConfig } from '../../mcp-server/runtime/config.js';
import { openRuntime } from '../../mcp-server/runtime/open-runtime.js';
import { createRng } from '../bench/search/prng.js';

const requestsPerPrincipal = 10;
const inDomainShare = 7 / 8;

const purposes = [
  'Monthly obligations reconciliation for the program office',
  'Answering a congressional inquiry on contract spend',
  'Readiness dashboard refresh for the depot commanders',
  'Cross-checking vendor performance before an award decision',
  'Audit support for the inspector general',
];

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-access-eval-'));
  const ws = await openRuntime(readConfig({ db: dir }));
  try {
    await loadDemo({ ...ws, ctx: await ws.contextFor(localAdminId) }, (m) => process.stderr.write(`${m}\n`));
    const assets = Object.entries(demoAnnotations).map(([qualifiedName, a]) => {
      const [namespace, name] = qualifiedName.split('.') as [string, string];
      return { qualifiedName, urn: assetUrn('postgres', demoSourceName, namespace, name), ...a };
    });
    const rng = createRng(20261126);
    const outcomes = { auto: 0, pending: 0, refused: 0 };
    const lines: string[] = [];
    for (const person of demoPrincipals) {
      const ctx = await ws.contextFor(person.id);
      const mine = assets.filter((a) => person.domains.includes(a.domain));
      const others = assets.filter((a) => !person.domains.includes(a.domain));
      const asked = new Set<string>();
      while (asked.size < requestsPerPrincipal) {
        const pool = others.length === 0 || rng.chance(inDomainShare) ? mine : others;
        const asset = rng.pick(pool);
        if (asked.has(asset.urn)) continue;
        asked.add(asset.urn);
        const purpose = rng.pick(purposes);
        const result = await requestAccess(ctx, { urn: asset.urn, purpose, days: rng.pick([7, 30, 90]) }).catch(
          (error: { code?: string }) => {
            if (error.code !== 'not_found') throw error;
            return null;
          },
        );
        // A hidden asset the requester is cleared for still reaches its owners; above clearance nothing is recorded.
        const outcome =
          result?.status === 'approved'
            ? 'auto'
            : result !== null || clearanceAllows(person.clearance, asset.classification)
              ? 'pending'
              : 'refused';
        outcomes[outcome] += 1;
        lines.push(
          `${person.id.padEnd(13)} ${person.clearance.padEnd(2)} ${asset.qualifiedName.padEnd(44)} ${asset.classification.padEnd(2)} ${
            { auto: 'approved by rule', pending: 'waits for an owner', refused: 'not cleared: not found' }[outcome]
          }`,
        );
      }
    }
    const total = outcomes.auto + outcomes.pending + outcomes.refused;
    const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
    process.stdout.write(`${lines.join('\n')}\n\n`);
    process.stdout.write(
      `${total} requests from ${demoPrincipals.length} demo principals\n` +
        `  approved by rule without a person: ${outcomes.auto} (${pct(outcomes.auto)})\n` +
        `  waiting for an owner or steward:   ${outcomes.pending} (${pct(outcomes.pending)})\n` +
        `  above the requester's clearance (answered "not found", nothing recorded): ${outcomes.refused} (${pct(outcomes.refused)})\n`,
    );
  } finally {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
