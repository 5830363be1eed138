import { open } from 'node:fs/promises';
import {
  asyncBufferFromFile,
  type FileMetaData,
  parquetMetadataAsync,
  parquetSchema,
  type SchemaTree,
} from 'hyparquet';
import type { DiscoveredColumn } from '../types.js';
import { type FileDescription, FileFormatError } from './file-description.js';

type SchemaElement = SchemaTree['element'];

const CONVERTED_TYPES: Record<string, string> = {
  UTF8: 'text',
  ENUM: 'text',
  JSON: 'json',
  BSON: 'bytea',
  DATE: 'date',
  TIME_MILLIS: 'time',
  TIME_MICROS: 'time',
  // The legacy converted timestamp types are defined as UTC-normalised instants.
  TIMESTAMP_MILLIS: 'timestamp with time zone',
  TIMESTAMP_MICROS: 'timestamp with time zone',
  INT_8: 'smallint',
  INT_16: 'smallint',
  INT_32: 'integer',
  INT_64: 'bigint',
  UINT_8: 'smallint',
  UINT_16: 'integer',
  UINT_32: 'bigint',
  UINT_64: 'numeric(20,0)',
  INTERVAL: 'interval',
};

const PHYSICAL_TYPES: Record<string, string> = {
  BOOLEAN: 'boolean',
  INT32: 'integer',
  INT64: 'bigint',
  // INT96 is the legacy Impala/Spark timestamp encoding.
  INT96: 'timestamp',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  BYTE_ARRAY: 'bytea',
  FIXED_LEN_BYTE_ARRAY: 'bytea',
};

function logicalType(element: SchemaElement): string | undefined {
  const logical = element.logical_type;
  switch (logical?.type) {
    case undefined:
      return undefined;
    case 'STRING':
    case 'ENUM':
      return 'text';
    case 'JSON':
    case 'VARIANT':
      return 'json';
    case 'UUID':
      return 'uuid';
    case 'DATE':
      return 'date';
    case 'FLOAT16':
      return 'real';
    case 'DECIMAL':
      return `numeric(${logical.precision},${logical.scale})`;
    case 'TIME':
      return logical.isAdjustedToUTC ? 'time with time zone' : 'time';
    case 'TIMESTAMP':
      return logical.isAdjustedToUTC ? 'timestamp with time zone' : 'timestamp';
    case 'INTEGER':
      if (logical.bitWidth <= 16) return 'smallint';
      if (logical.bitWidth <= 32) return logical.isSigned ? 'integer' : 'bigint';
      return logical.isSigned ? 'bigint' : 'numeric(20,0)';
    case 'GEOMETRY':
      return 'geometry';
    case 'GEOGRAPHY':
      return 'geography';
    default:
      return undefined;
  }
}

function primitiveType(element: SchemaElement): string {
  if (element.converted_type === 'DECIMAL') return `numeric(${element.precision ?? 38},${element.scale ?? 0})`;
  return (
    logicalType(element) ??
    (element.converted_type && CONVERTED_TYPES[element.converted_type]) ??
    (element.type && PHYSICAL_TYPES[element.type]) ??
    'bytea'
  );
}

/** A column's type: primitives map to Postgres types, lists of primitives to arrays, other nesting to json. */
function columnType(node: SchemaTree): string {
  const { element } = node;
  if (node.children.length === 0) {
    const type = primitiveType(element);
    return element.repetition_type === 'REPEATED' ? `${type}[]` : type;
  }
  const isList = element.logical_type?.type === 'LIST' || element.converted_type === 'LIST';
  if (element.logical_type?.type === 'VARIANT') return 'json';
  if (isList && node.children.length === 1) {
    // Standard three-level list: <list> -> repeated group list -> element.
    const repeated = node.children[0]!;
    const item = repeated.children.length === 1 ? repeated.children[0]! : repeated;
    if (item.children.length === 0) return `${primitiveType(item.element)}[]`;
  }
  return 'json';
}

function checkBounds(metadata: FileMetaData, size: number): void {
  const dataEnd = BigInt(size - 8 - metadata.metadata_length);
  metadata.row_groups.forEach((group, groupIndex) => {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta || chunk.file_path) continue;
      const start = meta.dictionary_page_offset ?? meta.data_page_offset;
      if (start + meta.total_compressed_size > dataEnd) {
        throw new FileFormatError(
          `row group ${groupIndex + 1}, column ${meta.path_in_schema.join('.')} points past the end of the data; ` +
            'the file is truncated or corrupt',
        );
      }
    }
  });
}

async function hasMagicHeader(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.toString('latin1') === 'PAR1';
  } finally {
    await handle.close();
  }
}

/** Describes a Parquet file from its footer alone: the file's own schema and the row count it records. */
export async function describeParquet(path: string): Promise<FileDescription> {
  const buffer = await asyncBufferFromFile(path);
  if (buffer.byteLength === 0) throw new FileFormatError('the file is empty: expected Parquet data');
  if (buffer.byteLength < 12 || !(await hasMagicHeader(path))) {
    throw new FileFormatError('not a Parquet file: it does not start with the "PAR1" magic bytes');
  }
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new FileFormatError(`the Parquet footer cannot be read (${detail}); the file is truncated or corrupt`, {
      cause,
    });
  }
  checkBounds(metadata, buffer.byteLength);
  const columns: DiscoveredColumn[] = parquetSchema(metadata).children.map((node, index) => ({
    name: node.element.name,
    position: index + 1,
    dataType: columnType(node),
    nullable: node.element.repetition_type === 'OPTIONAL',
    isPrimaryKey: false,
  }));
  const codecs = new Set(metadata.row_groups.flatMap((group) => group.columns.map((c) => c.meta_data?.codec)));
  codecs.delete(undefined);
  const properties: Record<string, unknown> = {
    format: 'parquet',
    formatVersion: metadata.version,
    rowGroups: metadata.row_groups.length,
    compression: [...codecs].sort(),
  };
  if (metadata.created_by) properties.createdBy = metadata.created_by;
  return { rowCount: Number(metadata.num_rows), columns, properties };
}
