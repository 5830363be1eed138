import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '../cli/workspace.js';
import { isDataOpsError } from '../core/errors.js';
import { queryRows } from '../db/create-db.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { catalogTools } from '../mcp-server/catalog/tools.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { openDemoSource } from '../mcp-server/demo/demo-source.js';
import { classificationTools } from '../mcp-server/governance/classification-tools.js';
import { policyTools } from '../mcp-server/governance/policy-tools.js';
import { lineageTools } from '../mcp-server/lineage/tools.js';
import { runPipeline } from '../mcp-server/pipelines/run.js';
import { loadPipeline } from '../mcp-server/pipelines/store.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { analyzePipeline } from '../mcp-server/pipelines/validate.js';
import { ruleTools } from '../mcp-server/quality/rules-tools.js';
import { assetProfileTools } from '../mcp-server/read-models/asset-profile-tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import type { ToolDefinition } from '../mcp-server/tool.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';

const productUrn = demoUrn('contracts.vendor_evaluation_summary');
const tools = [
  ...pipelineTools,
  ...catalogTools,
  ...assetProfileTools,
  ...lineageTools,
  ...ruleTools,
  ...policyTools,
  ...classificationTools,
] as ToolDefinition[];

// biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
type Answer = Record<string, any>;

/** Calls a tool as every surface does (validated and audited). */
async function call(ctx: ServiceContext, name: string, args: Record<string, unknown>): Promise<Answer> {
  return (await runTool(tools.find((t) => t.name === name)!, args, ctx)) as Answer;
}

