import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { ColumnStats, toDiscoveredColumns } from './column-stats.js';
import { type FileDescription, FileFormatError } from './file-description.js';
import { classifyText, isMissingToken } from './infer-column-type.js';
import { openTextSource, readTextChunks, readWithEncodingFallback, type TextEncodingName } from './read-text-chunks.js';

const CANDIDATE_DELIMITERS = [',', ';', '\t', '|'];

/** Picks the delimiter that occurs most often, outside quotes, on the first line. */
export function sniffDelimiter(head: string): string {
  const counts = new Map(CANDIDATE_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const char of head) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best = ',';
  for (const [delimiter, count] of counts) if (count > counts.get(best)!) best = delimiter;
  return best;
}

function newlinesIn(record: string[]): number {
  let count = 0;
  for (const field of record) {
    for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) count++;
  }
  return count;
}

interface CsvShape {
  header: boolean;
  names: string[];
  renamed: { position: number; original: string; name: string }[];
  rowCount: number;
  repairedRows: number;
  stats: ColumnStats[];
}

/** A first row made only of numbers, dates or booleans is data, not a header. */
function looksLikeData(cells: string[]): boolean {
  return cells.every((cell) => {
    const value = cell.trim();
    if (isMissingToken(value)) return false;
    const kind = classifyText(value);
    return kind !== 'text' && kind !== 'json';
  });
}

/** Makes header names usable as column names: blanks get `column_N`, repeats get a `_2`, `_3`... suffix. */
function columnNames(cells: string[], header: boolean): Pick<CsvShape, 'names' | 'renamed'> {
  const seen = new Set<string>();
  const renamed: CsvShape['renamed'] = [];
  const names = cells.map((cell, index) => {
    const original = header ? cell.trim() : '';
    let name = original === '' ? `column_${index + 1}` : original;
    for (let n = 2; seen.has(name); n++) name = `${original || `column_${index + 1}`}_${n}`;
    seen.add(name);
    if (header && name !== original) renamed.push({ position: index + 1, original, name });
    return name;
  });
  return { names, renamed };
}

async function readCsv(path: string, encoding: TextEncodingName, delimiter: string): Promise<CsvShape> {
  const parser = parse({
    delimiter,
    // Files stitched together from several sources mix line endings.
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // A stray quote inside an unquoted field (12" pipe) is kept as text rather than failing the file.
    relax_quotes: true,
  });
  const shape: CsvShape = { header: true, names: [], renamed: [], rowCount: 0, repairedRows: 0, stats: [] };
  const addRow = (record: string[], line: number) => {
    const width = shape.stats.length;
    if (record.length > width) {
      const extra = record.slice(width).filter((cell) => cell.trim() !== '');
      if (extra.length > 0) {
        throw new FileFormatError(
          `line ${line} has ${record.length} fields but the header has ${width}; the columns cannot be lined up`,
        );
      }
    }
    if (record.length !== width) shape.repairedRows++;
    shape.rowCount++;
    for (let i = 0; i < width && i < record.length; i++) {
      const value = record[i]!.trim();
      if (isMissingToken(value)) continue;
      const column = shape.stats[i]!;
      column.observe(column.isText ? 'text' : classifyText(value));
    }
  };
  // csv-parse's `info` option would give line numbers but halves its speed; counting newlines is enough.
  let line = 0;
  let failure: unknown;
  const consume = async (records: AsyncIterable<string[]>) => {
    try {
      for await (const record of records) {
        const start = line + 1;
        line = start + newlinesIn(record);
        // Blank lines separate nothing and hold nothing, as in pandas and csv-parse's skip_empty_lines.
        if (record.length === 1 && record[0]!.trim() === '') continue;
        if (shape.stats.length > 0) {
          addRow(record, start);
          continue;
        }
        shape.header = !looksLikeData(record);
        Object.assign(shape, columnNames(record, shape.header));
        shape.stats = shape.names.map((name) => new ColumnStats(name));
        if (!shape.header) addRow(record, start);
      }
    } catch (error) {
      // pipeline() reports an abort in place of the consumer's own error, so keep the real one.
      failure = error;
      throw error;
    }
  };
  try {
    await pipeline(Readable.from(readTextChunks(path, encoding)), parser, consume);
  } catch (error) {
    const cause = failure ?? error;
    if (cause instanceof CsvError) throw new FileFormatError(`malformed CSV: ${cause.message}`, { cause });
    throw cause;
  }
  return shape;
}

function lineTerminatorOf(head: string): string {
  const lf = head.split('\n').length - 1;
  const crlf = head.split('\r\n').length - 1;
  if (lf === 0) return head.includes('\r') ? 'cr' : 'lf';
  return crlf === 0 ? 'lf' : crlf === lf ? 'crlf' : 'mixed';
}

/** Describes a CSV or TSV file, streaming it once so every row is counted and typed. */
export async function describeCsv(path: string, format: 'csv' | 'tsv'): Promise<FileDescription> {
  const source = await openTextSource(path);
  if (source.size === 0) throw new FileFormatError('the file is empty: expected a header row');
  const delimiter = format === 'tsv' ? '\t' : sniffDelimiter(source.head);
  const { value: shape, encoding } = await readWithEncodingFallback(source, (enc) => readCsv(path, enc, delimiter));
  if (shape.stats.length === 0) throw new FileFormatError('the file has only blank lines: expected a header row');
  const properties: Record<string, unknown> = {
    format,
    delimiter,
    quote: '"',
    header: shape.header,
    encoding,
    lineTerminator: lineTerminatorOf(source.head),
  };
  if (source.bom) properties.bom = true;
  if (shape.renamed.length > 0) properties.renamedColumns = shape.renamed;
  // Rows with missing trailing fields (read as nulls) or extra empty fields (ignored).
  if (shape.repairedRows > 0) properties.repairedRows = shape.repairedRows;
  return {
    rowCount: shape.rowCount,
    columns: toDiscoveredColumns(shape.stats, shape.rowCount, false),
    properties,
  };
}
