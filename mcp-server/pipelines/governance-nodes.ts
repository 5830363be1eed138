import { inArray, sql } from 'drizzle-orm';
import { queryRows, textArray } from '../../db/create-db.js';
import { domains } from '../../db/schema/index.js';
import type { Classification } from '../../db/schema/types.js';
import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { level } from '../governance/propagation.js';
import type { AnalyzedNode, PipelineAnalysis } from './analysis.js';
import { type NodeConfig, nodeModule } from './nodes/index.js';
import type { PipelineIssue } from './nodes/node-module.js';

/**
 * What the governance nodes `classify` and `restrict` (their modules are in `nodes/`) mean for the pipeline as
 * a whole: the marking each node's output carries, and the domains a destination's output belongs in. A
 * marking only ever rises on its way through a pipeline.
 */

export function higher(a: Classification | null | undefined, b: Classification | null | undefined) {
  if (!a) return b ?? null;
  if (!b) return a;
  return level(a) >= level(b) ? a : b;
}

/**
 * The least marking a node's output carries: a dataset's own marking, otherwise the highest of its inputs',
 * raised by a classify node's `asset` or a restrict node's `clearance`.
 */
export function nodeMarking(node: AnalyzedNode, upstream: AnalyzedNode[], datasetMarking?: Classification) {
  let marking: Classification | null = datasetMarking ?? null;
  for (const input of upstream) marking = higher(marking, input.marking);
  marking = higher(marking, nodeModule(node.type).raisesMarking?.(node.config));
  return marking ?? undefined;
}

/** A restrict node names a domain that exists and is restricted; otherwise it would restrict nobody. */
export async function checkRestrictDomains(
  ctx: ServiceContext,
  analysis: PipelineAnalysis,
  issues: PipelineIssue[],
): Promise<void> {
  const restricts = [...analysis.nodes.values()].filter(
    (n) => n.type === 'restrict' && (n.config as NodeConfig<'restrict'>).domain,
  );
  if (restricts.length === 0) return;
  const names = restricts.map((n) => (n.config as NodeConfig<'restrict'>).domain!);
  const found = await ctx.db
    .select({ id: domains.id, restricted: domains.restricted })
    .from(domains)
    .where(inArray(domains.id, names));
  for (const node of restricts) {
    const name = (node.config as NodeConfig<'restrict'>).domain!;
    const domain = found.find((d) => d.id === name);
    const problem = !domain
      ? `there is no domain \`${name}\`; name one of the workspace's domains (a steward creates them)`
      : !domain.restricted
        ? `domain \`${name}\` is open to everybody, so placing the output there restricts nobody; name a restricted domain`
        : null;
    if (problem) issues.push({ nodeId: node.node.id, message: `node \`${node.node.id}\` (restrict): ${problem}` });
  }
}

/**
 * An asset is in one domain: a destination whose data comes from more than one restricted domain (the tables
 * it reads, its restrict nodes) cannot be published without showing one domain's data to the other's outsiders.
 */
export async function checkDestinationDomains(
  ctx: ServiceContext,
  analysis: PipelineAnalysis,
  issues: PipelineIssue[],
): Promise<void> {
  for (const [id, node] of analysis.nodes) {
    if (node.type !== 'destination_table') continue;
    const named = await productDomains(ctx, analysis, id);
    if (named.size > 1) {
      issues.push({
        nodeId: id,
        message: `node \`${id}\` (destination_table): its data comes from restricted domains ${[...named].map((d) => `\`${d}\``).join(' and ')} (the tables it reads and its restrict nodes), but a table is in one domain; split the pipeline so each destination reads from one restricted domain`,
      });
    }
  }
}

/** The domains restrict nodes upstream of `nodeId` (or it itself) place its output in. */
export function restrictedDomains(analysis: PipelineAnalysis, nodeId: string, found = new Set<string>()): Set<string> {
  const node = analysis.nodes.get(nodeId);
  if (!node) return found;
  const domain = node.type === 'restrict' ? (node.config as NodeConfig<'restrict'>).domain : undefined;
  if (domain) found.add(domain);
  for (const input of node.inputs) restrictedDomains(analysis, input, found);
  return found;
}

/** The markings classify and restrict nodes upstream of `nodeId` ask for (the highest), apart from the data's own. */
export function requestedMarking(analysis: PipelineAnalysis, nodeId: string): Classification | null {
  let marking: Classification | null = null;
  const seen = new Set<string>();
  const visit = (id: string) => {
    const node = analysis.nodes.get(id);
    if (!node || seen.has(id)) return;
    seen.add(id);
    marking = higher(marking, nodeModule(node.type).raisesMarking?.(node.config));
    for (const input of node.inputs) visit(input);
  };
  visit(nodeId);
  return marking;
}

/**
 * The restricted domains a destination's output belongs in: those its restrict nodes name and those of every
 * catalog table it is built from (datasets, and the tables source queries name), so data behind a need-to-know
 * stays behind it in the product, whether or not the pipeline has a restrict node.
 */
export async function productDomains(ctx: ServiceContext, analysis: PipelineAnalysis, nodeId: string) {
  const found = restrictedDomains(analysis, nodeId);
  const urns = upstreamTableUrns(analysis, nodeId);
  if (urns.length === 0) return found;
  const rows = await queryRows<{ id: string }>(
    ctx.db,
    sql`select distinct d.id from assets a join domains d on d.id = a.domain_id
        where d.restricted and a.urn = any(${textArray(urns)}) order by d.id`,
  );
  for (const row of rows) found.add(row.id);
  return found;
}

/** Catalog URNs of the tables the nodes upstream of `nodeId` read. */
function upstreamTableUrns(analysis: PipelineAnalysis, nodeId: string): string[] {
  const urns = new Set<string>();
  const seen = new Set<string>();
  const visit = (id: string) => {
    const node = analysis.nodes.get(id);
    if (!node || seen.has(id)) return;
    seen.add(id);
    if (node.type === 'source_dataset') urns.add((node.config as NodeConfig<'source_dataset'>).urn);
    if (node.type === 'source_sql' && node.query) {
      const { source } = node.config as NodeConfig<'source_sql'>;
      for (const r of node.query.relations) urns.add(assetUrn('postgres', source, r.schema, r.name));
    }
    for (const input of node.inputs) visit(input);
  };
  visit(nodeId);
  return [...urns];
}
