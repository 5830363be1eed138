import { z } from 'zod';
import { DataOpsError } from '../../core/errors.js';

/**
 * The parts of dbt's artifacts the catalog reads: manifest.json (schema v7 to v12, dbt 1.3 to 1.10),
 * run_results.json and catalog.json. Objects are loose: dbt adds fields in every release, and only
 * what is read here is checked.
 */

const strings = z.array(z.string());
/** `config.tags` may be one string or a list. */
const tagList = z.union([z.string().transform((t) => [t]), strings]);
const meta = z.record(z.string(), z.unknown());

const column = z.looseObject({
  name: z.string(),
  description: z.string().nullish(),
  data_type: z.string().nullish(),
  tags: strings.nullish(),
  meta: meta.nullish(),
});

const config = z.looseObject({
  enabled: z.boolean().nullish(),
  materialized: z.string().nullish(),
  tags: tagList.nullish(),
  meta: meta.nullish(),
  group: z.string().nullish(),
  severity: z.string().nullish(),
  where: z.string().nullish(),
});

const node = z.looseObject({
  unique_id: z.string(),
  resource_type: z.string(),
  name: z.string(),
  package_name: z.string().nullish(),
  database: z.string().nullish(),
  schema: z.string().nullish(),
  alias: z.string().nullish(),
  /** Sources name their table here. */
  identifier: z.string().nullish(),
  source_name: z.string().nullish(),
  source_description: z.string().nullish(),
  description: z.string().nullish(),
  tags: tagList.nullish(),
  meta: meta.nullish(),
  config: config.nullish(),
  group: z.string().nullish(),
  columns: z.record(z.string(), column).nullish(),
  depends_on: z.looseObject({ nodes: strings.nullish() }).nullish(),
  compiled_code: z.string().nullish(),
  /** Manifests before v7 called it compiled_sql; some tools still write it. */
  compiled_sql: z.string().nullish(),
  raw_code: z.string().nullish(),
  original_file_path: z.string().nullish(),
  test_metadata: z.looseObject({ name: z.string(), namespace: z.string().nullish(), kwargs: meta.nullish() }).nullish(),
  column_name: z.string().nullish(),
  attached_node: z.string().nullish(),
  file_key_name: z.string().nullish(),
  relation_name: z.string().nullish(),
  loader: z.string().nullish(),
});

const owner = z.looseObject({ email: z.union([z.string(), strings]).nullish(), name: z.string().nullish() }).nullish();

const exposure = z.looseObject({
  unique_id: z.string(),
  name: z.string(),
  type: z.string(),
  label: z.string().nullish(),
  owner,
  description: z.string().nullish(),
  url: z.string().nullish(),
  maturity: z.string().nullish(),
  tags: tagList.nullish(),
  meta: meta.nullish(),
  config: config.nullish(),
  depends_on: z.looseObject({ nodes: strings.nullish() }).nullish(),
  package_name: z.string().nullish(),
});

const manifest = z.looseObject({
  metadata: z.looseObject({
    dbt_schema_version: z.string(),
    dbt_version: z.string().nullish(),
    generated_at: z.string().nullish(),
    invocation_id: z.string().nullish(),
    project_name: z.string().nullish(),
    project_id: z.string().nullish(),
    adapter_type: z.string().nullish(),
  }),
  nodes: z.record(z.string(), node),
  sources: z.record(z.string(), node).nullish(),
  exposures: z.record(z.string(), exposure).nullish(),
  groups: z.record(z.string(), z.looseObject({ name: z.string(), owner })).nullish(),
  disabled: z.record(z.string(), z.array(z.looseObject({ resource_type: z.string() }))).nullish(),
});

export type DbtNode = z.infer<typeof node>;
export type DbtExposure = z.infer<typeof exposure>;
export type DbtOwner = z.infer<typeof owner>;
export type DbtManifest = z.infer<typeof manifest> & { version: number; project: string };

