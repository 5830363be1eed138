import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Workspace } from '../cli/workspace.js';
import { queryRows } from '../db/create-db.js';
import { withSourceWriter } from '../mcp-server/connectors/source-reader.js';
import { maskingSalt } from '../mcp-server/governance/masking.js';
import { type DbtExport, exportDbtProject } from '../mcp-server/pipelines/dbt-export/dbt-export.js';
import { pipelineTools } from '../mcp-server/pipelines/tools.js';
import { runTool } from '../mcp-server/run-tool.js';
import { genericTestSql, materialise, renderJinja, renderModels } from './helpers/dbt-render.js';
import { demoUrn, openDemoWorkspace } from './helpers/demo-catalog.js';
import { runCli } from './helpers/run-cli.js';

const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const scratch = 'dbt_export_check';

/** The salt a run hashes with, derived from the workspace's as run.ts derives it (never written by the export). */
async function pipelineSalt(ws: Workspace, pipelineId: string): Promise<string> {
  return createHmac('sha256', await maskingSalt(ws.database.db))
    .update(`pipeline:${pipelineId}`)
    .digest('hex');
}

/**
 * "Monthly contract spend by vendor" on the demo workspace, exported to dbt: the exported models, rendered and
 * run on the demo database in dependency order, must give the rows our own run wrote. dbt itself cannot be
 * installed here, so a small renderer in the test helpers stands in for its Jinja.
 */
