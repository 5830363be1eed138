import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/create-db.js';
import { domains } from '../db/schema/index.js';
import { syncSource } from '../mcp-server/catalog/sync.js';
import { createPostgresConnector } from '../mcp-server/connectors/postgres/postgres-connector.js';
import type { ServiceContext } from '../mcp-server/context.js';
import { nodePalette, nodeRegistry, nodeTypes, parseNodeConfig } from '../mcp-server/pipelines/nodes/index.js';
import { nodeDocsPath, withNodeTypes } from '../mcp-server/pipelines/nodes/node-docs.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import { createTestContext } from './helpers/test-context.js';
import { createScratchDatabase, createTestDb, serverUrl } from './helpers/test-db.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The node registry as a canvas and a model meet it: every type's palette entry is plain JSON whose config schema
 * accepts the example its docs give, and every documented example, put in a tiny graph through the MCP tools,
 * validates and previews on a real source database.
 */

describe('the node palette', () => {
  it('lists every node type once, as plain JSON, with ports that fit its category', () => {
    const palette = nodePalette();
    expect(palette.map((e) => e.type)).toEqual(nodeTypes);
    expect(JSON.parse(JSON.stringify(palette))).toEqual(palette);
    for (const entry of palette) {
      expect(entry.label.length, entry.type).toBeGreaterThan(0);
      expect(entry.help.length, entry.type).toBeLessThanOrEqual(120);
      expect(entry.inputs.length === 0, entry.type).toBe(entry.category === 'source');
      expect(entry.output, entry.type).toBe(entry.category !== 'destination');
    }
    const join = palette.find((e) => e.type === 'join')!;
    expect(join.inputs.map((p) => p.handle)).toEqual(['left', 'right']);
    expect(palette.find((e) => e.type === 'union')!.inputs).toEqual([
      { handle: null, label: 'Rows', arity: 'many', min: 2 },
    ]);
  });

  it('gives each type a config JSON Schema that accepts its documented example and documents each field', () => {
    // The validator MCP clients check tool schemas with: what a canvas form builder would also accept.
    const validator = new AjvJsonSchemaValidator();
    for (const entry of nodePalette()) {
      const validate = validator.getValidator(entry.configSchema as never);
      const result = validate(entry.example);
      expect(result.valid, `${entry.type}: ${result.valid ? '' : result.errorMessage}`).toBe(true);
      // The same example passes the zod schema the server checks with.
      expect(() => parseNodeConfig(entry.type, entry.example), entry.type).not.toThrow();
      const properties = Object.keys((entry.configSchema.properties ?? {}) as object);
      expect(Object.keys(entry.fields).sort(), entry.type).toEqual(properties.sort());
      // A form that sends an unknown field is refused by the schema, as the server refuses it.
      expect(validate({ ...entry.example, surplus: 1 }).valid, entry.type).toBe(false);
    }
  });
});

const fixture = `
  create table orders (id int primary key, customer_id int, amount numeric(8,2), status text, region text,
    year int, email text, salary numeric(9,2), country_code text, updated_at timestamp);
  insert into orders values
    (1, 10, 150, 'paid', 'east', 2024, ' Ann@Army.mil ', 5000, 'US', '2024-01-02'),
    (2, 10, 50, 'open', 'west', 2024, 'bob@navy.mil', 4000, 'FR', '2024-02-03'),
    (3, 11, null, 'paid', 'east', 2025, null, null, 'US', '2024-03-04');
  create table customers (customer_id int, segment text);
  insert into customers values (10, 'gov'), (11, 'defense');
  create table countries (code text, name text);
  insert into countries values ('US', 'United States'), ('FR', 'France');`;

