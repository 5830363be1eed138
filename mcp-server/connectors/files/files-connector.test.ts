import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataOpsError } from '../../../core/errors.js';
import type { DiscoverProgress, SourceSnapshot } from '../types.js';
import { createFilesConnector } from './files-connector.js';

const ROWS = 2500;

/** A Parquet file with the schema spelled out, so the expected catalog types are known in advance. */
function parquetBytes(): Buffer {
  const range = (f: (i: number) => unknown) => Array.from({ length: ROWS }, (_, i) => f(i));
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: range((i) => i) },
      { name: 'amount', data: range((i) => (i % 10 === 0 ? null : i / 4)) },
      { name: 'label', data: range((i) => `n${i}`) },
      { name: 'seen_at', data: range((i) => new Date(i * 1000)) },
      { name: 'day', data: range((i) => new Date(i * 86_400_000)) },
      { name: 'price', data: range((i) => i / 100) },
      { name: 'tags', data: range((i) => [`t${i % 3}`]) },
    ] as Parameters<typeof parquetWriteBuffer>[0]['columnData'],
    schema: [
      { name: 'root', num_children: 7 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'amount', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'seen_at', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'price', type: 'INT32', converted_type: 'DECIMAL', precision: 9, scale: 2, repetition_type: 'OPTIONAL' },
      { name: 'tags', converted_type: 'LIST', num_children: 1, repetition_type: 'OPTIONAL' },
      { name: 'list', num_children: 1, repetition_type: 'REPEATED' },
      { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
    rowGroupSize: 1000,
  });
  return Buffer.from(buffer);
}

const FILES: Record<string, string | Buffer> = {
  'people.csv':
    'id,name,joined,score\n1,Ann,2024-01-05,3.5\n2,"Bob, Jr.",2024-02-10,\n3,"Cy\nwith a newline",2024-03-01,4\n',
  'header-only.csv': 'id,name\n',
  'empty.csv': '',
  'empty.json': '',
  'semicolons.csv': 'a;b\n1;x\n2;y\n',
  'mixed-endings.csv': 'a,b\r\n1,2\n3,4\r\n5,6',
  'ragged.csv': 'a,b,c\n1,2,3\n4,5\n6,7,8,\n',
  'too-wide.csv': 'a,b\n1,2\n3,4\n5,6,7\n',
  'unclosed.csv': 'a,b\n1,"open\n2,3\n',
  'names.csv': 'id,,id,Name\n1,2,3,x\n',
  'latin1.csv': Buffer.from('city,n\nMontr\xe9al,1\n', 'latin1'),
  'bom.csv': `\ufeffcode,n\nA,1\n`,
  'headerless.csv': '1,2.5,2024-01-01\n2,3.5,2024-01-02\n',
  'events.ndjson': '{"id": 1, "tags": ["a"]}\n\n{"id": 2, "extra": true}\n{"id": 3000000000}\n',
  'broken.jsonl': '{"id": 1}\n{"id": 2}\n{"id": 3}\n{"id": 4,}\n{"id": 5}\n',
  'malformed.json': '[\n  {"a": 1},\n  {"a": 2}\n  {"a": 3}\n]\n',
  'truncated.json': '[\n  {"a": 1},\n  {"a": 2',
  'sales/2024/orders.json': JSON.stringify([
    { order: 1, total: 10, placed: '2024-01-01T10:00:00Z', meta: { rush: true } },
    { order: 2, total: 12.5, placed: '2024-01-02T11:30:00Z', meta: null },
  ]),
  'sales/2024/orders.parquet': parquetBytes(),
  'sales/not-parquet.parquet': 'id,name\n1,a CSV file with the wrong extension\n',
  'sales/readme.txt': 'not data',
  '.hidden/secret.csv': 'a\n1\n',
  '.dotfile.csv': 'a\n1\n',
  'node_modules/pkg/data.csv': 'a\n1\n',
};

