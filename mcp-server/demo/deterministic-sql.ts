/**
 * Builders for the SQL expressions the demo uses to generate rows inside the database. Every "random" choice is
 * arithmetic on a row number, so the same statements produce the same rows on PGlite and on any Postgres server.
 */

/** The demo's fixed "today": every date is relative to it, so nothing depends on when the demo is loaded. */
export const demoAsOf = '2026-06-30';

/** The reference date as a SQL literal. */
export const asOf = `DATE '${demoAsOf}'`;

/** A list written as text, entries separated by `;`: keeps long reference lists compact. */
export function list(text: string): string[] {
  return text
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** A SQL string literal. */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * A pseudo-random integer in [0, n) for the integer expression `i`. Different salts give uncorrelated columns; a
 * quadratic term keeps neighbouring rows from stepping through the choices in order.
 */
export function hashInt(i: string, salt: number, n: number | string): string {
  const a = 7919 + salt * 104;
  const b = 2 * salt + 17;
  return `(((((${i})::bigint * ${a} + (${i})::bigint * (${i}) * ${b} + ${salt * 1013}) % 1000003) % (${n}))::int)`;
}

/**
 * A permutation of [0, 2^bits) applied to `i`: distinct inputs give distinct outputs that do not look sequential,
 * for identifiers that must be unique (SSNs, DoD IDs, CAGE codes).
 */
export function scramble(i: string, bits: number): string {
  const mask = 2 ** bits - 1;
  const shift = Math.floor(bits / 2);
  // Multiply by an odd constant and xor-shift, twice: both steps are invertible modulo 2^bits.
  const a = `(((${i})::bigint * 2654435761) & ${mask})`;
  const b = `(((${a} # (${a} >> ${shift})) * 1597334677) & ${mask})`;
  return `(${b} # (${b} >> ${shift}))`;
}

/** One of `values`, chosen by `hashInt(i, salt)`. */
export function pick(values: readonly string[], i: string, salt: number): string {
  return `(ARRAY[${values.map(lit).join(',')}])[1 + ${hashInt(i, salt, values.length)}]`;
}

/** The integer expression `i` as `width` upper-case base-36 digits (serial parts of document numbers). */
export function base36(i: string, width: number): string {
  const digits = [];
  for (let k = width - 1; k >= 0; k--) {
    digits.push(`substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1 + ((${i})::bigint / ${36 ** k} % 36)::int, 1)`);
  }
  return `(${digits.join(' || ')})`;
}

/** The US federal fiscal year (starting 1 October) of a date expression. */
export function fiscalYear(date: string): string {
  return `extract(year FROM (${date}) + 92)::smallint`;
}

/** `COMMENT ON` statements for a table (or view) and some of its columns; a null description leaves it undescribed. */
export function commentStatements(
  table: string,
  description: string | null,
  columns: Record<string, string> = {},
  kind: 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW' = 'TABLE',
): string[] {
  const statements = description === null ? [] : [`COMMENT ON ${kind} ${table} IS ${lit(description)}`];
  for (const [column, text] of Object.entries(columns)) {
    statements.push(`COMMENT ON COLUMN ${table}.${column} IS ${lit(text)}`);
  }
  return statements;
}

/** Keys of a table, added after its bulk fill: building an index once is several times faster than row by row. */
export function keys(table: string, primaryKey: string, ...unique: string[]): string {
  return `ALTER TABLE ${table} ADD PRIMARY KEY (${primaryKey})${unique.map((u) => `, ADD UNIQUE (${u})`).join('')}`;
}

/** A named foreign key; names are stable so later tests and lineage can refer to them. */
export function foreignKey(table: string, column: string, references: string): string {
  const name = `fk_${table.split('.')[1]}_${column}`;
  return `ALTER TABLE ${table} ADD CONSTRAINT ${name} FOREIGN KEY (${column}) REFERENCES ${references}`;
}
