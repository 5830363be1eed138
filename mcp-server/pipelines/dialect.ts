import { DataOpsError } from '../../core/errors.js';

/**
 * The seam for other engines: what differs between SQL dialects when a pipeline is written out. Postgres is
 * the one there is today; a warehouse dialect (Snowflake, Databricks SQL, Trino) implements the same few
 * functions and the compiler and node modules stay as they are.
 */
export interface SqlDialect {
  readonly name: 'postgres';
  quote(identifier: string): string;
  literal(value: string | number | boolean | null): string;
  limit(count: number): string;
  /** A value as text, salted and hashed to 16 hex digits (null stays null). */
  hash(expression: string, salt: string): string;
  asText(expression: string): string;
}

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  quote: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
  literal: (value) => {
    if (value === null) return 'null';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new DataOpsError('invalid_input', `${value} is not a number SQL can hold`);
      return String(value);
    }
    // An E'' string means the same whatever standard_conforming_strings is set to.
    return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  },
  limit: (count) => `limit ${Math.trunc(count)}`,
  hash: (expression, salt) => `('hash:' || left(md5(${postgresDialect.literal(salt)} || (${expression})::text), 16))`,
  asText: (expression) => `(${expression})::text`,
};

export interface CompileOptions {
  dialect?: SqlDialect;
  /** Salt for mask nodes that hash. */
  salt: string;
  /**
   * How a node's SQL names the output of a node it reads; the CTE's name by default. An export that writes
   * one model per node (dbt's `{{ ref('…') }}`) names it its own way with the same SQL around it.
   */
  reference?: (nodeId: string) => string;
  /** How a source node names the table it reads; `schema.table` by default (dbt's `{{ source(…) }}`). */
  table?: (schema: string, name: string) => string;
}

/** Prefix of helper columns the compiler adds inside a node; never part of an output. */
export const helperPrefix = '__dataops_';

/** A node's output columns, quoted and comma-separated (each prefixed `alias.` when given). */
export function columnList(columns: { name: string }[], dialect: SqlDialect, alias?: string): string {
  return columns.map((c) => `${alias ? `${alias}.` : ''}${dialect.quote(c.name)}`).join(', ');
}