describe('a demo pipeline exported as a dbt project', { timeout: 240_000 }, () => {
  let ws: Workspace;
  let close: () => Promise<void>;
  let closeWorkspace: () => Promise<void>;
  let db: string;
  let sourceId: string;
  let pipelineId: string;
  let exported: DbtExport;
  const file = (p: string) => exported.files.find((f) => f.path === p)?.content;

  beforeAll(async () => {
    ({ ws, sourceId, db, closeWorkspace, close } = await openDemoWorkspace('dataops_dbtexport'));
  }, 240_000);
  afterAll(() => close?.());

  async function call(name: string, args: Record<string, unknown>) {
    const tool = pipelineTools.find((t) => t.name === name)!;
    // biome-ignore lint/suspicious/noExplicitAny: tool outputs are checked field by field
    return (await runTool(tool as never, args, ws.ctx)) as Record<string, any>;
  }

  it('runs its models on the database in dependency order and gets the rows our run wrote', async () => {
    const { id } = await call('pipelines_create', { name: 'monthly contract spend by vendor' });
    pipelineId = id;
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'payments', type: 'source_dataset', config: { urn: demoUrn('contracts.payments') } });
    // The literal holds what Jinja would read as a tag: the export must hand it to the database as written.
    await add({
      id: 'paid',
      type: 'filter',
      after: 'payments',
      config: { condition: "status = 'Paid' and invoice_number <> '{{ not a template }} {% neither %}'" },
    });
    await add({
      id: 'checked',
      type: 'validate',
      after: 'paid',
      config: {
        onFail: 'stop',
        rules: [
          { check: 'not_null', column: 'contract_id' },
          { check: 'unique', column: 'payment_id' },
          { check: 'range', column: 'amount', min: 0 },
          { check: 'expression', expression: 'paid_on >= invoice_received_on', name: 'paid after received' },
        ],
      },
    });
    await add({
      id: 'slim',
      type: 'select',
      after: 'checked',
      config: { columns: [{ column: 'contract_id' }, { column: 'paid_on' }, { column: 'amount' }] },
    });
    await add({ id: 'contracts', type: 'source_dataset', config: { urn: demoUrn('contracts.contracts') } });
    await add({ id: 'vendors', type: 'source_dataset', config: { urn: demoUrn('contracts.vendors') } });
    await add({ id: 'hidden', type: 'mask', after: 'vendors', config: { columns: ['uei'], method: 'hash' } });
    await add({ id: 'by_contract', type: 'join', config: { on: [{ left: 'contract_id', right: 'contract_id' }] } });
    await add({ id: 'by_vendor', type: 'join', config: { on: [{ left: 'vendor_id', right: 'vendor_id' }] } });
    for (const [source, target, targetHandle] of [
      ['slim', 'by_contract', 'left'],
      ['contracts', 'by_contract', 'right'],
      ['by_contract', 'by_vendor', 'left'],
      ['hidden', 'by_vendor', 'right'],
    ] as const) {
      await call('pipelines_connect', { pipeline: id, source, target, targetHandle });
    }
    await add({
      id: 'months',
      type: 'derive',
      after: 'by_vendor',
      config: {
        columns: [
          { name: 'year', expression: 'cast(extract(year from paid_on) as integer)' },
          { name: 'month', expression: 'cast(extract(month from paid_on) as integer)' },
        ],
      },
    });
    await add({
      id: 'spend',
      type: 'aggregate',
      after: 'months',
      config: {
        groupBy: ['vendor_id', 'uei', 'legal_name', 'year', 'month'],
        measures: [
          { name: 'spend', fn: 'sum', column: 'amount' },
          { name: 'payments', fn: 'count' },
        ],
      },
    });
    await add({
      id: 'sane',
      type: 'validate',
      after: 'spend',
      config: {
        onFail: 'quarantine',
        rules: [
          { check: 'accepted_values', column: 'month', values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
          { check: 'not_null', column: 'uei' },
          { check: 'expression', expression: 'spend > 0' },
        ],
      },
    });
    await add({
      id: 'out',
      type: 'destination_table',
      after: 'sane',
      config: { schema: 'contracts', table: 'monthly_vendor_spend', mode: 'replace' },
    });
    const saved = await add({
      id: 'upsert',
      type: 'destination_table',
      after: 'sane',
      config: {
        schema: 'contracts',
        table: 'vendor_spend_upserted',
        mode: 'upsert',
        key: ['vendor_id', 'year', 'month'],
      },
    });
    expect(saved.issues).toEqual([]);

    const run = await call('pipelines_run', { pipeline: id });
    expect(run.status, run.error).toBe('succeeded');
    exported = await exportDbtProject(ws.ctx, 'monthly contract spend by vendor');
    expect(exported.pipeline).toMatchObject({ id, version: saved.version });
    expect(exported.saltVar).toBe('dataops_mask_salt');

    // The run's salt is derived from the workspace's secret; handing it to the project's var must give its hashes.
    const salt = await pipelineSalt(ws, id);
    const models = renderModels(exported.files, { schema: scratch, salt });
    expect(models.map((m) => m.name)).toEqual(
      expect.arrayContaining(['paid', 'checked', 'hidden', 'spend', 'monthly_vendor_spend', 'vendor_spend_upserted']),
    );
    expect(models.some((m) => m.name === 'payments' || m.name === 'vendors')).toBe(false);
    const compared = await withSourceWriter(ws.ctx, sourceId, async (tx) => {
      await materialise(tx, scratch, models);
      const outcome: Record<string, { ours: number; theirs: number; onlyOurs: number; onlyTheirs: number }> = {};
      for (const [nodeId, model] of [
        ['out', 'monthly_vendor_spend'],
        ['upsert', 'vendor_spend_upserted'],
      ] as const) {
        const written = (run.stats.destinations[nodeId].table as string).split('.').map(q).join('.');
        const mine = `${q(scratch)}.${q(model)}`;
        const count = async (statement: string) =>
          Number((await tx.query<{ n: string | number }>(`select count(*) as n from (${statement}) as t`))[0]!.n);
        outcome[nodeId] = {
          ours: await count(`select * from ${written}`),
          theirs: await count(`select * from ${mine}`),
          onlyOurs: await count(`select * from ${written} except all select * from ${mine}`),
          onlyTheirs: await count(`select * from ${mine} except all select * from ${written}`),
        };
      }
      // The singular tests select the rows that break a rule: none do in the demo data.
      const failing: Record<string, number> = {};
      for (const test of exported.files.filter((f) => f.path.startsWith('tests/'))) {
        const rendered = renderJinja(test.content, { schema: scratch });
        const [row] = await tx.query<{ n: string | number }>(`select count(*) as n from (${rendered.sql}) as t`);
        failing[test.path] = Number(row!.n);
      }
      await tx.query(`drop schema ${q(scratch)} cascade`);
      return { outcome, failing };
    });
    expect(compared.outcome.out!.ours).toBeGreaterThan(1000);
    expect(compared.outcome).toEqual({
      out: { ours: compared.outcome.out!.ours, theirs: compared.outcome.out!.ours, onlyOurs: 0, onlyTheirs: 0 },
      upsert: { ours: compared.outcome.out!.ours, theirs: compared.outcome.out!.ours, onlyOurs: 0, onlyTheirs: 0 },
    });
    expect(Object.keys(compared.failing)).toHaveLength(3);
    expect(Object.values(compared.failing)).toEqual([0, 0, 0]);
  });

  it('declares sources with the catalog descriptions and turns validate rules into dbt tests', async () => {
    const schema = parse(file('models/monthly_contract_spend_by_vendor/schema.yml')!) as {
      models: {
        name: string;
        description: string;
        columns: { name: string; description?: string; data_tests?: unknown[] }[];
      }[];
    };
    const model = (name: string) => schema.models.find((m) => m.name === name)!;
    const column = (m: string, c: string) => model(m).columns.find((x) => x.name === c)!;
    expect(column('checked', 'contract_id').data_tests).toEqual(['not_null']);
    expect(column('checked', 'payment_id').data_tests).toEqual(['unique']);
    expect(column('sane', 'month').data_tests).toEqual([
      { accepted_values: { values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], quote: false } },
    ]);
    expect(column('sane', 'uei').data_tests).toEqual(['not_null']);
    expect(exported.files.map((f) => f.path).filter((p) => p.startsWith('tests/'))).toEqual([
      'tests/monthly_contract_spend_by_vendor/checked__rule_3_range.sql',
      'tests/monthly_contract_spend_by_vendor/checked__rule_4_expression.sql',
      'tests/monthly_contract_spend_by_vendor/sane__rule_3_expression.sql',
    ]);
    expect(file('tests/monthly_contract_spend_by_vendor/checked__rule_4_expression.sql')).toMatch(
      /paid after received[\s\S]*select \* from \{\{ ref\('checked'\) \}\} where not/,
    );
    // Column descriptions follow the data through the graph; derived columns and measures say how they are made.
    const [described] = await queryRows<{ description: string }>(
      ws.database.db,
      sql`select c.description from columns c join assets a on a.id = c.asset_id
          where a.urn = ${demoUrn('contracts.vendors')} and c.name = 'legal_name'`,
    );
    expect(described!.description).toBeTruthy();
    expect(column('monthly_vendor_spend', 'legal_name').description).toBe(described!.description);
    expect(column('monthly_vendor_spend', 'spend').description).toBe('Sum of amount');
    expect(column('months', 'year').description).toBe('Derived: cast(extract(year from paid_on) as integer)');
    expect(column('monthly_vendor_spend', 'uei').description).toMatch(/Masked \(hash\)\.$/);

    const sources = parse(file('models/monthly_contract_spend_by_vendor/sources.yml')!) as {
      sources: { name: string; tables: { name: string; description?: string; columns: { name: string }[] }[] }[];
    };
    expect(sources.sources.map((s) => s.name)).toEqual(['contracts']);
    const [payments] = await queryRows<{ description: string }>(
      ws.database.db,
      sql`select description from assets where urn = ${demoUrn('contracts.payments')}`,
    );
    const tables = sources.sources[0]!.tables;
    expect(tables.map((t) => t.name).sort()).toEqual(['contracts', 'payments', 'vendors']);
    expect(tables.find((t) => t.name === 'payments')!.description).toBe(payments!.description);

    // Destinations are named as their tables and land in their schema; the rest say why they are what they are.
    expect(file('models/monthly_contract_spend_by_vendor/monthly_vendor_spend.sql')).toMatch(
      /^\{\{ config\(materialized='table', schema='contracts'\) \}\}/,
    );
    expect(file('models/monthly_contract_spend_by_vendor/vendor_spend_upserted.sql')).toMatch(
      /^\{\{ config\(materialized='incremental', unique_key=\['vendor_id', 'year', 'month'\], schema='contracts'\) \}\}/,
    );
    expect(file('models/monthly_contract_spend_by_vendor/slim.sql')).toMatch(
      /^\{\{ config\(materialized='ephemeral'\) \}\}\n-- .*\n-- Ephemeral: dbt inlines/,
    );
    expect(file('models/monthly_contract_spend_by_vendor/paid.sql')).toContain(
      "<> E'{{ '{' }}{ not a template }} {{ '{' }}% neither %}'",
    );
    expect(parse(file('dbt_project.yml')!)).toMatchObject({
      name: 'monthly_contract_spend_by_vendor',
      'config-version': 2,
      profile: 'dataops',
    });
    expect(file('README.md')).toContain(`(id \`${pipelineId}\`), version ${exported.pipeline.version}`);

    // The salt is never written: not the workspace's, not the one derived for the pipeline.
    const secrets = [await maskingSalt(ws.database.db), await pipelineSalt(ws, pipelineId)];
    for (const f of exported.files) for (const secret of secrets) expect(f.content).not.toContain(secret);
    expect(file('macros/dataops_mask_salt.sql')).toContain("var('dataops_mask_salt'");
  });

  it('exports unions, deduplication, cleansing, lookups, pivots, sorts and source queries that give our rows', async () => {
    const { id } = await call('pipelines_create', { name: 'Contract ceilings by state (by size)' });
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'contracts', type: 'source_dataset', config: { urn: demoUrn('contracts.contracts') } });
    await add({ id: 'active', type: 'filter', after: 'contracts', config: { condition: "status = 'Active'" } });
    await add({
      id: 'closed',
      type: 'filter',
      after: 'contracts',
      config: { condition: "status in ('Closed', 'Completed')" },
    });
    await add({ id: 'both', type: 'union', config: { distinct: false } });
    await call('pipelines_connect', { pipeline: id, source: 'active', target: 'both' });
    await call('pipelines_connect', { pipeline: id, source: 'closed', target: 'both' });
    await add({
      id: 'latest',
      type: 'deduplicate',
      after: 'both',
      config: { columns: ['contract_id'], keep: [{ column: 'award_date', direction: 'desc' }] },
    });
    await add({
      id: 'tidy',
      type: 'cleanse',
      after: 'latest',
      config: {
        columns: [
          { column: 'title', operations: [{ op: 'trim' }, { op: 'lower' }] },
          { column: 'set_aside', operations: [{ op: 'replace', from: 'None', to: '{{ none }}' }] },
        ],
      },
    });
    // A source query whose comment and literal hold Jinja openings, reading a table dbt must see as a source.
    await add({
      id: 'vendor_q',
      type: 'source_sql',
      config: {
        source: 'demo',
        query:
          "select vendor_id, hq_state, business_size -- {{ who }} and {% this %}\nfrom contracts.vendors where legal_name <> '{#'",
      },
    });
    await add({
      id: 'located',
      type: 'enrich',
      config: {
        on: [{ left: 'vendor_id', right: 'vendor_id' }],
        columns: [{ column: 'hq_state' }, { column: 'business_size', as: 'size' }],
      },
    });
    await call('pipelines_connect', { pipeline: id, source: 'tidy', target: 'located', targetHandle: 'input' });
    await call('pipelines_connect', { pipeline: id, source: 'vendor_q', target: 'located', targetHandle: 'lookup' });
    await add({
      id: 'by_state',
      type: 'pivot',
      after: 'located',
      config: {
        rowKeys: ['hq_state'],
        column: 'size',
        values: ['Small', 'Other Than Small'],
        measure: { fn: 'sum', column: 'ceiling_value' },
      },
    });
    await add({ id: 'ordered', type: 'sort', after: 'by_state', config: { by: [{ column: 'hq_state' }] } });
    const saved = await add({
      id: 'out',
      type: 'destination_table',
      after: 'ordered',
      config: { schema: 'contracts', table: 'state ceilings', mode: 'create' },
    });
    expect(saved.issues).toEqual([]);
    const run = await call('pipelines_run', { pipeline: id });
    expect(run.status, run.error).toBe('succeeded');

    const project = await exportDbtProject(ws.ctx, id);
    expect(project.project).toBe('contract_ceilings_by_state_by_size');
    const model = (name: string) =>
      project.files.find((f) => f.path === `models/contract_ceilings_by_state_by_size/${name}.sql`)!.content;
    // A table name dbt cannot take as a model name keeps its name as the relation's alias.
    expect(model('state_ceilings')).toMatch(
      /^\{\{ config\(materialized='table', schema='contracts', alias='state ceilings'\) \}\}\n/,
    );
    expect(model('vendor_q')).toContain("{{ source('contracts', 'vendors') }}");
    expect(model('vendor_q')).toContain("-- {{ '{' }}{ who }} and {{ '{' }}% this %}");
    const sources = parse(project.files.find((f) => f.path.endsWith('/sources.yml'))!.content) as {
      sources: { name: string; tables: { name: string }[] }[];
    };
    expect(sources.sources.map((s) => [s.name, s.tables.map((t) => t.name).sort()])).toEqual([
      ['contracts', ['contracts', 'vendors']],
    ]);

    const models = renderModels(project.files, { schema: scratch });
    const compared = await withSourceWriter(ws.ctx, sourceId, async (tx) => {
      await materialise(tx, scratch, models);
      const written = (run.stats.destinations.out.table as string).split('.').map(q).join('.');
      const mine = `${q(scratch)}.${q('state_ceilings')}`;
      const count = async (statement: string) =>
        Number((await tx.query<{ n: string | number }>(`select count(*) as n from (${statement}) as t`))[0]!.n);
      const outcome = {
        ours: await count(`select * from ${written}`),
        theirs: await count(`select * from ${mine}`),
        onlyOurs: await count(`select * from ${written} except all select * from ${mine}`),
        onlyTheirs: await count(`select * from ${mine} except all select * from ${written}`),
      };
      await tx.query(`drop schema ${q(scratch)} cascade`);
      return outcome;
    });
    expect(compared.ours).toBeGreaterThan(5);
    expect(compared).toEqual({ ours: compared.ours, theirs: compared.ours, onlyOurs: 0, onlyTheirs: 0 });
  });

  it('has dbt tests that fail on the rows that stop our run, and no descriptions its reader is not cleared for', async () => {
    const { id } = await call('pipelines_create', { name: 'strict payments' });
    const add = (args: Record<string, unknown>) => call('pipelines_add_node', { pipeline: id, ...args });
    await add({ id: 'payments', type: 'source_dataset', config: { urn: demoUrn('contracts.payments') } });
    // Names dbt must quote: one with a space and capitals, one a reserved word.
    await add({
      id: 'renamed',
      type: 'select',
      after: 'payments',
      config: {
        columns: [
          { column: 'payment_id', as: 'user' },
          { column: 'contract_id' },
          { column: 'status' },
          { column: 'amount' },
          { column: 'interest_penalty' },
          { column: 'paid_on', as: 'Paid On' },
        ],
      },
    });
    await add({
      id: 'strict',
      type: 'validate',
      after: 'renamed',
      config: {
        onFail: 'stop',
        rules: [
          { check: 'not_null', column: 'Paid On' },
          { check: 'unique', column: 'contract_id' },
          { check: 'accepted_values', column: 'status', values: ['Paid', 'Pending'] },
          { check: 'range', column: 'amount', max: 50_000 },
          { check: 'expression', expression: 'interest_penalty = 0' },
        ],
      },
    });
    await add({
      id: 'out',
      type: 'destination_table',
      after: 'strict',
      config: { schema: 'contracts', table: 'strict_payments', mode: 'upsert', key: ['user', 'Paid On'] },
    });
    const run = await call('pipelines_run', { pipeline: id });
    expect(run.status).toBe('failed');
    const ours = new Map((run.stats.failures as { rule: string; rows: number }[]).map((f) => [f.rule, f.rows]));
    expect(ours.size).toBe(5);

    const project = await exportDbtProject(ws.ctx, id);
    const schema = parse(project.files.find((f) => f.path.endsWith('/schema.yml'))!.content) as {
      models: { name: string; columns: { name: string; quote?: boolean; data_tests?: unknown[] }[] }[];
    };
    const generic = schema.models
      .find((m) => m.name === 'strict')!
      .columns.flatMap((c) => (c.data_tests ?? []).map((test) => ({ column: c, test })));
    expect(
      schema.models
        .find((m) => m.name === 'strict')!
        .columns.filter((c) => c.quote)
        .map((c) => c.name),
    ).toEqual(['user', 'Paid On']);
    expect(project.files.find((f) => f.path.endsWith('/strict_payments.sql'))!.content).toMatch(
      /^\{\{ config\(materialized='incremental', unique_key=\['"user"', '"Paid On"'\], schema='contracts'\) \}\}/,
    );
    const models = renderModels(project.files, { schema: scratch });
    const failing = await withSourceWriter(ws.ctx, sourceId, async (tx) => {
      await materialise(
        tx,
        scratch,
        // Up to the validate node: the destination is what its failing tests keep dbt build from writing.
        models.filter((m) => m.name !== 'strict_payments'),
      );
      const count = async (statement: string) =>
        Number((await tx.query<{ n: string | number }>(`select count(*) as n from (${statement}) as t`))[0]!.n);
      const found: Record<string, number> = {};
      for (const { column, test } of generic) {
        found[`${column.name}: ${JSON.stringify(test)}`] = await count(
          genericTestSql(`${q(scratch)}.${q('strict')}`, column, test),
        );
      }
      for (const test of project.files.filter((f) => f.path.startsWith('tests/'))) {
        found[test.path.split('/').at(-1)!] = await count(renderJinja(test.content, { schema: scratch }).sql);
      }
      await tx.query(`drop schema ${q(scratch)} cascade`);
      return found;
    });
    // Rows for not_null and the singular tests, as our run counts them; offending values for unique and
    // accepted_values, as dbt counts them (one Rejected status; contracts paid more than once).
    expect(failing).toEqual({
      'Paid On: "not_null"': ours.get('Paid On is not null'),
      'contract_id: "unique"': expect.any(Number),
      'status: {"accepted_values":{"values":["Paid","Pending"]}}': 1,
      'strict__rule_4_range.sql': ours.get('amount between -∞ and 50000'),
      'strict__rule_5_expression.sql': ours.get('interest_penalty = 0'),
    });
    expect(failing['contract_id: "unique"']).toBeGreaterThan(0);
    expect(failing['contract_id: "unique"']).toBeLessThan(ours.get('contract_id is unique')!);

    // A column marked above the reader's clearance is described only to those cleared for it.
    const programs = await call('pipelines_create', { name: 'programs' });
    await call('pipelines_add_node', {
      pipeline: programs.id,
      id: 'programs',
      type: 'source_dataset',
      config: { urn: demoUrn('contracts.programs') },
    });
    await call('pipelines_add_node', {
      pipeline: programs.id,
      id: 'out',
      type: 'destination_table',
      after: 'programs',
      config: { schema: 'contracts', table: 'program_copy' },
    });
    const specialAccess = async (as: string) => {
      const exported = await exportDbtProject(await ws.contextFor(as), programs.id);
      const yamlOf = (suffix: string) => parse(exported.files.find((f) => f.path.endsWith(suffix))!.content);
      const sourcesFile = yamlOf('/sources.yml') as {
        sources: { tables: { columns: { name: string; description?: string }[] }[] }[];
      };
      const schemaFile = yamlOf('/schema.yml') as { models: { columns: { name: string }[] }[] };
      const find = (columns: { name: string }[]) => columns.find((c) => c.name === 'is_special_access');
      return {
        source: find(sourcesFile.sources[0]!.tables[0]!.columns),
        model: find(schemaFile.models[0]!.columns),
      };
    };
    expect(await specialAccess('j.alvarez')).toMatchObject({
      source: {
        description: expect.stringMatching(/special access program/),
        meta: { dataops_classification: 'S' },
      },
      model: { meta: { dataops_classification: 'S' } },
    });
    // Not cleared for it: a pipeline whose output carries that column is not there for this reader at all,
    // worded as for an id that does not exist, so its export cannot show the column either.
    await expect(specialAccess('a.chen')).rejects.toThrow(`no pipeline ${programs.id}:`);
  });

  it('is written by the CLI, which refuses a directory that is not empty unless forced', async () => {
    // An embedded catalog is one process's at a time: the CLI gets it once this test's workspace lets go.
    await closeWorkspace();
    const parent = mkdtempSync(path.join(tmpdir(), 'dataops-dbt-export-'));
    try {
      const out = path.join(parent, 'spend');
      const first = await runCli(['--db', db, 'pipelines', 'export-dbt', pipelineId, '--out', out]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(
        new RegExp(
          `^wrote dbt project monthly_contract_spend_by_vendor to ${out} from pipeline monthly contract spend by vendor version \\d+ \\(\\d+\\.\\d+\\.\\d+\\): 11 models, 3 sources, 7 tests\n`,
        ),
      );
      expect(first.stdout).toContain('  models/monthly_contract_spend_by_vendor/monthly_vendor_spend.sql\n');
      expect(first.stdout).toContain('set DATAOPS_MASK_SALT');
      expect(readFileSync(path.join(out, 'dbt_project.yml'), 'utf8')).toContain(
        'name: monthly_contract_spend_by_vendor',
      );
      // Nothing is left beside it: the project was built in a temporary directory and renamed into place.
      expect(readdirSync(parent)).toEqual(['spend']);

      writeFileSync(path.join(out, 'mine.txt'), 'keep me');
      const refused = await runCli(['--db', db, 'pipelines', 'export-dbt', pipelineId, '--out', out]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `dataops: ${out} is not empty; give --out a new or empty directory, or pass --force to replace what is there\n`,
      );
      expect(existsSync(path.join(out, 'mine.txt'))).toBe(true);

      const forced = await runCli([
        '--db',
        db,
        '--json',
        'pipelines',
        'export-dbt',
        'monthly contract spend by vendor',
        '--out',
        out,
        '--force',
      ]);
      expect(forced.stderr).toBe('');
      const summary = JSON.parse(forced.stdout) as { out: string; pipeline: { id: string; version: number } };
      expect(summary).toMatchObject({ out, pipeline: { id: pipelineId, version: exported.pipeline.version } });
      expect(existsSync(path.join(out, 'mine.txt'))).toBe(false);
      expect(readdirSync(parent)).toEqual(['spend']);

      // Version 2 holds one source node and nothing else yet: it does not validate, and nothing is written.
      const broken = await runCli([
        '--db',
        db,
        'pipelines',
        'export-dbt',
        pipelineId,
        '--out',
        `${out}-v2`,
        '--version',
        '2',
      ]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(
        /^dataops: cannot export pipeline monthly contract spend by vendor version 2 to dbt until it validates: /,
      );
      expect(existsSync(`${out}-v2`)).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
