import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DataOpsError } from '../../../core/errors.js';
import type { Connector, DiscoveredAsset, DiscoveryError, ProgressListener, SourceSnapshot } from '../types.js';
import { describeCsv } from './describe-csv.js';
import { describeJson, describeNdjson } from './describe-json.js';
import { describeParquet } from './describe-parquet.js';
import { type FileDescription, FileFormatError } from './file-description.js';
import { type FoundFile, walkFiles } from './walk-files.js';

export interface FilesConnectorOptions {
  /** The directory to describe; every CSV, TSV, JSON, NDJSON/JSONL and Parquet file beneath it is an asset. */
  root: string;
  /** Display name of the source; defaults to the directory's base name. */
  name?: string;
}

function describeFile(file: FoundFile): Promise<FileDescription> {
  switch (file.format) {
    case 'csv':
    case 'tsv':
      return describeCsv(file.absolutePath, file.format);
    case 'json':
      return describeJson(file.absolutePath);
    case 'ndjson':
      return describeNdjson(file.absolutePath);
    case 'parquet':
      return describeParquet(file.absolutePath);
  }
}

function problemWith(error: unknown): string {
  if (error instanceof FileFormatError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'could not read the file: permission denied';
  if (code === 'ENOENT') return 'the file disappeared while the directory was being read';
  if (code === 'EISDIR') return 'expected a file but found a directory';
  return `could not read the file: ${error instanceof Error ? error.message : String(error)}`;
}

async function assertDirectory(root: string, given: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
    if (isDirectory) await access(root, constants.R_OK | constants.X_OK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${(cause as Error).message})`;
    throw new DataOpsError(
      'invalid_input',
      `The files root "${given}" (${root}) ${why}. Pass the path of an existing directory that holds data files.`,
      { cause },
    );
  }
  if (!isDirectory) {
    throw new DataOpsError(
      'invalid_input',
      `The files root "${given}" (${root}) is a file, not a directory. Pass the directory that contains it instead.`,
    );
  }
}

/**
 * A connector for a directory of data files. Each CSV/TSV, JSON (array of objects, or one object),
 * NDJSON/JSONL and Parquet file becomes a `file` asset; files are read one at a time and streamed, so
 * memory stays bounded. A file that cannot be read is reported in `errors` and the others carry on.
 */
export function createFilesConnector(options: FilesConnectorOptions): Connector {
  const root = resolve(options.root);
  const name = options.name ?? basename(root);
  return {
    kind: 'files',
    async discover(onProgress?: ProgressListener): Promise<SourceSnapshot> {
      await assertDirectory(root, options.root);
      const walk = await walkFiles(root);
      const assets: DiscoveredAsset[] = [];
      const errors: DiscoveryError[] = [...walk.errors];
      const total = walk.files.length;
      for (const [index, file] of walk.files.entries()) {
        try {
          const info = await stat(file.absolutePath);
          const description = await describeFile(file);
          assets.push({
            kind: 'file',
            namespace: file.directory,
            name: file.name,
            owner: null,
            rowCount: description.rowCount,
            sizeBytes: info.size,
            lastModified: info.mtime,
            properties: description.properties,
            columns: description.columns,
          });
        } catch (error) {
          errors.push({ object: file.relativePath, message: problemWith(error) });
        }
        onProgress?.({ done: index + 1, total, current: file.relativePath });
      }
      return { kind: 'files', name, location: root, assets, errors };
    },
  };
}
