import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataOpsError, isDataOpsError } from '../../core/errors.js';
import type { ServiceContext } from '../context.js';
import { findJsonProblem, parseJsonLines, parseJsonText } from '../json-text.js';
import { inputFileError, readInputFile } from '../read-input-file.js';
import { ingestOpenLineage, type OpenLineageSummary } from './openlineage.js';
import { parseOpenLineageEvent } from './openlineage-schema.js';

/**
 * OpenLineage events from files: a file holds one event, a JSON array of events, or one event per line
 * (NDJSON, as the file transport and proxies write them); a directory is read recursively. Each file is
 * recorded in its own transaction, so a bad file is reported and the others still load; files go in the
 * order of their earliest event, so a run's START is recorded before its COMPLETE.
 */

export interface FileOutcome {
  file: string;
  events: number;
  accepted: number;
  replayed: number;
  /** Why the file was refused; nothing from it was recorded. */
  error?: string;
}

export interface OpenLineageFilesSummary extends Omit<OpenLineageSummary, 'events'> {
  files: FileOutcome[];
  events: number;
  refusedFiles: number;
}

const eventFile = /\.(json|ndjson|jsonl)$/i;

export async function ingestOpenLineageFiles(ctx: ServiceContext, target: string): Promise<OpenLineageFilesSummary> {
  const root = path.resolve(target);
  const info = await stat(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new DataOpsError('not_found', `cannot read ${target}: no such file or directory`, { cause: error });
    }
    throw inputFileError(target, 'the OpenLineage events', error);
  });
  const files = info.isDirectory()
    ? await listFiles(root).catch((error: unknown) => {
        throw inputFileError(target, 'the OpenLineage events directory', error);
      })
    : [root];
  if (files.length === 0) {
    throw new DataOpsError('invalid_input', `no .json, .ndjson or .jsonl files in ${target}`);
  }
  const name = (file: string) => (info.isDirectory() ? path.relative(root, file) : target);

  const loaded: { file: string; events: unknown[]; first: number; error?: string }[] = [];
  for (const file of files) {
    let events: unknown[] = [];
    try {
      events = parseEventFile(await readInputFile(file, 'the events file'));
      // Checked here so the order below can use event times; recording checks them again.
      const times = events.map((event, i) => {
        try {
          return parseOpenLineageEvent(event).eventTime.getTime();
        } catch (error) {
          if (events.length > 1 && isDataOpsError(error))
            throw new DataOpsError(error.code, `event ${i + 1}: ${error.message}`);
          throw error;
        }
      });
      loaded.push({ file: name(file), events, first: Math.min(...times) });
    } catch (error) {
      if (!isDataOpsError(error)) throw error;
      loaded.push({ file: name(file), events, first: Number.POSITIVE_INFINITY, error: error.message });
    }
  }

  const summary: OpenLineageFilesSummary = {
    files: [],
    events: 0,
    accepted: 0,
    replayed: 0,
    assetsCreated: 0,
    assetsUpdated: 0,
    runsChanged: 0,
    edgesOpened: 0,
    edgesClosed: 0,
    refusedFiles: 0,
  };
  for (const entry of [...loaded].sort((a, b) => a.first - b.first || a.file.localeCompare(b.file))) {
    const outcome: FileOutcome = { file: entry.file, events: entry.events.length, accepted: 0, replayed: 0 };
    summary.files.push(outcome);
    if (entry.error) {
      outcome.error = entry.error;
      summary.refusedFiles++;
      continue;
    }
    try {
      const result = await ingestOpenLineage(ctx, entry.events);
      outcome.accepted = result.accepted;
      outcome.replayed = result.replayed;
      summary.events += result.events;
      summary.accepted += result.accepted;
      summary.replayed += result.replayed;
      summary.assetsCreated += result.assetsCreated;
      summary.assetsUpdated += result.assetsUpdated;
      summary.runsChanged += result.runsChanged;
      summary.edgesOpened += result.edgesOpened;
      summary.edgesClosed += result.edgesClosed;
    } catch (error) {
      // Not allowed at all: no other file would fare better.
      if (isDataOpsError(error) && error.code === 'forbidden') throw error;
      if (!isDataOpsError(error)) throw error;
      outcome.error = error.message;
      summary.refusedFiles++;
    }
  }
  summary.files.sort((a, b) => a.file.localeCompare(b.file));
  return summary;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (entry.isFile() && eventFile.test(entry.name)) files.push(full);
  }
  return files;
}

/** One event, a JSON array of events, or NDJSON (one event per line); broken JSON is named by line and column. */
export function parseEventFile(text: string): unknown[] {
  const body = text.replace(/^\uFEFF/, '');
  if (!body.trim()) throw new DataOpsError('invalid_input', 'the file is empty');
  const lines = body.split('\n').filter((line) => line.trim());
  // NDJSON when the first line is a whole JSON value by itself; a pretty-printed document's first line is not.
  if (lines.length > 1 && findJsonProblem(lines[0]!, Number.POSITIVE_INFINITY) === null) {
    return parseJsonLines(body, 'the file');
  }
  const parsed = parseJsonText(body, 'the file');
  return Array.isArray(parsed) ? parsed : [parsed];
}
