import type { DiscoveredColumn } from '../types.js';
import { resolveColumnType, type ValueKind } from './infer-column-type.js';

/** What one column of a schemaless file has shown so far: the kinds of its values and how many were present. */
export class ColumnStats {
  readonly kinds = new Set<ValueKind>();
  present = 0;

  constructor(readonly name: string) {}

  /** Once text has been seen in a CSV column nothing can narrow it again, so callers may skip classifying. */
  get isText(): boolean {
    return this.kinds.has('text');
  }

  observe(kind: ValueKind | undefined): void {
    if (kind === undefined) return;
    this.present++;
    this.kinds.add(kind);
  }
}

/** Turns column stats into catalog columns; a column is nullable when any row lacked a value (or there are no rows). */
export function toDiscoveredColumns(
  stats: Iterable<ColumnStats>,
  rowCount: number,
  nestedWins: boolean,
): DiscoveredColumn[] {
  return [...stats].map((column, index) => ({
    name: column.name,
    position: index + 1,
    dataType: resolveColumnType(column.kinds, nestedWins),
    nullable: rowCount === 0 || column.present < rowCount,
    isPrimaryKey: false,
  }));
}
