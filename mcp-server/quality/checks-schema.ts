import type { SourceReader } from '../connectors/source-reader.js';
import type { CheckResult } from './check-result.js';
import type { Table } from './checks-sql.js';

/**
 * Schema rules read the table's columns from the source as it is now (not the catalog's copy from the
 * last ingestion), so a dropped or retyped column fails the check before anyone re-ingests.
 */

/** Type names people write for the names information_schema reports. */
const aliases: Record<string, string[]> = {
  'character varying': ['varchar', 'text', 'string'],
  character: ['char', 'bpchar'],
  integer: ['int', 'int4'],
  bigint: ['int8'],
  smallint: ['int2'],
  'double precision': ['float8', 'double', 'float'],
  real: ['float4'],
  numeric: ['decimal'],
  'timestamp without time zone': ['timestamp'],
  'timestamp with time zone': ['timestamptz'],
  boolean: ['bool'],
};

function sameType(expected: string, actual: string): boolean {
  const e = expected.trim().toLowerCase();
  const a = actual.trim().toLowerCase();
  return e === a || (aliases[a] ?? []).includes(e);
}

/** `cst_size*` and `%non_existing%` as anchored patterns. */
function namePattern(pattern: string): RegExp {
  const body = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/[*%]/g, '.*');
  return new RegExp(`^${body}$`, 'i');
}

type Outcome = Pick<CheckResult, 'passed' | 'checkedRows' | 'failedRows' | 'observed' | 'summary' | 'evidence'>;

export async function checkSchema(
  reader: SourceReader,
  table: Table,
  config: Record<string, unknown>,
): Promise<Outcome> {
  const statement =
    reader.dialect === 'mysql'
      ? 'select column_name as name, data_type as type from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position'
      : 'select column_name as name, data_type as type from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position';
  const found = (await reader.query<{ name: string; type: string }>(statement, [table.namespace, table.name])).map(
    (c) => ({
      name: String(c.name ?? (c as Record<string, unknown>).NAME),
      type: String(c.type ?? (c as Record<string, unknown>).TYPE),
    }),
  );
  const names = found.map((c) => c.name);
  const required = (config.requiredColumns as string[] | undefined) ?? [];
  const missing = required.filter((c) => !names.includes(c));
  const forbidden = ((config.forbiddenColumns as string[] | undefined) ?? []).flatMap((p) =>
    names.filter((n) => namePattern(p).test(n)),
  );
  const unexpected = config.exactColumns ? names.filter((n) => !required.includes(n)) : [];
  const wrongTypes = Object.entries((config.columnTypes as Record<string, string> | undefined) ?? {}).flatMap(
    ([name, expected]) => {
      const actual = found.find((c) => c.name === name)?.type;
      return actual !== undefined && sameType(expected, actual)
        ? []
        : [{ column: name, expected, actual: actual ?? null }];
    },
  );
  const wrongPositions = Object.entries((config.columnPositions as Record<string, number> | undefined) ?? {}).flatMap(
    ([name, expected]) => {
      const actual = names.indexOf(name);
      return actual === expected ? [] : [{ column: name, expected, actual: actual < 0 ? null : actual }];
    },
  );
  const problems = [
    ...missing.map((c) => `required column ${c} is missing`),
    ...[...new Set(forbidden)].map((c) => `forbidden column ${c} is present`),
    ...unexpected.map((c) => `column ${c} is not expected`),
    ...wrongTypes.map((w) => `column ${w.column} is ${w.actual ?? 'missing'}, expected ${w.expected}`),
    ...wrongPositions.map((w) => `column ${w.column} is at ${w.actual ?? 'no position'}, expected ${w.expected}`),
  ];
  return {
    passed: problems.length === 0,
    checkedRows: null,
    failedRows: null,
    observed: { columns: found, missing, forbidden: [...new Set(forbidden)], unexpected, wrongTypes, wrongPositions },
    summary: problems.length ? problems.join('; ') : `${names.length} columns as expected`,
    evidence: { statement },
  };
}
