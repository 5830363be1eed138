import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { DiscoveryError } from '../types.js';

export type FileFormat = 'csv' | 'tsv' | 'json' | 'ndjson' | 'parquet';

const FORMATS: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.parquet': 'parquet',
};

/** The data format a file name implies, or undefined for files the connector does not read. */
export function fileFormatOf(fileName: string): FileFormat | undefined {
  return FORMATS[extname(fileName).toLowerCase()];
}

export interface FoundFile {
  absolutePath: string;
  /** Path from the root with '/' separators, e.g. `sales/2024/orders.csv`. */
  relativePath: string;
  /** Directory from the root with '/' separators; '' for the root itself. */
  directory: string;
  name: string;
  format: FileFormat;
}

function errorMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Lists the data files under `root`, depth first, sorted by path. Hidden entries (leading dot) and
 * node_modules are skipped; symbolic links are followed, each real directory visited once so link
 * cycles end. Unreadable directories are reported and the walk goes on.
 */
export async function walkFiles(root: string): Promise<{ files: FoundFile[]; errors: DiscoveryError[] }> {
  const files: FoundFile[] = [];
  const errors: DiscoveryError[] = [];
  const visited = new Set<string>();

  const visit = async (absolute: string, relative: string): Promise<void> => {
    let entries: Dirent[];
    try {
      const real = await realpath(absolute);
      if (visited.has(real)) return;
      visited.add(real);
      entries = await readdir(absolute, { withFileTypes: true });
    } catch (error) {
      errors.push({ object: relative || '.', message: `could not read the directory: ${errorMessage(error)}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const childAbsolute = join(absolute, entry.name);
      const childRelative = relative ? `${relative}/${entry.name}` : entry.name;
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(childAbsolute);
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch {
          // A dangling link names no data; nothing to describe.
          continue;
        }
      }
      if (isDirectory) {
        await visit(childAbsolute, childRelative);
        continue;
      }
      const format = isFile ? fileFormatOf(entry.name) : undefined;
      if (format) {
        files.push({
          absolutePath: childAbsolute,
          relativePath: childRelative,
          directory: relative,
          name: entry.name,
          format,
        });
      }
    }
  };

  await visit(root, '');
  return { files, errors };
}
