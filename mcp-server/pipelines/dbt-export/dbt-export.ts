import { randomBytes } from 'node:crypto';
import { DataOpsError } from '../../../core/errors.js';
import type { Classification } from '../../../db/schema/types.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows } from '../../governance/access.js';
import type { AnalyzedNode, PipelineAnalysis } from '../analysis.js';
import { nodeSelect } from '../compile.js';
import { postgresDialect } from '../dialect.js';
import type { NodeConfig, ValidateRule } from '../nodes/index.js';
import { rulePasses } from '../nodes/validate-rules.js';
import { loadPipeline } from '../store.js';
import { analyzePipeline } from '../validate.js';
import { catalogDocs, describeColumns, describeNode, sourcesYaml } from './dbt-export-docs.js';
import { dbtName, escapeJinja, jinjaString, oneLine } from './dbt-jinja.js';
import {
  type DbtExport,
  type DbtMaterialization,
  type DbtProjectFile,
  generateSchemaNameMacro,
  maskSaltMacro,
  maskSaltVar,
  projectReadme,
  projectYaml,
  yamlFile,
} from './dbt-project-files.js';

export type { DbtExport, DbtMaterialization, DbtProjectFile } from './dbt-project-files.js';

interface ModelName {
  name: string;
  /** The relation's name when it differs from the model's (a destination table dbt cannot name a model after). */
  alias?: string;
}

/**
 * An equivalent dbt project for a pipeline version: one model per node that is not a source (sources become
 * `{{ source() }}` declared with the catalog's descriptions), each model's SQL the same select the pipeline
 * compiles to, destinations as tables or incremental models named as the table they write, `schema.yml` with
 * descriptions and the validate nodes' rules as dbt tests. Nothing is written here; the caller decides where
 * the files go. The workspace's salt never leaves: a hash mask reads its salt from a dbt var.
 */
export async function exportDbtProject(
  ctx: ServiceContext,
  ref: string,
  options: { version?: number } = {},
): Promise<DbtExport> {
  const pipeline = await loadPipeline(ctx, ref, options.version);
  const analysis = await analyzePipeline(ctx, pipeline.graph);
  if (analysis.issues.length) {
    throw new DataOpsError(
      'invalid_input',
      `cannot export pipeline ${pipeline.name} version ${pipeline.version} to dbt until it validates: ` +
        `${analysis.issues.map((i) => i.message).join('; ')}`,
    );
  }
  // dbt's own packages are named dbt and dbt_<adapter>: a project of that name would shadow their macros.
  const named = dbtName(pipeline.name, 'pipeline');
  const project = /^dbt(_|$)/.test(named) ? `pipeline_${named}`.slice(0, 63) : named;
  const names = modelNames(analysis);
  const docs = await catalogDocs(ctx, analysis);
  const notes = describeColumns(analysis, docs);
  const files: DbtProjectFile[] = [];
  const models: DbtExport['models'] = [];
  const tests: string[] = [];
  const schemaModels: Record<string, unknown>[] = [];
  let hashes = false;
  const marking = (classification: Classification | null | undefined) =>
    classification && clearanceAllows(ctx.principal.clearance, classification)
      ? { meta: { dataops_classification: classification } }
      : {};
  const about = `pipeline ${oneLine(pipeline.name)} version ${pipeline.version} (${pipeline.semver})`;

  for (const [nodeId, node] of analysis.nodes) {
    if (node.type === 'source_dataset') continue;
    const { name, alias } = names.get(nodeId)!;
    const materialized = materialization(node);
    const select = modelSelect(analysis, nodeId, names);
    hashes ||= select.hashes;
    const header = [
      `-- Node \`${nodeId}\` (${node.type}) of ${about}.`,
      ...materializationNote(node).map((line) => `-- ${line}`),
    ];
    files.push({
      path: `models/${project}/${name}.sql`,
      content: `${modelConfig(node, materialized, alias)}\n${escapeJinja(header.join('\n'))}\n${select.sql}\n`,
    });
    models.push({ name, nodeId, materialized });
    const columnTests = node.type === 'validate' ? validateTests(node, name, project, files, tests) : new Map();
    schemaModels.push({
      name,
      description: escapeJinja(describeNode(node, pipeline.name)),
      // The markings travel with the data (a team's governance tooling reads them from dbt's manifest), but
      // only those the reader is cleared for: a column above its clearance is a name and nothing more.
      ...marking(node.marking),
      columns: node.columns.map((c) => ({
        name: escapeJinja(c.name),
        // dbt's tests write column names as they are; one Postgres would fold or misread needs quoting.
        ...(bareIdentifier(c.name) ? {} : { quote: true }),
        data_type: c.type,
        ...marking(c.classification),
        ...(notes.get(nodeId)?.get(c.name) ? { description: escapeJinja(notes.get(nodeId)!.get(c.name)!) } : {}),
        ...(columnTests.has(c.name) ? { data_tests: columnTests.get(c.name) } : {}),
      })),
    });
  }

  const tables = docs.tables;
  files.push(
    { path: `models/${project}/schema.yml`, content: yamlFile({ version: 2, models: schemaModels }) },
    { path: `models/${project}/sources.yml`, content: yamlFile(sourcesYaml(tables)) },
    { path: 'dbt_project.yml', content: projectYaml(project, pipeline.semver, about) },
    { path: 'macros/generate_schema_name.sql', content: generateSchemaNameMacro },
  );
  if (hashes) files.push({ path: 'macros/dataops_mask_salt.sql', content: maskSaltMacro });
  const summary = {
    pipeline: { id: pipeline.id, name: pipeline.name, version: pipeline.version, semver: pipeline.semver },
    project,
    models,
    sources: uniqueTables(tables),
    tests,
    saltVar: hashes ? maskSaltVar : null,
  };
  files.push({ path: 'README.md', content: projectReadme(summary, ctx.clock()) });
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { ...summary, files };
}

