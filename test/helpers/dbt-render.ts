import type { SourceTransaction } from '../../mcp-server/connectors/source-reader.js';

/**
 * What dbt would make of an exported project, for tests: dbt itself is not installed here, so this renders
 * the little Jinja the export writes (`config`, `ref`, `source`, the salt macro and the `{{ '{' }}` escape)
 * and refuses anything else, so an export that starts writing other Jinja fails the test instead of passing
 * by accident.
 */
export interface RenderedModel {
  name: string;
  materialized: string;
  config: Record<string, string>;
  refs: string[];
  sql: string;
}

const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const jinjaStrings = (text: string) =>
  [...text.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));

export function renderJinja(
  template: string,
  options: { schema: string; salt?: string },
): Omit<RenderedModel, 'name' | 'materialized'> {
  const config: Record<string, string> = {};
  const refs: string[] = [];
  const outside = template.replace(/\{\{[\s\S]*?\}\}/g, '');
  if (/\{[%#]/.test(outside)) throw new Error(`the test renderer knows no Jinja tags, found one in:\n${template}`);
  const sql = template.replace(/\{\{\s*([\s\S]*?)\s*\}\}/g, (_, inner: string) => {
    if (inner === "'{'") return '{';
    const call = /^(\w+)\(([\s\S]*)\)$/.exec(inner);
    if (!call) throw new Error(`the test renderer does not know {{ ${inner} }}`);
    const [, fn, args] = call as unknown as [string, string, string];
    switch (fn) {
      case 'config':
        for (const m of args.matchAll(/(\w+)=('(?:[^'\\]|\\.)*'|\[[^\]]*\])/g)) config[m[1]!] = m[2]!;
        return '';
      case 'ref': {
        const [name] = jinjaStrings(args) as [string];
        refs.push(name);
        return `${q(options.schema)}.${q(name)}`;
      }
      case 'source': {
        const [schema, table] = jinjaStrings(args) as [string, string];
        return `${q(schema)}.${q(table)}`;
      }
      case 'dataops_mask_salt':
        if (options.salt === undefined) throw new Error('the project hashes but no salt was given');
        return `'${options.salt.replaceAll("'", "''")}'`;
      default:
        throw new Error(`the test renderer does not know {{ ${inner} }}`);
    }
  });
  return { config, refs, sql };
}

/** Every model of the project, rendered, in dependency order (as `dbt run` orders them). */
export function renderModels(
  files: { path: string; content: string }[],
  options: { schema: string; salt?: string },
): RenderedModel[] {
  const models = files
    .filter((f) => /^models\/.+\.sql$/.test(f.path))
    .map((f) => {
      const rendered = renderJinja(f.content, options);
      const name = f.path
        .split('/')
        .at(-1)!
        .replace(/\.sql$/, '');
      return { name, materialized: jinjaStrings(rendered.config.materialized ?? "'view'")[0]!, ...rendered };
    });
  const ordered: RenderedModel[] = [];
  const placed = new Set<string>();
  while (ordered.length < models.length) {
    const ready = models.filter((m) => !placed.has(m.name) && m.refs.every((r) => placed.has(r)));
    if (ready.length === 0) throw new Error('the models reference each other in a cycle or reference a missing model');
    for (const m of ready) {
      ordered.push(m);
      placed.add(m.name);
    }
  }
  return ordered;
}

/** Materialises rendered models in `schema`: ephemeral and view models as views, the others as tables. */
export async function materialise(tx: SourceTransaction, schema: string, models: RenderedModel[]): Promise<void> {
  await tx.query(`create schema ${q(schema)}`);
  for (const model of models) {
    const kind = model.materialized === 'ephemeral' || model.materialized === 'view' ? 'view' : 'table';
    await tx.query(`create ${kind} ${q(schema)}.${q(model.name)} as\n${model.sql}`);
  }
}

/**
 * The query dbt's own generic test would run (its default macros): it returns failures, so a test passes on no
 * rows. unique and accepted_values return one row per offending value, not per row, as dbt counts them.
 */
export function genericTestSql(relation: string, column: { name: string; quote?: boolean }, test: unknown): string {
  // dbt writes the column as it is named unless the column says `quote: true`.
  const c = column.quote ? q(column.name) : column.name;
  if (test === 'not_null') return `select ${c} from ${relation} where ${c} is null`;
  if (test === 'unique') {
    return `select ${c} as unique_field, count(*) as n_records from ${relation} where ${c} is not null group by ${c} having count(*) > 1`;
  }
  const accepted = (test as { accepted_values?: { values: (string | number)[]; quote?: boolean } }).accepted_values;
  if (accepted) {
    const list = accepted.values.map((v) => (accepted.quote === false ? String(v) : `'${v}'`)).join(', ');
    return `select value_field from (select ${c} as value_field, count(*) as n_records from ${relation} group by ${c}) as all_values where value_field not in (${list})`;
  }
  throw new Error(`the test renderer does not know the generic test ${JSON.stringify(test)}`);
}
