import { ColumnStats, toDiscoveredColumns } from './column-stats.js';
import { type FileDescription, FileFormatError } from './file-description.js';
import { classifyJsonValue } from './infer-column-type.js';
import { openTextSource, readTextChunks, readWithEncodingFallback, type TextSource } from './read-text-chunks.js';
import { MAX_JSON_VALUE_CHARS, parseJsonAt, scanJsonArray, topLevelKeys } from './scan-json-array.js';

/** Objects keyed by ids rather than field names would otherwise yield one column per record. */
const MAX_COLUMNS = 1000;

const INDEX_LIKE = /^(?:0|[1-9]\d*)$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Profiles JSON records. The first record decides the layout: objects (one column per key, in first-seen
 * order, missing keys count as null) or plain values (a single `value` column); a file that mixes the two
 * cannot be read as a table.
 */
class JsonRecordProfiler {
  private readonly columns = new Map<string, ColumnStats>();
  private mode: 'objects' | 'values' | undefined;
  rows = 0;
  /** Set when keys beyond MAX_COLUMNS were seen and left out. */
  private truncated = false;

  add(value: unknown, line: number, text: string): void {
    this.mode ??= isRecord(value) ? 'objects' : 'values';
    this.rows++;
    if (this.mode === 'values') {
      if (isRecord(value)) {
        throw new FileFormatError(`line ${line}: record ${this.rows} is an object, but the earlier records are not`);
      }
      this.column('value')?.observe(classifyJsonValue(value));
      return;
    }
    if (!isRecord(value)) {
      throw new FileFormatError(
        `line ${line}: record ${this.rows} is ${describeValue(value)}, but the earlier records are objects`,
      );
    }
    let keys = Object.keys(value);
    // Only a record that brings new keys can change column order, so only then is its text scanned.
    if (keys.some((key) => !this.columns.has(key)) && keys.some((key) => INDEX_LIKE.test(key))) {
      keys = [...new Set(topLevelKeys(text))];
    }
    for (const key of keys) this.column(key)?.observe(classifyJsonValue(value[key]));
  }

  private column(key: string): ColumnStats | undefined {
    let stats = this.columns.get(key);
    if (stats) return stats;
    if (this.columns.size >= MAX_COLUMNS) {
      this.truncated = true;
      return undefined;
    }
    stats = new ColumnStats(key === '' ? `column_${this.columns.size + 1}` : key);
    this.columns.set(key, stats);
    return stats;
  }

  describe(properties: Record<string, unknown>): FileDescription {
    if (this.truncated) properties.columnsTruncatedAt = MAX_COLUMNS;
    return {
      rowCount: this.rows,
      columns: toDiscoveredColumns(this.columns.values(), this.rows, true),
      properties,
    };
  }
}

async function openNonEmpty(path: string): Promise<TextSource> {
  const source = await openTextSource(path);
  if (source.size === 0) throw new FileFormatError('the file is empty: expected JSON');
  return source;
}

/**
 * Describes a JSON file: an array of records streamed element by element, or a single top-level object
 * (a GeoJSON or TopoJSON document, say) described as one row whose columns are its keys.
 */
export async function describeJson(path: string): Promise<FileDescription> {
  const source = await openNonEmpty(path);
  const { value, encoding } = await readWithEncodingFallback(source, async (enc) => {
    const profiler = new JsonRecordProfiler();
    const layout = await scanJsonArray(readTextChunks(path, enc), (record, line, text) =>
      profiler.add(record, line, text),
    );
    return { profiler, layout };
  });
  const { profiler, layout } = value;
  return profiler.describe({ format: 'json', layout: layout === 'object' ? 'object' : 'array', encoding });
}

/** Describes newline-delimited JSON (NDJSON, JSON Lines): one record per line, blank lines ignored. */
export async function describeNdjson(path: string): Promise<FileDescription> {
  const source = await openNonEmpty(path);
  const { value: profiler, encoding } = await readWithEncodingFallback(source, async (enc) => {
    const records = new JsonRecordProfiler();
    let line = 0;
    let pending = '';
    const take = (text: string) => {
      line++;
      const trimmed = text.trim();
      if (trimmed !== '') records.add(parseJsonAt(trimmed, line, 'the line'), line, trimmed);
    };
    for await (const chunk of readTextChunks(path, enc)) {
      let start = 0;
      for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
        take(pending + chunk.slice(start, end));
        pending = '';
        start = end + 1;
      }
      pending += chunk.slice(start);
      if (pending.length > MAX_JSON_VALUE_CHARS) {
        throw new FileFormatError(`line ${line + 1} is longer than ${MAX_JSON_VALUE_CHARS / 1024 / 1024} MiB`);
      }
    }
    take(pending);
    return records;
  });
  if (profiler.rows === 0)
    throw new FileFormatError('the file has only blank lines: expected one JSON record per line');
  return profiler.describe({ format: 'ndjson', encoding });
}