function uniqueTables(tables: { schema: string; table: string }[]): string[] {
  return [...new Set(tables.map((t) => `${t.schema}.${t.table}`))].sort();
}

/**
 * A unique dbt name per model: a destination is named as the table it writes (what someone reading the dbt
 * project looks for), the others after their node ids; a clash takes a number.
 */
function modelNames(analysis: PipelineAnalysis): Map<string, ModelName> {
  const names = new Map<string, ModelName>();
  const taken = new Set<string>();
  const claim = (wanted: string) => {
    let name = wanted;
    for (let n = 2; taken.has(name); n++) name = `${wanted}_${n}`;
    taken.add(name);
    return name;
  };
  for (const [id, node] of analysis.nodes) {
    if (node.type !== 'destination_table') continue;
    const table = (node.config as NodeConfig<'destination_table'>).table;
    const name = claim(dbtName(table, 'output'));
    names.set(id, name === table ? { name } : { name, alias: table });
  }
  for (const [id, node] of analysis.nodes) {
    if (node.type !== 'source_dataset' && !names.has(id)) names.set(id, { name: claim(dbtName(id, 'node')) });
  }
  return names;
}

/**
 * Table destinations are tables (incremental where DataOps appends or upserts), so the output lands where
 * the pipeline's does. Validate nodes are views: dbt tests need a relation to query, and under `dbt build` a
 * failing test on one skips everything downstream, as a validate node that stops a DataOps run does.
 * Everything else is ephemeral: dbt inlines it as a CTE into the models that read it, which is how DataOps
 * compiles a pipeline (one statement per output), and it leaves nothing behind in the warehouse.
 */
function materialization(node: AnalyzedNode): DbtMaterialization {
  if (node.type === 'destination_table') {
    const mode = (node.config as NodeConfig<'destination_table'>).mode;
    return mode === 'append' || mode === 'upsert' ? 'incremental' : 'table';
  }
  // A file destination is a view: dbt writes no files, so the rows DataOps writes to the file are there to read.
  return node.type === 'validate' || node.type === 'destination_file' ? 'view' : 'ephemeral';
}

function materializationNote(node: AnalyzedNode): string[] {
  if (node.type === 'validate') {
    return [
      'A view, not ephemeral: dbt tests need a relation to query, and under `dbt build` a failing test here',
      'skips everything downstream, as a failing validate node stops a DataOps run before anything is written.',
    ];
  }
  if (node.type === 'destination_file') {
    const config = node.config as NodeConfig<'destination_file'>;
    return [
      `DataOps writes these rows to a ${config.format} file (${oneLine(config.path)}); dbt writes no files, so this`,
      'is a view holding the same rows, for whatever exports files from your warehouse.',
    ];
  }
  if (node.type !== 'destination_table') {
    return [
      'Ephemeral: dbt inlines this node as a CTE into the models that read it, as DataOps compiles a pipeline',
      'into one statement per output, so nothing is left in the warehouse between runs.',
    ];
  }
  const config = node.config as NodeConfig<'destination_table'>;
  switch (config.mode) {
    case 'replace':
      return ['Rebuilt on every run, as DataOps replaces the table (dbt also swaps the new table in when complete).'];
    case 'create':
      return ['DataOps creates this table once and refuses to overwrite it; dbt rebuilds a table model on every run.'];
    case 'append':
      return ['Incremental without a unique key: every run appends all its rows, as DataOps appends them.'];
    case 'upsert':
      return [
        'Incremental with a unique key: rows with a key already there are replaced and new keys added, as a',
        'DataOps upsert does.',
      ];
  }
}

/** Postgres's reserved key words (those that cannot name a column unquoted). */
const reservedWords = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation ' +
    'column concurrently constraint create cross current_catalog current_date current_role current_schema ' +
    'current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch ' +
    'for foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral ' +
    'leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer ' +
    'overlaps placing primary references returning right select session_user similar some symmetric system_user ' +
    'table tablesample then to trailing true union unique user using variadic verbose when where window with'
  ).split(' '),
);

/** A column name Postgres reads the same unquoted: lower case, no spaces or symbols, not a reserved word. */
function bareIdentifier(name: string): boolean {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !reservedWords.has(name);
}