let root: string;
let snapshot: SourceSnapshot;
const progress: DiscoverProgress[] = [];
const MODIFIED = new Date('2024-05-06T07:08:09Z');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'files-connector-'));
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const parquet = await readFile(join(root, 'sales/2024/orders.parquet'));
  await writeFile(join(root, 'sales/truncated.parquet'), parquet.subarray(0, parquet.length - 100));
  await utimes(join(root, 'people.csv'), MODIFIED, MODIFIED);
  snapshot = await createFilesConnector({ root }).discover((p) => progress.push(p));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const asset = (path: string) => {
  const found = snapshot.assets.find((a) => (a.namespace ? `${a.namespace}/${a.name}` : a.name) === path);
  if (!found) throw new Error(`no asset ${path}; errors: ${JSON.stringify(snapshot.errors)}`);
  return found;
};
const types = (path: string) => Object.fromEntries(asset(path).columns.map((c) => [c.name, c.dataType]));
const nullable = (path: string) =>
  asset(path)
    .columns.filter((c) => c.nullable)
    .map((c) => c.name);
const errorFor = (path: string) => snapshot.errors.find((e) => e.object === path)?.message;

describe('files connector on a directory of fixtures', () => {
  it('describes the source and finds data files in nested directories, skipping hidden ones and node_modules', () => {
    expect(snapshot).toMatchObject({ kind: 'files', location: root });
    expect(snapshot.name).toBe(root.split('/').at(-1));
    const paths = [...snapshot.assets.map((a) => `${a.namespace}|${a.name}`), ...snapshot.errors.map((e) => e.object)];
    expect(paths).toContain('sales/2024|orders.json');
    expect(paths).toContain('sales/2024|orders.parquet');
    expect(paths).toContain('|people.csv');
    expect(paths.some((p) => /secret|dotfile|node_modules|readme/.test(p))).toBe(false);
    expect(snapshot.assets.length + snapshot.errors.length).toBe(Object.keys(FILES).length - 4 + 1);
  });

  it('reports each file once in progress, ending at the total', () => {
    const total = snapshot.assets.length + snapshot.errors.length;
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(progress.map((p) => p.total))).toEqual(new Set([total]));
    expect(progress.map((p) => p.current)).toContain('sales/2024/orders.parquet');
  });

  it('types CSV columns from every value, counts records rather than lines, and keeps stat facts', () => {
    const people = asset('people.csv');
    expect(people).toMatchObject({ kind: 'file', namespace: '', rowCount: 3, sizeBytes: FILES['people.csv']!.length });
    expect(people.lastModified?.toISOString()).toBe(MODIFIED.toISOString());
    expect(types('people.csv')).toEqual({ id: 'integer', name: 'text', joined: 'date', score: 'double precision' });
    expect(nullable('people.csv')).toEqual(['score']);
    expect(people.properties).toMatchObject({ format: 'csv', delimiter: ',', header: true, encoding: 'utf-8' });
  });

  it('accepts a header-only CSV as zero rows, sniffs other delimiters and copes with mixed line endings', () => {
    expect(asset('header-only.csv').rowCount).toBe(0);
    expect(asset('header-only.csv').columns.map((c) => c.name)).toEqual(['id', 'name']);
    expect(asset('semicolons.csv')).toMatchObject({ rowCount: 2, properties: { delimiter: ';' } });
    expect(types('semicolons.csv')).toEqual({ a: 'integer', b: 'text' });
    expect(asset('mixed-endings.csv')).toMatchObject({ rowCount: 3, properties: { lineTerminator: 'mixed' } });
    expect(types('mixed-endings.csv')).toEqual({ a: 'integer', b: 'integer' });
  });

  it('repairs short rows as nulls but rejects rows with extra values, naming the line', () => {
    expect(asset('ragged.csv')).toMatchObject({ rowCount: 3, properties: { repairedRows: 2 } });
    expect(nullable('ragged.csv')).toEqual(['c']);
    expect(errorFor('too-wide.csv')).toMatch(/line 4 has 3 fields but the header has 2/);
    expect(errorFor('unclosed.csv')).toMatch(/malformed CSV: .*quote.*line/i);
  });

  it('makes blank and repeated header names unique, and reports the renames', () => {
    expect(asset('names.csv').columns.map((c) => c.name)).toEqual(['id', 'column_2', 'id_2', 'Name']);
    expect(asset('names.csv').properties?.renamedColumns).toHaveLength(2);
  });

  it('reads legacy Windows-1252 text, strips a byte-order mark, and spots a missing header', () => {
    expect(asset('latin1.csv').properties?.encoding).toBe('windows-1252');
    expect(asset('bom.csv').columns[0]?.name).toBe('code');
    expect(asset('headerless.csv')).toMatchObject({ rowCount: 2, properties: { header: false } });
    expect(types('headerless.csv')).toEqual({ column_1: 'integer', column_2: 'double precision', column_3: 'date' });
  });

  it('reports empty files per file and carries on', () => {
    expect(errorFor('empty.csv')).toMatch(/empty/);
    expect(errorFor('empty.json')).toMatch(/empty/);
  });

  it('reads JSON arrays of objects, with nested values as json', () => {
    const orders = asset('sales/2024/orders.json');
    expect(orders).toMatchObject({ namespace: 'sales/2024', name: 'orders.json', rowCount: 2 });
    expect(types('sales/2024/orders.json')).toEqual({
      order: 'integer',
      total: 'double precision',
      placed: 'timestamp with time zone',
      meta: 'json',
    });
    expect(nullable('sales/2024/orders.json')).toEqual(['meta']);
  });

  it('locates malformed and truncated JSON', () => {
    expect(errorFor('malformed.json')).toMatch(/line 4: expected "," or "\]"/);
    expect(errorFor('truncated.json')).toMatch(/line 3.*truncated/);
  });

  it('reads NDJSON line by line, and names the bad line of a broken one', () => {
    expect(asset('events.ndjson')).toMatchObject({ rowCount: 3, properties: { format: 'ndjson' } });
    expect(types('events.ndjson')).toEqual({ id: 'bigint', tags: 'json', extra: 'boolean' });
    expect(nullable('events.ndjson')).toEqual(['tags', 'extra']);
    expect(errorFor('broken.jsonl')).toMatch(/^line 4: the line is not valid JSON/);
  });

  it("takes a Parquet file's schema and row count from its footer", () => {
    const orders = asset('sales/2024/orders.parquet');
    expect(orders).toMatchObject({ rowCount: ROWS, properties: { format: 'parquet', rowGroups: 3 } });
    expect(types('sales/2024/orders.parquet')).toEqual({
      id: 'integer',
      amount: 'double precision',
      label: 'text',
      seen_at: 'timestamp with time zone',
      day: 'date',
      price: 'numeric(9,2)',
      tags: 'text[]',
    });
    expect(orders.columns.find((c) => c.name === 'id')?.nullable).toBe(false);
    expect(orders.columns.find((c) => c.name === 'amount')?.nullable).toBe(true);
  });

  it('reports truncated and fake Parquet files', () => {
    expect(errorFor('sales/truncated.parquet')).toMatch(/truncated or corrupt/);
    expect(errorFor('sales/not-parquet.parquet')).toMatch(/not a Parquet file/);
  });

  it('uses the name it is given', async () => {
    const named = await createFilesConnector({ root: join(root, 'sales'), name: 'Sales drop' }).discover();
    expect(named.name).toBe('Sales drop');
    expect(named.assets.map((a) => `${a.namespace}/${a.name}`)).toEqual(['2024/orders.json', '2024/orders.parquet']);
  });
});

describe('files connector roots', () => {
  it('refuses a root that does not exist, saying so', async () => {
    const missing = join(tmpdir(), 'no-such-dataops-dir', 'data');
    const error = await createFilesConnector({ root: missing })
      .discover()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataOpsError);
    expect(error).toMatchObject({ code: 'invalid_input' });
    expect((error as Error).message).toMatch(/no-such-dataops-dir\/data.*does not exist/);
  });

  it('refuses a file as the root, pointing at its directory', async () => {
    const file = join(root, 'people.csv');
    await expect(createFilesConnector({ root: file }).discover()).rejects.toThrow(/is a file, not a directory/);
  });
});
