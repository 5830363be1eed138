import { z } from 'zod';
import { defineNode } from './node-module.js';
import { passRows } from './shared.js';

const config = z
  .object({
    format: z.enum(['csv', 'json', 'parquet']),
    path: z
      .string()
      .min(1)
      .max(500)
      .describe("Where the file goes, relative to the workspace's exports directory, e.g. `spend/monthly.csv`"),
  })
  .strict();

/** Why a file destination's path is unusable, or null: it stays inside the exports directory and says its format. */
export function exportPathProblem({ path, format }: z.output<typeof config>): string | null {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\')) {
    return `path ${path} must be relative to the exports directory, with / between folders (e.g. spend/monthly.${format})`;
  }
  if (path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    return `path ${path} must stay inside the exports directory: no empty, . or .. parts`;
  }
  if (!path.endsWith(`.${format}`)) return `path ${path} holds ${format}, so end it with .${format}`;
  return null;
}

export const destinationFile = defineNode({
  type: 'destination_file',
  config,
  label: 'File',
  category: 'destination',
  inputs: [{ handle: null, label: 'Rows', arity: 'one' }],
  help: 'Writes the rows to a CSV, JSON or Parquet file in the exports directory.',
  docs: {
    summary:
      "Writes the rows as a file under the workspace's exports directory, never through a symbolic link leading out of it nor over a file another pipeline wrote. It is written beside its name and renamed into place only once the run's transaction has committed; a dev run writes `<name>_dev.<format>` beside it.",
    fields: {
      format: '`csv`, `json` or `parquet`.',
      path: 'Where the file goes, relative to the exports directory, ending in the format (e.g. spend/monthly.csv).',
    },
    example: { format: 'csv', path: 'spend/monthly.csv' },
  },
  analyze(a, _upstream, { fail, input }) {
    const problem = exportPathProblem(a.config);
    if (problem) fail(problem);
    a.columns = input;
    return undefined;
  },
  compile: passRows,
  // A file is not traced further: nothing is published about its columns.
  trace: (_node, _column, { computed }) => computed,
});