/** The error code and message a tool call fails with. */
async function refusal(ctx: ServiceContext, name: string, args: Record<string, unknown>) {
  try {
    await call(ctx, name, args);
  } catch (error) {
    if (isDataOpsError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`${name} succeeded`);
}

/**
 * "Vendor evaluation summary" on the demo workspace: CPARS-style evaluations (marked C) joined to contracts
 * and vendors (U), aggregated per vendor, validated, and published to the catalog by a production run.
 */
describe('a pipeline run that publishes a data product', () => {
  let ws: Workspace;
  let close: () => Promise<void>;
  let admin: ServiceContext;
  let id: string;

  beforeAll(async () => {
    ({ ws, close } = await openDemoWorkspace('dataops_demopublish'));
    // A fresh context: loading the demo made the local administrator a member of every demo domain.
    admin = await ws.contextFor(ws.ctx.principal.id);
  }, 240_000);
  afterAll(() => close?.());

  const add = (pipeline: string, args: Record<string, unknown>) =>
    call(admin, 'pipelines_add_node', { pipeline, ...args });
  const publish = async (pipeline: string) => {
    const { version } = await call(admin, 'pipelines_get', { pipeline });
    const run = await runPipeline(admin, pipeline, {
      trigger: 'manual',
      timeoutSeconds: 600,
      nodeStats: false,
      environment: 'prod',
      version,
      publish: true,
    });
    expect(run.status, run.error ?? '').toBe('succeeded');
    return run;
  };
  const currentEdges = (urn: string) =>
    queryRows<{ from_urn: string; n: number }>(
      admin.db,
      sql`select f.urn as from_urn, count(*)::int as n from lineage_edges e
          join assets f on f.id = e.from_asset_id join assets t on t.id = e.to_asset_id
          where t.urn = ${urn} and e.origin = 'pipeline' and e.valid_to is null group by f.urn`,
    );

  it('registers the destination as a data product with columns, owner, marking, lineage, rules and docs', async () => {
    ({ id } = await call(admin, 'pipelines_create', {
      name: 'vendor evaluation summary',
      description: 'How each vendor is rated across its contracts',
    }));
    await add(id, { id: 'evals', type: 'source_dataset', config: { urn: demoUrn('performance.evaluations') } });
    await add(id, {
      id: 'early',
      type: 'validate',
      after: 'evals',
      config: { rules: [{ check: 'not_null', column: 'contract_id' }] },
    });
    await add(id, {
      id: 'slim',
      type: 'select',
      after: 'early',
      config: { columns: [{ column: 'contract_id' }, { column: 'recommended' }] },
    });
    await add(id, { id: 'contracts', type: 'source_dataset', config: { urn: demoUrn('contracts.contracts') } });
    await add(id, { id: 'vendors', type: 'source_dataset', config: { urn: demoUrn('contracts.vendors') } });
    await add(id, { id: 'by_contract', type: 'join', config: { on: [{ left: 'contract_id', right: 'contract_id' }] } });
    await add(id, { id: 'by_vendor', type: 'join', config: { on: [{ left: 'vendor_id', right: 'vendor_id' }] } });
    for (const [source, target, targetHandle] of [
      ['slim', 'by_contract', 'left'],
      ['contracts', 'by_contract', 'right'],
      ['by_contract', 'by_vendor', 'left'],
      ['vendors', 'by_vendor', 'right'],
    ] as const) {
      await call(admin, 'pipelines_connect', { pipeline: id, source, target, targetHandle });
    }
    await add(id, {
      id: 'flags',
      type: 'derive',
      after: 'by_vendor',
      config: { columns: [{ name: 'is_recommended', expression: 'cast(recommended as integer)' }] },
    });
    await add(id, {
      id: 'per_vendor',
      type: 'aggregate',
      after: 'flags',
      config: {
        groupBy: ['vendor_id', 'legal_name'],
        measures: [
          { name: 'evaluations', fn: 'count' },
          { name: 'recommended', fn: 'sum', column: 'is_recommended' },
        ],
      },
    });
    await add(id, {
      id: 'check',
      type: 'validate',
      after: 'per_vendor',
      config: {
        rules: [
          { check: 'not_null', column: 'vendor_id' },
          { check: 'unique', column: 'vendor_id' },
          { check: 'range', column: 'evaluations', min: 1 },
          { check: 'expression', expression: 'recommended <= evaluations', name: 'recommended within evaluations' },
        ],
      },
    });
    await add(id, {
      id: 'marks',
      type: 'classify',
      after: 'check',
      config: { columns: [{ column: 'legal_name', classification: 'S' }] },
    });
    const saved = await add(id, {
      id: 'out',
      type: 'destination_table',
      after: 'marks',
      config: { schema: 'contracts', table: 'vendor_evaluation_summary', mode: 'replace' },
    });
    expect(saved.issues).toEqual([]);

    const run = await publish(id);
    expect(run.stats.published).toEqual([
      expect.objectContaining({ nodeId: 'out', urn: productUrn, classification: 'C', created: true }),
    ]);

    const asset = await call(admin, 'catalog_get_asset', { urn: productUrn });
    expect(asset).toMatchObject({
      kind: 'table',
      classification: 'C',
      owner: admin.principal.id,
      description: 'How each vendor is rated across its contracts',
      stats: { rowCount: run.stats.destinations.out!.rows },
    });
    expect(asset.tags).toContain('data-product');
    // Types as the database reports them, so a sync of the source finds nothing retyped.
    expect(asset.columns.map((c: Answer) => [c.name, c.dataType, c.classification])).toEqual([
      ['vendor_id', 'integer', null],
      ['legal_name', 'text', 'S'],
      ['evaluations', 'bigint', null],
      ['recommended', 'bigint', null],
    ]);
    const entry = (column: string) => asset.dataProduct.dictionary.find((e: Answer) => e.column === column);
    expect(entry('evaluations')).toMatchObject({ origin: 'aggregate', expression: 'count(*)', node: 'per_vendor' });
    expect(entry('recommended')).toMatchObject({ origin: 'aggregate', expression: 'sum(is_recommended)' });
    expect(entry('recommended').sources).toEqual([
      { urn: demoUrn('performance.evaluations'), qualifiedName: 'performance.evaluations', column: 'recommended' },
    ]);
    expect(entry('legal_name')).toMatchObject({ origin: 'source', classification: 'S' });
    expect(entry('legal_name').sources.map((s: Answer) => `${s.qualifiedName}.${s.column}`)).toEqual([
      'contracts.vendors.legal_name',
    ]);
    expect(asset.dataProduct.changelog[0]).toMatchObject({ version: saved.version, published: true });

    const lineage = await call(admin, 'lineage_get', { urn: productUrn, direction: 'upstream', depth: 1 });
    const upstream = lineage.nodes.filter((n: Answer) => !n.data.focus).map((n: Answer) => n.data.qualifiedName);
    expect(upstream.sort()).toEqual(['contracts.contracts', 'contracts.vendors', 'performance.evaluations']);
    const fromEvaluations = lineage.edges.find(
      (e: Answer) =>
        lineage.nodes.find((n: Answer) => n.id === e.source)?.data.qualifiedName === 'performance.evaluations',
    );
    expect(fromEvaluations.data.origin).toBe('pipeline');
    expect(fromEvaluations.data.columns).toContainEqual(
      expect.objectContaining({ from: 'recommended', to: 'recommended', transformationSubtype: 'AGGREGATION' }),
    );

    // Rules of the last validate node reach the output; `early` checks a column the output no longer has.
    const { rules } = await call(admin, 'quality_list_rules', { urn: productUrn });
    expect(rules.map((r: Answer) => [r.name, r.type, r.column, r.origin, r.severity])).toEqual([
      ['check: evaluations between 1 and ∞', 'invalid', 'evaluations', 'pipeline', 'critical'],
      ['check: recommended within evaluations', 'expression', null, 'pipeline', 'critical'],
      ['check: vendor_id is not null', 'not_null', 'vendor_id', 'pipeline', 'critical'],
      ['check: vendor_id is unique', 'unique', 'vendor_id', 'pipeline', 'critical'],
    ]);

    const docs = await call(admin, 'pipelines_docs', { pipeline: id });
    expect(docs.products).toHaveLength(1);
    expect(docs.products[0].markdown).toContain('## Data dictionary');
    expect(docs.products[0].markdown).toContain(
      '| evaluations | bigint | C | aggregate `count(*)` at node `per_vendor` |',
    );
    expect(docs.products[0].markdown).toContain('## Changelog');
  });

  it('publishes again without changing what is already so', async () => {
    const before = await currentEdges(productUrn);
    await publish(id);
    expect(await currentEdges(productUrn)).toEqual(before);
    const [assets] = await queryRows<{ n: number }>(
      admin.db,
      sql`select count(*)::int as n from assets where qualified_name = 'contracts.vendor_evaluation_summary'`,
    );
    expect(assets!.n).toBe(1);
    const { rules } = await call(admin, 'quality_list_rules', { urn: productUrn, includeDisabled: true });
    expect(rules).toHaveLength(4);
  });

  it('hides the product from people the marking of its inputs keeps out', async () => {
    const analyst = await ws.contextFor('a.chen'); // U, contracts and logistics
    const found = await call(analyst, 'catalog_search', { query: 'vendor evaluation summary', limit: 50 });
    expect(found.hits.map((h: Answer) => h.urn)).not.toContain(productUrn);
    expect((await refusal(analyst, 'catalog_get_asset', { urn: productUrn })).code).toBe('not_found');
    const steward = await ws.contextFor('m.okafor'); // S: sees it, and the S column
    const asset = await call(steward, 'catalog_get_asset', { urn: productUrn });
    expect(asset.columns.map((c: Answer) => c.name)).toContain('legal_name');
    // Cleared for C: sees the product, but nothing of the column classify marked S, in any of its documents.
    const cleared = await ws.contextFor('d.kowalski');
    const seen = await call(cleared, 'catalog_get_asset', { urn: productUrn });
    expect(seen.dataProduct.dictionary.map((e: Answer) => e.column)).toEqual([
      'vendor_id',
      'evaluations',
      'recommended',
    ]);
    const docs = await call(cleared, 'pipelines_docs', { pipeline: id });
    expect(JSON.stringify(docs)).not.toContain('legal_name');
  });

  it('replaces lineage and rules when an edit drops an input and a rule', async () => {
    await call(admin, 'pipelines_remove_node', { pipeline: id, id: 'marks' });
    await call(admin, 'pipelines_connect', { pipeline: id, source: 'check', target: 'out' });
    await call(admin, 'pipelines_remove_node', { pipeline: id, id: 'by_vendor' });
    await call(admin, 'pipelines_remove_node', { pipeline: id, id: 'vendors' });
    await call(admin, 'pipelines_connect', { pipeline: id, source: 'by_contract', target: 'flags' });
    await call(admin, 'pipelines_update_node', { pipeline: id, id: 'per_vendor', config: { groupBy: ['vendor_id'] } });
    const saved = await call(admin, 'pipelines_update_node', {
      pipeline: id,
      id: 'check',
      config: { rules: [{ check: 'not_null', column: 'vendor_id' }] },
    });
    expect(saved.issues).toEqual([]);
    await publish(id);

    const edges = await currentEdges(productUrn);
    expect(edges.map((e) => e.from_urn).sort()).toEqual([
      demoUrn('contracts.contracts'),
      demoUrn('performance.evaluations'),
    ]);
    const { rules } = await call(admin, 'quality_list_rules', { urn: productUrn });
    expect(rules.map((r: Answer) => r.name)).toEqual(['check: vendor_id is not null']);
    const asset = await call(admin, 'catalog_get_asset', { urn: productUrn });
    expect(asset.columns.map((c: Answer) => c.name)).toEqual(['vendor_id', 'evaluations', 'recommended']);
    expect(asset.dataProduct.changelog[0]).toMatchObject({ published: true, semver: saved.semver });
    // The versions in between could not be analysed (a join removed and not yet replaced): they keep the output's
    // schema entry, so the changelog does not report the output removed and added back.
    expect(asset.dataProduct.changelog.flatMap((c: Answer) => c.changes)).not.toContain('output removed');
    expect(asset.dataProduct.changelog.filter((c: Answer) => c.published)).toHaveLength(2);
    expect(asset.classification).toBe('C');
    // Followers read it in the feed; the column's S marking keeps its name out of the line.
    expect(asset.recentActivity.map((a: Answer) => a.summary)).toContain('Schema changed: removed 1 marked column');
  });

  it('keeps the product, its marking, lineage, rules and docs through a sync of the source', async () => {
    const schemaChanges = () =>
      queryRows<{ n: number }>(
        admin.db,
        sql`select count(*)::int as n from activity_events e join assets a on a.id = e.asset_id
            where a.urn = ${productUrn} and e.type = 'schema_changed'`,
      ).then((rows) => rows[0]!.n);
    const changesBefore = await schemaChanges();
    const source = await openDemoSource(ws.storage);
    try {
      const schemas = ['contracts', 'performance', 'personnel', 'logistics'];
      const snapshot = await createPostgresConnector({ url: source.url, name: 'demo', schemas }).discover();
      await syncSource(admin, snapshot, { scope: schemas, relocate: true, connection: source.connection });
    } finally {
      await source.close();
    }
    const asset = await call(admin, 'catalog_get_asset', { urn: productUrn });
    expect(asset).toMatchObject({ kind: 'table', classification: 'C', owner: admin.principal.id, status: 'active' });
    expect(asset.tags).toContain('data-product');
    expect(asset.dataProduct.pipeline).toMatchObject({ id, node: 'out' });
    // The columns the publication recorded are the ones the connector reads: the sync finds nothing changed.
    expect(await schemaChanges()).toBe(changesBefore);
    expect((await currentEdges(productUrn)).map((e) => e.from_urn).sort()).toEqual([
      demoUrn('contracts.contracts'),
      demoUrn('performance.evaluations'),
    ]);
    const { rules } = await call(admin, 'quality_list_rules', { urn: productUrn });
    expect(rules.map((r: Answer) => r.name)).toEqual(['check: vendor_id is not null']);
    const [count] = await queryRows<{ n: number }>(
      admin.db,
      sql`select count(*)::int as n from assets where qualified_name = 'contracts.vendor_evaluation_summary'`,
    );
    expect(count!.n).toBe(1);
  });

  it("keeps a steward's downgrade of the product, with its reason, when it is published again", async () => {
    const steward = await ws.contextFor('m.okafor');
    await call(steward, 'governance_set_classification', {
      urn: productUrn,
      classification: 'U',
      reason: 'counts per vendor reveal no evaluation content',
    });
    await publish(id);
    expect((await call(admin, 'catalog_get_asset', { urn: productUrn })).classification).toBe('U');
  });

  it('withholds node ids, like the pipeline name, from a reader who may not see every input', async () => {
    // Cleared U: sees the downgraded product, not the evaluations (C) it is built from.
    const analyst = await ws.contextFor('a.chen');
    const seen = (await call(analyst, 'catalog_get_asset', { urn: productUrn })).dataProduct;
    expect(seen.pipeline).toEqual({ id, name: null, node: null });
    expect(seen.dictionary.map((e: Answer) => e.node)).toEqual(seen.dictionary.map(() => null));
    expect(JSON.stringify(seen)).not.toContain('per_vendor');
    // Who may see every input reads them.
    const full = (await call(admin, 'catalog_get_asset', { urn: productUrn })).dataProduct;
    expect(full.pipeline).toMatchObject({ id, node: 'out' });
    expect(full.dictionary.find((e: Answer) => e.column === 'evaluations')).toMatchObject({ node: 'per_vendor' });
  });

  it('refuses a classify node that would lower a marking, naming the node', async () => {
    const { id: other } = await call(admin, 'pipelines_create', { name: 'evaluations marked down' });
    await add(other, { id: 'evals', type: 'source_dataset', config: { urn: demoUrn('performance.evaluations') } });
    await add(other, { id: 'lower', type: 'classify', after: 'evals', config: { asset: 'U' } });
    await add(other, {
      id: 'out',
      type: 'destination_table',
      after: 'lower',
      config: { schema: 'performance', table: 'evaluations_copy' },
    });
    const checked = await call(admin, 'pipelines_validate', { pipeline: other });
    expect(checked.valid).toBe(false);
    expect(checked.issues).toEqual([
      {
        nodeId: 'lower',
        message: expect.stringMatching(
          /^node `lower` \(classify\): the data reaching it is marked C, so the output cannot be marked U/,
        ),
      },
    ]);
    const columnDown = await call(admin, 'pipelines_update_node', {
      pipeline: other,
      id: 'lower',
      config: { asset: 'C', columns: [{ column: 'narrative', classification: 'U' }] },
    });
    expect(columnDown.issues.map((i: Answer) => i.message)).toEqual([
      expect.stringContaining(
        'column `narrative` reaches it marked C; a classify node raises markings and never lowers them',
      ),
    ]);
  });

  it('places a product behind a restrict node in its restricted domain', async () => {
    const { id: restricted } = await call(admin, 'pipelines_create', { name: 'vendors for personnel' });
    await add(restricted, { id: 'vendors', type: 'source_dataset', config: { urn: demoUrn('contracts.vendors') } });
    await add(restricted, { id: 'need_to_know', type: 'restrict', after: 'vendors', config: { domain: 'contracts' } });
    await add(restricted, {
      id: 'out',
      type: 'destination_table',
      after: 'need_to_know',
      config: { schema: 'contracts', table: 'vendor_list_restricted' },
    });
    const open = await call(admin, 'pipelines_validate', { pipeline: restricted });
    expect(open.issues.map((i: Answer) => i.message)).toEqual([
      expect.stringContaining('domain `contracts` is open to everybody'),
    ]);
    await call(admin, 'pipelines_update_node', {
      pipeline: restricted,
      id: 'need_to_know',
      config: { domain: 'personnel', clearance: 'S' },
    });
    const run = await publish(restricted);
    const urn = demoUrn('contracts.vendor_list_restricted');
    expect(run.stats.published).toEqual([expect.objectContaining({ urn, domain: 'personnel', classification: 'S' })]);

    // Cleared for S, but not in personnel: it cannot find the product; a member of personnel can.
    const outsider = await ws.contextFor('j.alvarez');
    const search = await call(outsider, 'catalog_search', { query: 'vendor_list_restricted', limit: 50 });
    expect(search.hits.map((h: Answer) => h.urn)).not.toContain(urn);
    expect((await refusal(outsider, 'catalog_get_asset', { urn })).code).toBe('not_found');
    const member = await ws.contextFor('r.patel');
    expect((await call(member, 'catalog_get_asset', { urn })).domain).toBe('personnel');

    // Publishing into a domain one is not in would hide the product from its own publisher: refused first.
    const steward = await ws.contextFor('m.okafor');
    const refused = await runPipeline(steward, restricted, {
      trigger: 'manual',
      timeoutSeconds: 60,
      nodeStats: false,
      environment: 'prod',
      version: (await call(admin, 'pipelines_get', { pipeline: restricted })).version,
      publish: true,
    }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/may not publish into domain personnel/);
  });

  it('refuses to publish what a blocking policy forbids, and the catalog stays as it was', async () => {
    await call(admin, 'governance_create_policy', {
      name: 'products say what they hold',
      kind: 'quality',
      document: 'Every data product carries a description.',
      authority: 'Data strategy 2026',
      rules: [{ when: { tag: 'data-product' }, require: { type: 'description' }, enforcement: 'blocking' }],
    });
    await call(admin, 'governance_link_policy', { policy: 'products say what they hold', tag: 'data-product' });
    const { id: bare } = await call(admin, 'pipelines_create', { name: 'vendor names' });
    await add(bare, { id: 'vendors', type: 'source_dataset', config: { urn: demoUrn('contracts.vendors') } });
    await add(bare, { id: 'names', type: 'select', after: 'vendors', config: { columns: [{ column: 'legal_name' }] } });
    await add(bare, {
      id: 'out',
      type: 'destination_table',
      after: 'names',
      config: { schema: 'contracts', table: 'vendor_names' },
    });
    const run = await runPipeline(admin, bare, {
      trigger: 'manual',
      timeoutSeconds: 60,
      nodeStats: false,
      environment: 'prod',
      version: (await call(admin, 'pipelines_get', { pipeline: bare })).version,
      publish: true,
    });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(
      /^the outputs were written, but registering them in the catalog failed, so nothing was published: .*blocking policy "products say what they hold".*requires/,
    );
    expect((await refusal(admin, 'catalog_get_asset', { urn: demoUrn('contracts.vendor_names') })).code).toBe(
      'not_found',
    );
    const explained = await call(admin, 'pipelines_explain_run', { run: run.runId });
    expect(explained.summary).toContain('failed after writing its tables, while publishing them to the catalog');
    expect(explained.fix).toContain('a blocking policy names what the product lacks');
  });
  it("keeps a product of restricted data in its inputs' restricted domain, and refuses inputs from two", async () => {
    // personnel.units is in the restricted personnel domain; the pipeline reads it by query, with no restrict node.
    const { id: stations } = await call(admin, 'pipelines_create', {
      name: 'unit stations',
      description: 'Where each unit is stationed',
    });
    await add(stations, {
      id: 'units',
      type: 'source_sql',
      config: { source: 'demo', query: 'select unit_name, station from personnel.units' },
    });
    await add(stations, {
      id: 'out',
      type: 'destination_table',
      after: 'units',
      config: { schema: 'contracts', table: 'unit_stations' },
    });
    const run = await publish(stations);
    const urn = demoUrn('contracts.unit_stations');
    expect(run.stats.published).toEqual([expect.objectContaining({ urn, domain: 'personnel' })]);
    // Cleared for S and in contracts, but not in personnel: the product is as hidden as the table it copies.
    expect((await refusal(await ws.contextFor('j.alvarez'), 'catalog_get_asset', { urn })).code).toBe('not_found');
    expect((await call(await ws.contextFor('r.patel'), 'catalog_get_asset', { urn })).domain).toBe('personnel');

    // The depots go behind a need-to-know of their own; a product joining them to the units would have to
    // show one domain's data to the other's members: refused before anything is written.
    await admin.db.execute(
      sql`insert into domains (id, name, restricted) values ('depot-security', 'Depot security', true)`,
    );
    await admin.db.execute(
      sql`insert into domain_members (domain_id, principal_id) values ('depot-security', ${admin.principal.id})`,
    );
    await admin.db.execute(
      sql`update assets set domain_id = 'depot-security' where urn = ${demoUrn('logistics.depots')}`,
    );
    const member = await ws.contextFor(admin.principal.id);
    const { id: both } = await call(member, 'pipelines_create', {
      name: 'unit depots',
      description: 'The depots each unit operates',
    });
    for (const node of [
      {
        id: 'joined',
        type: 'source_sql',
        config: {
          source: 'demo',
          query:
            'select u.unit_name, d.depot_name from personnel.units u join logistics.depots d on d.operating_unit_id = u.unit_id',
        },
      },
      { id: 'out', type: 'destination_table', after: 'joined', config: { schema: 'contracts', table: 'unit_depots' } },
    ]) {
      await call(member, 'pipelines_add_node', { pipeline: both, ...node });
    }
    // Validation says so at the destination while the pipeline is built, and a run is refused before it starts.
    const mixed =
      /node `out` \(destination_table\): its data comes from restricted domains `depot-security` and `personnel`.*split the pipeline so each destination reads from one restricted domain/;
    const { issues } = await call(member, 'pipelines_validate', { pipeline: both });
    expect(issues).toEqual([{ nodeId: 'out', message: expect.stringMatching(mixed) }]);
    const refused = await runPipeline(member, both, {
      trigger: 'manual',
      timeoutSeconds: 60,
      nodeStats: false,
      environment: 'prod',
      version: (await call(member, 'pipelines_get', { pipeline: both })).version,
      publish: true,
    }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refused).toMatch(mixed);
    expect((await refusal(member, 'catalog_get_asset', { urn: demoUrn('contracts.unit_depots') })).code).toBe(
      'not_found',
    );
  });
  it('keeps a column above a steward’s clearance out of its pipelines, as if the table had no such column', async () => {
    // contracts.programs is U, its is_special_access column S; d.kowalski is a steward cleared to C.
    const steward = await ws.contextFor('d.kowalski');
    const programs = demoUrn('contracts.programs');
    const { id: mine } = await call(steward, 'pipelines_create', { name: 'programs at C' });
    const addMine = (args: Record<string, unknown>) => call(steward, 'pipelines_add_node', { pipeline: mine, ...args });
    await addMine({ id: 'programs', type: 'source_dataset', config: { urn: programs } });
    const checked = await call(steward, 'pipelines_validate', { pipeline: mine });
    const seen = checked.schemas.programs.map((c: Answer) => c.name);
    expect(seen).toContain('program_id');
    expect(seen).not.toContain('is_special_access');
    const preview = await call(steward, 'pipelines_preview', { pipeline: mine, node: 'programs', limit: 5 });
    expect(preview.columns.map((c: Answer) => c.name)).toEqual(seen);

    // Referred to, it is refused in the words a column that does not exist gets, by name alone.
    const issueAt = (saved: Answer, node: string) =>
      saved.issues.find((i: Answer) => i.nodeId === node && !i.message.includes('leads nowhere'))?.message;
    const filterOn = async (condition: string) =>
      issueAt(
        await call(steward, 'pipelines_update_node', { pipeline: mine, id: 'sap', config: { condition } }),
        'sap',
      );
    await addMine({ id: 'sap', type: 'filter', after: 'programs', config: { condition: 'true' } });
    const hidden = await filterOn('is_special_access');
    expect(hidden).toContain('`is_special_access` does not exist');
    expect(hidden).toBe((await filterOn('is_special_acces')).replaceAll('is_special_acces', 'is_special_access'));
    const pivot = await addMine({
      id: 'by_access',
      type: 'pivot',
      after: 'programs',
      config: { rowKeys: ['program_id'], column: 'is_special_access', values: [true], measure: { fn: 'count' } },
    });
    expect(issueAt(pivot, 'by_access')).toContain('`is_special_access` does not exist');
    const query = await addMine({
      id: 'q',
      type: 'source_sql',
      config: { source: 'demo', query: 'select program_id, is_special_access from contracts.programs' },
    });
    expect(issueAt(query, 'q')).toBe(
      'node `q` (source_sql): the source refused the query: column "is_special_access" does not exist',
    );

    // Cleared for it, j.alvarez works with the column, and the column keeps its own marking on the way out.
    const cleared = await ws.contextFor('j.alvarez');
    const { id: theirs } = await call(cleared, 'pipelines_create', { name: 'programs at S' });
    await call(cleared, 'pipelines_add_node', {
      pipeline: theirs,
      id: 'programs',
      type: 'source_dataset',
      config: { urn: programs },
    });
    const written = await call(cleared, 'pipelines_add_node', {
      pipeline: theirs,
      id: 'out',
      type: 'destination_table',
      after: 'programs',
      config: { schema: 'contracts', table: 'programs_copy' },
    });
    expect(written.issues).toEqual([]);
    const output = await call(cleared, 'pipelines_validate', { pipeline: theirs });
    expect(output.outputs.out.map((c: Answer) => c.name)).toContain('is_special_access');
    const analysis = await analyzePipeline(cleared, (await loadPipeline(cleared, theirs)).graph);
    const out = analysis.nodes.get('out')!;
    expect(out.columns.find((c) => c.name === 'is_special_access')!.classification).toBe('S');
    expect(out.marking).toBe('U');
    // Its graph and output schema name the column, so the C-cleared steward finds no such pipeline; the
    // steward's own, which names it too, stays its own (a name it writes never hides a pipeline from it).
    await expect(call(steward, 'pipelines_get', { pipeline: theirs })).rejects.toThrow(`no pipeline ${theirs}`);
    const listed = (await call(steward, 'pipelines_list', {})).pipelines.map((p: Answer) => p.id);
    expect(listed).not.toContain(theirs);
    expect(listed).toContain(mine);

    // Nor does a classify node let the steward publish a column marked above its clearance.
    const { id: raised } = await call(steward, 'pipelines_create', { name: 'programs raised' });
    const addRaised = (args: Record<string, unknown>) =>
      call(steward, 'pipelines_add_node', { pipeline: raised, ...args });
    await addRaised({ id: 'programs', type: 'source_dataset', config: { urn: programs } });
    await addRaised({
      id: 'mark',
      type: 'classify',
      after: 'programs',
      config: { columns: [{ column: 'program_id', classification: 'S' }] },
    });
    const ready = await addRaised({
      id: 'out',
      type: 'destination_table',
      after: 'mark',
      config: { schema: 'contracts', table: 'programs_raised' },
    });
    expect(ready.issues).toEqual([]);
    const refused = await runPipeline(steward, raised, {
      trigger: 'manual',
      timeoutSeconds: 60,
      nodeStats: false,
      environment: 'prod',
      version: ready.version,
      publish: true,
    }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refused).toBe(
      "you may not publish column `program_id` of node `out`'s output marked S: it is above your clearance (C); mark it no higher than C",
    );
  });
});
