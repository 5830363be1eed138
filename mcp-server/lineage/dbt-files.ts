import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServiceContext } from '../context.js';
import { parseJsonText } from '../json-text.js';
import { readInputFile } from '../read-input-file.js';
import { type DbtIngestOptions, type DbtSummary, ingestDbt } from './dbt.js';

export interface DbtFiles {
  /** manifest.json, or the dbt target directory that holds it. */
  manifest: string;
  runResults?: string;
  catalog?: string;
  name?: string;
  targetSource?: string;
  classification?: DbtIngestOptions['classification'];
  domain?: string;
}

/** Reads dbt's artifacts from disk and ingests them (see dbt.ts). */
export async function ingestDbtFiles(ctx: ServiceContext, files: DbtFiles): Promise<DbtSummary> {
  let manifestPath = path.resolve(files.manifest);
  if ((await stat(manifestPath).catch(() => null))?.isDirectory())
    manifestPath = path.join(manifestPath, 'manifest.json');
  const manifest = await readJson(manifestPath, 'manifest');
  const runResults = files.runResults ? await readJson(path.resolve(files.runResults), '--run-results') : undefined;
  const catalog = files.catalog ? await readJson(path.resolve(files.catalog), '--catalog') : undefined;
  return ingestDbt(ctx, {
    manifest,
    runResults,
    catalog,
    location: manifestPath,
    name: files.name,
    targetSource: files.targetSource,
    classification: files.classification,
    domain: files.domain,
  });
}

async function readJson(file: string, what: string): Promise<unknown> {
  return parseJsonText(await readInputFile(file, `the ${what}`), `the ${what} ${file}`);
}
