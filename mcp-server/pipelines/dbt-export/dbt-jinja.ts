/**
 * Text written into a dbt project passes through Jinja: model SQL, and every string of its YAML (dbt renders
 * names at parse time, descriptions and test arguments later). What comes from users or the catalog (a string
 * literal in a filter, a column's description) must reach the warehouse as written, never run as a template:
 * each `{` that would open a Jinja tag becomes `{{ '{' }}`, which renders back to `{`.
 */
export function escapeJinja(text: string): string {
  return text.replace(/\{(?=[{%#])/g, "{{ '{' }}");
}

/** A Jinja string literal, for names inside `{{ ref(…) }}`, `{{ source(…) }}` and `{{ config(…) }}`. */
export function jinjaString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * A dbt resource name (models, tests, the project) made from free text: lower case letters, digits and
 * underscores, starting with a letter, as dbt asks of project names and as every adapter accepts unquoted.
 */
export function dbtName(text: string, fallback: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  if (!slug) return fallback;
  return /^[a-z]/.test(slug) ? slug : `${fallback}_${slug}`.slice(0, 63);
}

/** A one-line comment body: data can hold newlines that would end a SQL `--` comment early. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
