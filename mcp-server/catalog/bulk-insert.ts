import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { queryRows, type Tx } from '../../db/create-db.js';

/** Rows per statement: round trips and per-statement work vanish, and each statement's JSON stays a few MB. */
const rowsPerStatement = 5000;

export interface BulkInsertOptions {
  /** Extra JSON fields, by name and SQL type, that `computed` expressions read as `x.<name>`. */
  inputs?: Record<string, string>;
  /** Columns (by schema property) whose value is an SQL expression over the JSON fields `x.*`. */
  computed?: Record<string, SQL>;
  /** Columns to return, e.g. sql`id, urn`. */
  returning?: SQL;
}

/**
 * Inserts rows built for `table` (keys named as the drizzle schema's properties), each statement's rows
 * passed as one JSON parameter and read with `json_to_recordset`. A sync of ten thousand tables inserts
 * a hundred thousand columns; as one placeholder per value, most of that time went into building,
 * sending and parsing statements with thousands of parameters. Every row has the same keys; columns
 * left out take their defaults. Works the same on PGlite and on a server. `json`, not `jsonb`: each
 * field's text goes straight to its column type, where jsonb would first turn every number into a
 * numeric (a vector is 256 of them); pass vectors as their text, `[x,y,...]`, for the same reason.
 */
export async function bulkInsert<R = never>(
  tx: Tx,
  table: PgTable,
  rows: Record<string, unknown>[],
  options: BulkInsertOptions = {},
): Promise<R[]> {
  if (rows.length === 0) return [];
  const schemaColumns = getTableColumns(table);
  const computed = options.computed ?? {};
  const given = Object.keys(rows[0]!).filter((key) => key in schemaColumns && !(key in computed));
  const targets = [...given, ...Object.keys(computed)].map((key) => sql.identifier(schemaColumns[key]!.name));
  const fields = [
    ...given.map((key) => sql`${sql.identifier(key)} ${sql.raw(schemaColumns[key]!.getSQLType())}`),
    ...Object.entries(options.inputs ?? {}).map(([name, type]) => sql`${sql.identifier(name)} ${sql.raw(type)}`),
  ];
  const values = [
    ...given.map((key) => sql`x.${sql.identifier(key)}`),
    ...Object.values(computed).map((expression) => sql`${expression}`),
  ];
  const returned: R[] = [];
  for (let i = 0; i < rows.length; i += rowsPerStatement) {
    const json = JSON.stringify(rows.slice(i, i + rowsPerStatement));
    const statement = sql`insert into ${sql.identifier(getTableName(table))} (${sql.join(targets, sql`, `)})
      select ${sql.join(values, sql`, `)} from json_to_recordset(${json}::json) as x(${sql.join(fields, sql`, `)})
      ${options.returning ? sql`returning ${options.returning}` : sql``}`;
    if (options.returning) returned.push(...(await queryRows<R>(tx, statement)));
    else await tx.execute(statement);
  }
  return returned;
}