function modelConfig(node: AnalyzedNode, materialized: DbtMaterialization, alias: string | undefined): string {
  const settings = [`materialized=${jinjaString(materialized)}`];
  if (node.type === 'destination_table') {
    const config = node.config as NodeConfig<'destination_table'>;
    if (config.mode === 'upsert') {
      // dbt writes the key into its merge SQL as is, so a name that needs quotes goes there quoted.
      const keys = config.key.map((k) => jinjaString(bareIdentifier(k) ? k : postgresDialect.quote(k)));
      settings.push(`unique_key=[${keys.join(', ')}]`);
    }
    settings.push(`schema=${jinjaString(config.schema)}`);
    if (alias) settings.push(`alias=${jinjaString(alias)}`);
  }
  return `{{ config(${settings.join(', ')}) }}`;
}

/**
 * The node's select as the pipeline compiles it, with its inputs named by `ref()`/`source()`. The compiler's
 * output is escaped for Jinja first (a literal in a filter may hold `{{`), and only then are the placeholders
 * it was given for inputs and for the salt replaced by the Jinja that names them.
 */
function modelSelect(
  analysis: PipelineAnalysis,
  nodeId: string,
  names: Map<string, ModelName>,
): { sql: string; hashes: boolean } {
  const nonce = randomBytes(8).toString('hex');
  const placeholders = new Map<string, string>();
  const placeholder = (jinja: string) => {
    const token = `__dataops_${nonce}_${placeholders.size}__`;
    placeholders.set(token, jinja);
    return token;
  };
  const source = (schema: string, table: string) =>
    placeholder(`{{ source(${jinjaString(schema)}, ${jinjaString(table)}) }}`);
  const reference = (id: string) => {
    const input = analysis.nodes.get(id)!;
    if (input.type === 'source_dataset') return source(input.table!.schema, input.table!.name);
    return placeholder(`{{ ref(${jinjaString(names.get(id)!.name)}) }}`);
  };
  const saltToken = `dataops_salt_${nonce}`;
  const compiled = nodeSelect(analysis, nodeId, {
    dialect: postgresDialect,
    salt: saltToken,
    reference,
    table: source,
  });
  const saltLiteral = postgresDialect.literal(saltToken);
  let text = escapeJinja(compiled).replaceAll(saltLiteral, `{{ ${maskSaltVar}() }}`);
  for (const [token, jinja] of placeholders) text = text.replaceAll(token, jinja);
  return { sql: text, hashes: compiled.includes(saltLiteral) };
}

/**
 * dbt tests for a validate node's rules, on its model: not_null, unique and accepted_values as dbt's own
 * generic tests (returned by column for schema.yml); range and expression rules as singular tests in tests/,
 * so the project needs no package. The rules are checked on the node's output, which is its input when it
 * stops the run, and what is left of it when it quarantines (there they hold by construction and document it).
 */
function validateTests(
  node: AnalyzedNode,
  model: string,
  project: string,
  files: DbtProjectFile[],
  tests: string[],
): Map<string, unknown[]> {
  const byColumn = new Map<string, unknown[]>();
  const add = (column: string, test: unknown, label: string) => {
    byColumn.set(column, [...(byColumn.get(column) ?? []), test]);
    tests.push(`${model}: ${label}`);
  };
  const rules = (node.config as NodeConfig<'validate'>).rules;
  for (const [index, rule] of rules.entries()) {
    switch (rule.check) {
      case 'not_null':
      case 'unique':
        add(rule.column, rule.check, `${rule.check}(${rule.column})`);
        break;
      case 'accepted_values': {
        // dbt quotes every value or none: numbers alone go unquoted; with any text, all are compared as text
        // literals, which dbt writes between quotes as they are, so a quote inside a value is doubled here.
        const numbers = rule.values.every((v) => typeof v === 'number');
        const values = rule.values.map((v) => (numbers ? v : escapeJinja(String(v).replaceAll("'", "''"))));
        add(
          rule.column,
          { accepted_values: { values, ...(numbers ? { quote: false } : {}) } },
          `accepted_values(${rule.column})`,
        );
        break;
      }
      case 'range':
      case 'expression': {
        const name = `${model}__rule_${index + 1}_${rule.check}`;
        files.push({ path: `tests/${project}/${name}.sql`, content: singularTest(node, model, rule, index) });
        tests.push(`${model}: ${name}`);
        break;
      }
    }
  }
  return byColumn;
}

function singularTest(node: AnalyzedNode, model: string, rule: ValidateRule, index: number): string {
  const passes = rulePasses(node, rule, index, postgresDialect);
  const describe = rule.check === 'range' ? `${rule.column} between ${rule.min ?? '-∞'} and ${rule.max ?? '∞'}` : '';
  const what = rule.check === 'expression' ? (rule.name ?? rule.expression) : describe;
  return `${escapeJinja(
    [
      `-- Rule ${index + 1} (${rule.check}) of validate node \`${node.node.id}\`: ${oneLine(what)}.`,
      '-- Returns the rows that break it; dbt fails the test when there are any (unknown passes, as in DataOps).',
    ].join('\n'),
  )}\nselect * from {{ ref(${jinjaString(model)}) }} where not ${escapeJinja(passes)}\n`;
}
