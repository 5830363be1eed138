import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { DataOpsError } from '../../../core/errors.js';
import { pipelineUploads } from '../../../db/schema/index.js';
import type { Classification } from '../../../db/schema/types.js';
import { describeCsv } from '../../connectors/files/describe-csv.js';
import { describeJson, describeNdjson } from '../../connectors/files/describe-json.js';
import { describeParquet } from '../../connectors/files/describe-parquet.js';
import type { FileDescription } from '../../connectors/files/file-description.js';
import { isMissingToken } from '../../connectors/files/infer-column-type.js';
import { type FileFormat, fileFormatOf } from '../../connectors/files/walk-files.js';
import type { ServiceContext } from '../../context.js';
import { clearanceAllows, hasRole } from '../../governance/access.js';
import { castTargets } from '../nodes/cleanse.js';
import { loadPipeline } from '../store.js';

/**
 * Files uploaded for a pipeline (source_upload nodes): read once when uploaded, with the files connector's
 * readers deciding columns and types as they do for a file source, and kept as rows in the catalog database.
 * A run sends them to the source database inside the compiled SQL, so they are kept small.
 */

export const maxUploadBytes = 1_000_000;
export const maxUploadRows = 20_000;

/** Types an uploaded column is cast to in SQL; anything else a reader reports is kept as text. */
// The cleanse node's cast targets, plus the short names the files connector's readers give some of them.
const castable = new Set<string>([...castTargets, 'time', 'timestamp', 'json']);

/** The type an uploaded column gets in the pipeline: the reader's when SQL can cast to it, else text. */
function pipelineType(dataType: string): string {
  if (castable.has(dataType) || /^numeric\(\d+,\d+\)$/.test(dataType)) return dataType;
  return 'text';
}

export interface UploadInput {
  pipeline: string;
  name: string;
  content: string;
  encoding: 'text' | 'base64';
  format?: FileFormat;
  classification?: Classification;
}

export interface UploadSummary {
  uploadId: string;
  name: string;
  format: FileFormat;
  bytes: number;
  rows: number;
  classification: Classification;
  columns: { name: string; type: string }[];
}

/** Reads an uploaded file and keeps it with the pipeline; only its owner or a steward may add one. */
export async function uploadFile(ctx: ServiceContext, input: UploadInput): Promise<UploadSummary> {
  const pipeline = await loadPipeline(ctx, input.pipeline);
  if (pipeline.owner !== ctx.principal.id && !hasRole(ctx.principal, 'steward', 'owner')) {
    throw new DataOpsError(
      'forbidden',
      `${ctx.principal.id} may not upload files to pipeline ${pipeline.name}: only its owner (${pipeline.owner}) or a steward may`,
    );
  }
  const marking = input.classification ?? 'U';
  if (!clearanceAllows(ctx.principal.clearance, marking)) {
    throw new DataOpsError(
      'forbidden',
      `${ctx.principal.id} is cleared to ${ctx.principal.clearance} and may not mark an upload ${marking}`,
    );
  }
  const format = input.format ?? fileFormatOf(input.name);
  if (!format) {
    throw new DataOpsError(
      'invalid_input',
      `cannot tell the format of ${input.name}: give format (csv, tsv, json, ndjson or parquet) or a name ending in one`,
    );
  }
  const bytes = Buffer.from(input.content, input.encoding === 'base64' ? 'base64' : 'utf8');
  if (bytes.length > maxUploadBytes) {
    throw new DataOpsError(
      'invalid_input',
      `${input.name} is ${bytes.length} bytes; an upload holds at most ${maxUploadBytes}: cut it down, or put it where a files source can ingest it`,
    );
  }
  const { description, rows } = await readUpload(input.name, format, bytes);
  if (rows.length > maxUploadRows) throw tooManyRows(input.name, rows.length);
  const columns = description.columns.map((c) => ({ name: c.name, type: pipelineType(c.dataType) }));
  const values = rows.map((row) => columns.map((c, i) => jsonValue(row[i], c.type)));
  const [saved] = await ctx.db
    .insert(pipelineUploads)
    .values({
      pipelineId: pipeline.id,
      name: input.name,
      format,
      byteSize: bytes.length,
      classification: marking,
      columns,
      rows: values,
      uploadedBy: ctx.principal.id,
    })
    .returning({ id: pipelineUploads.id });
  return {
    uploadId: saved!.id,
    name: input.name,
    format,
    bytes: bytes.length,
    rows: values.length,
    classification: marking,
    columns,
  };
}

function tooManyRows(name: string, rows: number): DataOpsError {
  return new DataOpsError(
    'invalid_input',
    `${name} has ${rows} rows; an upload holds at most ${maxUploadRows}: cut it down, or ingest it as a files source`,
  );
}

/** The file's description (by the files connector's readers) and its rows as arrays in column order. */
async function readUpload(name: string, format: FileFormat, bytes: Buffer) {
  const dir = await mkdtemp(path.join(tmpdir(), 'dataops-upload-'));
  const file = path.join(dir, `upload.${format}`);
  try {
    await writeFile(file, bytes);
    const description = await describe(file, format).catch((error: unknown) => {
      throw new DataOpsError('invalid_input', `cannot read ${name} as ${format}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    const names = description.columns.map((c) => c.name);
    if (format === 'csv' || format === 'tsv') {
      const text = new TextDecoder(String(description.properties.encoding ?? 'utf-8')).decode(bytes);
      const records = parse(text, {
        delimiter: String(description.properties.delimiter ?? ','),
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        from_line: description.properties.header ? 2 : 1,
      }) as string[][];
      return { description, rows: records.map((r) => names.map((_, i) => r[i])) };
    }
    if (format === 'parquet') {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
      // A few compressed kilobytes can declare millions of rows: the footer's count is checked before any is read.
      const declared = Number(parquetMetadata(file).num_rows);
      if (declared > maxUploadRows) throw tooManyRows(name, declared);
      const objects = await parquetReadObjects({ file });
      return { description, rows: objects.map((o) => names.map((n) => o[n])) };
    }
    const text = bytes.toString('utf8');
    const records: unknown[] =
      format === 'ndjson'
        ? text
            .split(/\r?\n/)
            .filter((line) => line.trim())
            .map((line) => JSON.parse(line))
        : ((parsed) => (Array.isArray(parsed) ? parsed : [parsed]))(JSON.parse(text));
    return {
      description,
      rows: records.map((r) =>
        names.map((n) => (r && typeof r === 'object' ? (r as Record<string, unknown>)[n] : undefined)),
      ),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describe(file: string, format: FileFormat): Promise<FileDescription> {
  if (format === 'csv' || format === 'tsv') return describeCsv(file, format);
  if (format === 'json') return describeJson(file);
  if (format === 'ndjson') return describeNdjson(file);
  return describeParquet(file);
}

/**
 * A value as the JSON it is kept as: what SQL casts to the column's type. Missing-value tokens (`NA`, empty)
 * are null; numbers written with currency signs or thousands separators lose them, as the reader typed them
 * as numbers; dates become ISO 8601; nested values stay JSON in a json column and become text elsewhere.
 */
function jsonValue(value: unknown, type: string): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (isMissingToken(value.trim())) return null;
    if (/^(smallint|integer|bigint|numeric|real|double precision)/.test(type)) return value.replace(/[\s$€£¥,]/g, '');
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object') return type === 'json' ? value : JSON.stringify(value);
  return value;
}