describe('every node type, its documented example in a tiny graph', () => {
  let database: Database;
  let admin: ServiceContext;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let source: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDb();
    admin = await createTestContext(database);
    scratch = await createScratchDatabase(serverUrl, 'dataops_node_registry');
    source = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await source.unsafe(fixture);
    // The source is named as the source_sql and source_dataset examples name it.
    await syncSource(admin, await createPostgresConnector({ url: scratch.url, name: 'shop' }).discover(), {
      connection: scratch.url,
    });
    await admin.db.insert(domains).values({ id: 'finance', name: 'Finance', restricted: true });
  }, 60_000);

  afterAll(async () => {
    await source?.end();
    await database?.close();
    await scratch?.drop();
  });

  // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
  async function call(name: string, args: Record<string, unknown>): Promise<Record<string, any>> {
    const tool = pipelineTools.find((t) => t.name === name)!;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    return (await runTool(tool as never, args, admin)) as Record<string, any>;
  }

  const dataset = (table: string) => ({ urn: `urn:dataops:postgres:shop:public.${table}` });

  it("answers a config of the wrong shape with the type's documented example", async () => {
    const { id } = await call('pipelines_create', { name: 'wrong shape' });
    await expect(
      call('pipelines_add_node', { pipeline: id, id: 'f', type: 'filter', config: { where: 'amount > 0' } }),
    ).rejects.toThrow(
      `node \`f\` (filter): its config is not right: condition: required; config: Unrecognized key: "where". A filter config looks like {"condition":"amount > 100 and status = 'paid'"}`,
    );
  });

  it.each(nodeTypes)('%s', async (type) => {
    const { id } = await call('pipelines_create', { name: `example ${type}` });
    const add = (node: string, nodeType: string, config: Record<string, unknown>) =>
      call('pipelines_add_node', { pipeline: id, id: node, type: nodeType, config });
    const connect = (from: string, to: string, targetHandle?: string) =>
      call('pipelines_connect', { pipeline: id, source: from, target: to, ...(targetHandle ? { targetHandle } : {}) });
    const module = nodeRegistry[type];
    let example = module.docs.example;
    if (type === 'source_upload') {
      const upload = await call('pipelines_upload', {
        pipeline: id,
        name: 'targets.csv',
        content: 'region,target\neast,100\nwest,80\n',
      });
      example = { upload: upload.uploadId };
      // A pipeline runs inside a source database: it reads one dataset besides the upload.
      await add('orders', 'source_dataset', dataset('orders'));
      await add('orders_out', 'destination_table', { table: 'orders_copy' });
      await connect('orders', 'orders_out');
    }
    await add('node', type, example);
    if (module.category !== 'source') {
      const ports = module.inputs.map((p) => p.handle);
      const feeds =
        type === 'join' ? ['orders', 'customers'] : type === 'enrich' ? ['orders', 'countries'] : ['orders'];
      if (type === 'union') feeds.push('orders');
      for (const [i, table] of feeds.entries()) {
        await add(`in${i}`, 'source_dataset', dataset(table));
        await connect(`in${i}`, 'node', ports[i] ?? undefined);
      }
    }
    if (module.category !== 'destination') {
      await add('out', 'destination_table', { table: `out_${type}` });
      await connect('node', 'out');
    }
    const validated = await call('pipelines_validate', { pipeline: id });
    expect(validated.issues).toEqual([]);
    const preview = await call('pipelines_preview', { pipeline: id, node: 'node', limit: 10 });
    expect(preview.columns.length).toBeGreaterThan(0);
    expect(preview.rows.length).toBeGreaterThan(0);
    // What the preview shows is what validation says the destination will get.
    const shown = (preview.columns as { name: string; type: string }[]).map(({ name, type }) => ({ name, type }));
    if (module.category !== 'destination') expect(validated.outputs.out).toEqual(shown);
  });
});

describe('docs/pipelines.md', () => {
  it('carries the node types as the registry describes them', () => {
    const doc = readFileSync(path.join(root, nodeDocsPath), 'utf8');
    if (withNodeTypes(doc) !== doc) {
      expect.fail(`the node types in ${nodeDocsPath} are out of date: run \`npx tsx scripts/generate-node-docs.ts\``);
    }
    for (const type of nodeTypes) expect(doc).toContain(`#### \`${type}\``);
  });
});
