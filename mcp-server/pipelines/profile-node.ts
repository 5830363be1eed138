import type { SourceTransaction } from '../connectors/source-reader.js';
import { columnKind, quoteIdent } from '../quality/profile-sql.js';
import type { PipelineAnalysis } from './analysis.js';
import { compileNode } from './compile.js';
import type { CompileOptions } from './dialect.js';
import type { NodeConfig } from './nodes/index.js';

/** What a profile node records of the rows passing through it in a run. */
export interface NodeProfile {
  rows: number;
  columns: Record<string, { nulls: number; distinct: number | null; min: string | null; max: string | null }>;
}

/**
 * Profiles the rows at a profile node in one pass: row count, and per column its nulls, distinct values
 * (not for types without equality, such as json) and, for numbers, text and times, the least and greatest
 * value as text. Column kinds are the quality profiler's, so both profile the same columns the same way.
 */
export async function profileNodeRows(
  tx: SourceTransaction,
  analysis: PipelineAnalysis,
  nodeId: string,
  options: CompileOptions,
): Promise<NodeProfile> {
  const node = analysis.nodes.get(nodeId)!;
  const chosen = (node.config as NodeConfig<'profile'>).columns;
  const columns = node.columns
    .filter((c) => chosen.length === 0 || chosen.includes(c.name))
    .map((c) => ({ name: c.name, kind: columnKind('postgres', c.type) }));
  const parts = ['count(*) as n'];
  columns.forEach((c, i) => {
    const col = quoteIdent('postgres', c.name);
    parts.push(`count(${col}) as c${i}_nonnull`);
    if (c.kind !== 'skipped') parts.push(`count(distinct ${col}) as c${i}_distinct`);
    if (c.kind === 'number' || c.kind === 'text' || c.kind === 'temporal') {
      parts.push(`cast(min(${col}) as text) as c${i}_min`, `cast(max(${col}) as text) as c${i}_max`);
    }
  });
  const [row] = await tx.query<Record<string, string | number | null>>(
    compileNode(analysis, nodeId, options, (quoted) => `select ${parts.join(', ')} from ${quoted}`),
  );
  const rows = Number(row!.n);
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    rows,
    columns: Object.fromEntries(
      columns.map((c, i) => [
        c.name,
        {
          nulls: rows - Number(row![`c${i}_nonnull`]),
          distinct: row![`c${i}_distinct`] === undefined ? null : Number(row![`c${i}_distinct`]),
          min: text(row![`c${i}_min`]),
          max: text(row![`c${i}_max`]),
        },
      ]),
    ),
  };
}