const timing = z.looseObject({
  name: z.string(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
});
const runResults = z.looseObject({
  metadata: z.looseObject({
    dbt_schema_version: z.string().nullish(),
    generated_at: z.string().nullish(),
    invocation_id: z.string().nullish(),
    invocation_started_at: z.string().nullish(),
    dbt_version: z.string().nullish(),
  }),
  results: z.array(
    z.looseObject({
      unique_id: z.string(),
      status: z.string(),
      timing: z.array(timing).nullish(),
      execution_time: z.number().nullish(),
      message: z.string().nullish(),
      failures: z.number().nullish(),
      adapter_response: z.looseObject({ rows_affected: z.number().nullish() }).nullish(),
    }),
  ),
  elapsed_time: z.number().nullish(),
  args: z.looseObject({ which: z.string().nullish() }).nullish(),
});
export type DbtRunResults = z.infer<typeof runResults>;

const catalogTable = z.looseObject({
  metadata: z.looseObject({
    type: z.string(),
    schema: z.string(),
    name: z.string(),
    database: z.string().nullish(),
    comment: z.string().nullish(),
  }),
  columns: z.record(
    z.string(),
    z.looseObject({ type: z.string(), index: z.number(), name: z.string(), comment: z.string().nullish() }),
  ),
});
const catalog = z.looseObject({
  metadata: z.looseObject({ dbt_schema_version: z.string().nullish() }).nullish(),
  nodes: z.record(z.string(), catalogTable),
  sources: z.record(z.string(), catalogTable).nullish(),
});
export type DbtCatalog = z.infer<typeof catalog>;
export type DbtCatalogTable = z.infer<typeof catalogTable>;

export const supportedManifestVersions = { min: 7, max: 12 };

function invalid(what: string, error: z.ZodError): DataOpsError {
  const issue = error.issues[0]!;
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return new DataOpsError(
    'invalid_input',
    `not a dbt ${what}: ${where.replace(/^\./, '') || 'the file'}: ${issue.message}`,
  );
}

/** Checks a manifest's schema version (v7 to v12) and shape; names the project. */
export function parseManifest(raw: unknown): DbtManifest {
  const version = /\/manifest\/v(\d+)\.json$/.exec(
    String((raw as { metadata?: { dbt_schema_version?: unknown } })?.metadata?.dbt_schema_version ?? ''),
  );
  if (!version) {
    throw new DataOpsError(
      'invalid_input',
      'not a dbt manifest: metadata.dbt_schema_version is missing (run `dbt parse` or `dbt compile` to write target/manifest.json)',
    );
  }
  const n = Number(version[1]);
  if (n < supportedManifestVersions.min || n > supportedManifestVersions.max) {
    throw new DataOpsError(
      'invalid_input',
      `dbt manifest schema v${n} is not supported: this reads v${supportedManifestVersions.min} to v${supportedManifestVersions.max} (dbt 1.3 to 1.10)`,
    );
  }
  const parsed = manifest.safeParse(raw);
  if (!parsed.success) throw invalid('manifest', parsed.error);
  return { ...parsed.data, version: n, project: projectName(parsed.data) };
}

/** v10 and later name the project in the metadata; before that, it is the package most resources belong to. */
function projectName(m: z.infer<typeof manifest>): string {
  if (m.metadata.project_name) return m.metadata.project_name;
  const counts = new Map<string, number>();
  for (const n of Object.values(m.nodes)) {
    if (n.package_name && ['model', 'seed', 'snapshot'].includes(n.resource_type))
      counts.set(n.package_name, (counts.get(n.package_name) ?? 0) + 1);
  }
  const [top] = [...counts].sort((a, b) => b[1] - a[1]);
  if (!top)
    throw new DataOpsError(
      'invalid_input',
      'the dbt manifest has no models, seeds or snapshots to name its project by',
    );
  return top[0];
}

export function parseRunResults(raw: unknown): DbtRunResults {
  const parsed = runResults.safeParse(raw);
  if (!parsed.success) throw invalid('run_results.json', parsed.error);
  return parsed.data;
}

export function parseCatalog(raw: unknown): DbtCatalog {
  const parsed = catalog.safeParse(raw);
  if (!parsed.success) throw invalid('catalog.json', parsed.error);
  return parsed.data;
}

/** The owner dbt names for a resource: `meta.owner`, then the owner of its group (email, else name). */
export function ownerOf(
  item: {
    meta?: Record<string, unknown> | null;
    config?: { meta?: Record<string, unknown> | null; group?: string | null } | null;
    group?: string | null;
  },
  groups: DbtManifest['groups'],
): string | undefined {
  const declared = item.meta?.owner ?? item.config?.meta?.owner;
  if (typeof declared === 'string' && declared) return declared;
  const groupName = item.group ?? item.config?.group;
  const group = groupName ? Object.values(groups ?? {}).find((g) => g.name === groupName) : undefined;
  return personOf(group?.owner);
}

export function personOf(owner: DbtOwner): string | undefined {
  const email = Array.isArray(owner?.email) ? owner.email[0] : owner?.email;
  return email || owner?.name || undefined;
}

/** A model's SQL as dbt compiled it (`compiled_code`; `compiled_sql` in older artifacts), if it was compiled. */
export function compiledSql(node: DbtNode): string | null {
  return node.compiled_code ?? node.compiled_sql ?? null;
}
