import { randomUUID } from 'node:crypto';
import { mkdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DataOpsError } from '../../core/errors.js';
import { queryRows } from '../../db/create-db.js';
import type { ServiceContext } from '../context.js';
import type { PipelineColumn } from './expressions.js';
import type { NodeConfig } from './nodes/index.js';

/**
 * File destinations: a node's rows written as CSV, JSON or Parquet under the workspace's exports directory.
 * A file is written beside its final name and renamed over it once the run's transaction has committed,
 * so a reader sees the old file or the new one, never half of one, and a failed run leaves the old file.
 */

type Format = NodeConfig<'destination_file'>['format'];

/** The path a file destination writes in an environment: prod as configured, dev with `_dev` before the extension. */
export function environmentFile(relative: string, environment: 'dev' | 'prod'): string {
  if (environment === 'prod') return relative;
  const extension = path.posix.extname(relative);
  return `${relative.slice(0, relative.length - extension.length)}_dev${extension}`;
}

/** A file written under a temporary name, to be put in place (or thrown away) once the run's outcome is known. */
export interface StagedFile {
  temporary: string;
  final: string;
}

/**
 * Refuses a path (relative to the exports directory) that another pipeline's successful run wrote: one
 * pipeline's prod file must not be overwritten by another's dev file of the same name, nor one extract by an
 * unrelated pipeline's.
 */
export async function requireOwnFile(ctx: ServiceContext, pipelineId: string, relative: string): Promise<void> {
  const [other] = await queryRows<{ name: string }>(
    ctx.db,
    sql`select p.name from pipeline_runs r join pipelines p on p.id = r.pipeline_id
        where r.pipeline_id <> ${pipelineId}::uuid and r.status = 'succeeded'
          and exists (select 1 from jsonb_each(r.stats->'files') f where f.value->>'path' = ${relative})
        limit 1`,
  );
  if (other) {
    throw new DataOpsError(
      'conflict',
      `pipeline "${other.name}" wrote it in an earlier run; give this node a path of its own`,
    );
  }
}

/**
 * The directory `relative`'s file goes in, created one level at a time, each level's real path (symlinks
 * resolved) checked to stay inside the exports directory before anything is made below it: a symlinked folder
 * inside the exports directory cannot lead a write elsewhere.
 */
async function directoryInside(root: string, relative: string): Promise<string> {
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(`${realRoot}${path.sep}`);
  let current = realRoot;
  for (const part of path
    .dirname(path.normalize(relative))
    .split(path.sep)
    .filter((p) => p && p !== '.')) {
    if (part === '..') throw leaves(relative);
    const next = path.join(current, part);
    await mkdir(next).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    current = await realpath(next);
    if (!inside(current)) throw leaves(relative);
  }
  return current;
}

const leaves = (relative: string) =>
  new DataOpsError(
    'invalid_input',
    `path ${relative} leaves the exports directory (through a symbolic link or ..); give a path inside it`,
  );

/** Writes `rows` to a temporary file next to `relative` inside `exportsDir`; `commitFiles` puts it in place. */
export async function stageFile(
  exportsDir: string,
  relative: string,
  format: Format,
  columns: PipelineColumn[],
  rows: Record<string, unknown>[],
): Promise<StagedFile> {
  const root = path.resolve(exportsDir);
  // Validation keeps paths relative and free of `..`; this holds the line even if a config slipped past it.
  if (!path.resolve(root, relative).startsWith(`${root}${path.sep}`)) throw leaves(relative);
  // A file standing where the directory should be is reported by the first level made below it.
  await mkdir(root, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const final = path.join(await directoryInside(root, relative), path.basename(relative));
  const temporary = `${final}.${randomUUID()}.tmp`;
  try {
    // `wx`: never through a link or file already standing at the temporary name.
    await writeFile(temporary, encode(format, columns, rows), { flag: 'wx' });
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { temporary, final };
}

/** Renames staged files into place (after the run's transaction committed). */
export async function commitFiles(files: StagedFile[]): Promise<void> {
  for (const file of files) await rename(file.temporary, file.final);
}

/** Removes staged files of a run that failed; the previous files stay as they were. */
export async function discardFiles(files: StagedFile[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f.temporary, { force: true })));
}

function encode(format: Format, columns: PipelineColumn[], rows: Record<string, unknown>[]): Uint8Array | string {
  if (format === 'csv') return toCsv(columns, rows);
  if (format === 'json') return `${JSON.stringify(rows.map((r) => jsonRow(columns, r)))}\n`;
  return new Uint8Array(toParquet(columns, rows));
}

/**
 * A value as text the way a reader of the file expects it: dates and times in ISO 8601 (a date column as the
 * day alone; drivers hand a date over as midnight UTC), everything else as Postgres gave it.
 */
function asText(value: unknown, type = ''): string {
  if (value instanceof Date) return type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** RFC 4180: a header row, fields quoted when they hold a comma, quote or line break; null is an empty field. */
function toCsv(columns: PipelineColumn[], rows: Record<string, unknown>[]): string {
  const field = (text: string) => (/[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const lines = [columns.map((c) => field(c.name)).join(',')];
  for (const row of rows) {
    lines.push(
      columns
        .map((c) => (row[c.name] === null || row[c.name] === undefined ? '' : field(asText(row[c.name], c.type))))
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function jsonRow(columns: PipelineColumn[], row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    out[c.name] = v instanceof Date ? asText(v, c.type) : typeof v === 'bigint' ? v.toString() : (v ?? null);
  }
  return out;
}

/**
 * Parquet columns typed from the Postgres types: whole numbers as INT32/INT64, floats as DOUBLE, booleans,
 * timestamps as TIMESTAMP; numeric stays exact as text (as Postgres drivers hand it over), the rest is text.
 */
function toParquet(columns: PipelineColumn[], rows: Record<string, unknown>[]): ArrayBuffer {
  const columnData = columns.map((c) => {
    const values = rows.map((r) => r[c.name] ?? null);
    const base = c.type.replace(/\(.*\)$/, '').trim();
    const nullOr = <T>(f: (v: unknown) => T) => values.map((v) => (v === null ? null : f(v)));
    if (base === 'smallint' || base === 'integer') return { name: c.name, type: 'INT32', data: nullOr(Number) };
    if (base === 'bigint') return { name: c.name, type: 'INT64', data: nullOr((v) => BigInt(v as string)) };
    if (base === 'real' || base === 'double precision') return { name: c.name, type: 'DOUBLE', data: nullOr(Number) };
    if (base === 'boolean') return { name: c.name, type: 'BOOLEAN', data: values };
    if (base.startsWith('timestamp')) {
      return { name: c.name, type: 'TIMESTAMP', data: nullOr((v) => (v instanceof Date ? v : new Date(String(v)))) };
    }
    return { name: c.name, type: 'STRING', data: nullOr((v) => asText(v, base)) };
  });
  return parquetWriteBuffer({ columnData } as Parameters<typeof parquetWriteBuffer>[0]);
}
