/**
 * The files connector on the real, imperfect files of the `vega-datasets` package, checked against facts
 * gathered independently: line counts, `JSON.parse`, and the schema the publishers ship in datapackage.json.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveredAsset, SourceSnapshot } from '../types.js';
import { createFilesConnector } from './files-connector.js';

const PACKAGE_DIR = join(dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..');
const DATA = join(PACKAGE_DIR, 'data');

interface Resource {
  path: string;
  description?: string;
  schema?: { fields: { name: string; type: string }[] };
}
const resources: Resource[] = JSON.parse(readFileSync(join(PACKAGE_DIR, 'datapackage.json'), 'utf8')).resources;
const dataFiles = readdirSync(DATA).filter((f) => ['.csv', '.tsv', '.json', '.parquet'].includes(extname(f)));
const csvFiles = dataFiles.filter((f) => f.endsWith('.csv') || f.endsWith('.tsv'));
const text = (file: string) => readFileSync(join(DATA, file), 'utf8');
const parsed = (file: string): unknown => JSON.parse(text(file));
const jsonArrays = dataFiles.filter((f) => f.endsWith('.json') && Array.isArray(parsed(f)));
const records = (file: string) => parsed(file) as Record<string, unknown>[];

let snapshot: SourceSnapshot;
beforeAll(async () => {
  snapshot = await createFilesConnector({ root: DATA }).discover();
});

function asset(name: string): DiscoveredAsset {
  const found = snapshot.assets.find((a) => a.name === name);
  if (!found) throw new Error(`${name} was not described`);
  return found;
}
const column = (file: string, name: string) => asset(file).columns.find((c) => c.name === name);

describe('files connector on vega-datasets', () => {
  it('describes every CSV, TSV, JSON and Parquet file and nothing else, without errors', () => {
    expect(snapshot.errors).toEqual([]);
    expect(snapshot.assets.map((a) => a.name).sort()).toEqual([...dataFiles].sort());
    expect(snapshot.assets.every((a) => a.namespace === '' && a.kind === 'file')).toBe(true);
  });

  it('counts CSV and TSV rows exactly (none of these files has line breaks inside fields)', () => {
    for (const file of csvFiles) {
      const lines = text(file)
        .split('\n')
        .filter((line) => line.trim() !== '');
      expect(asset(file).rowCount, file).toBe(lines.length - 1);
    }
  });

  it('counts the elements of every JSON array, and describes top-level objects as one row', () => {
    for (const file of dataFiles.filter((f) => f.endsWith('.json'))) {
      const value = parsed(file);
      if (Array.isArray(value)) {
        expect(asset(file).rowCount, file).toBe(value.length);
      } else {
        expect(asset(file), file).toMatchObject({ rowCount: 1, properties: { layout: 'object' } });
        expect(asset(file).columns.map((c) => c.name)).toEqual(Object.keys(value as object));
      }
    }
    expect(asset('cars.json').rowCount).toBe(406);
    expect(asset('flights-200k.json').rowCount).toBe(200_000);
  });

  it('reads the 3-million-row Parquet file from its footer, with the schema it declares', () => {
    const description = resources.find((r) => r.path === 'flights-3m.parquet')?.description;
    expect(description).toMatch(/3 million rows/);
    const flights = asset('flights-3m.parquet');
    expect(flights.rowCount).toBe(3_000_000);
    expect(flights.properties).toMatchObject({ format: 'parquet', createdBy: 'Polars' });
    expect(flights.columns.map((c) => [c.name, c.dataType])).toEqual([
      ['date', 'timestamp'],
      ['delay', 'bigint'],
      ['distance', 'bigint'],
      ['origin', 'text'],
      ['destination', 'text'],
    ]);
  });

  it("agrees with the publisher's schema, except where the values show the schema is wrong", () => {
    const expected: Record<string, string[]> = {
      string: ['text'],
      integer: ['integer', 'bigint'],
      number: ['double precision'],
      date: ['date'],
      datetime: ['timestamp', 'timestamp with time zone'],
    };
    const disagreements: string[] = [];
    let compared = 0;
    for (const resource of resources) {
      if (!resource.schema || !dataFiles.includes(resource.path)) continue;
      for (const field of resource.schema.fields) {
        const found = column(resource.path, field.name);
        compared++;
        if (!found || !expected[field.type]?.includes(found.dataType)) {
          disagreements.push(`${resource.path}:${field.name}:${field.type}->${found?.dataType}`);
        }
      }
    }
    expect(compared).toBeGreaterThan(300);
    const budgetYears = disagreements.filter((d) => d.startsWith('budget.json:'));
    expect(disagreements.filter((d) => !budgetYears.includes(d)).sort()).toEqual([
      'cars.json:Miles_per_Gallon:integer->double precision',
      'github.csv:time:string->timestamp',
      'species.csv:county_id:integer->text',
      'zipcodes.csv:zip_code:integer->text',
    ]);
    // Each disagreement, checked against the values themselves:
    // budget amounts are strings like "-566,000" (money with thousands separators), so numeric, not text;
    expect(budgetYears).toHaveLength(60);
    expect(budgetYears.every((d) => d.endsWith(':string->numeric'))).toBe(true);
    expect(records('budget.json').some((r) => /^-?\d{1,3}(,\d{3})+$/.test(String(r['1990'])))).toBe(true);
    // some miles-per-gallon values have decimals;
    expect(records('cars.json').some((r) => !Number.isInteger(r.Miles_per_Gallon ?? 0))).toBe(true);
    // GitHub times are all of the form 2015/01/01 01:00:00;
    const times = text('github.csv').split('\n').slice(1).filter(Boolean);
    expect(times.every((line) => /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d,/.test(line))).toBe(true);
    // and zip codes and county FIPS codes have leading zeros that an integer would drop.
    expect(text('zipcodes.csv')).toMatch(/\n0\d{4},/);
    expect(text('species.csv')).toMatch(/,0\d{4},[\d.]+\n/);
  });

  it('marks JSON columns nullable exactly when some record lacks the key, holds null, or a blank string', () => {
    for (const file of jsonArrays) {
      const rows = records(file);
      for (const found of asset(file).columns) {
        const missing = rows.some((r) => {
          const value = r[found.name];
          return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
        });
        expect(found.nullable, `${file}:${found.name}`).toBe(missing);
      }
    }
    expect(column('movies.json', 'US DVD Sales')).toMatchObject({ dataType: 'integer', nullable: true });
    expect(column('countries.json', 'p_fertility')?.nullable).toBe(true);
  });

  it('marks CSV columns nullable exactly when some cell is blank or NA', () => {
    for (const file of csvFiles.filter((f) => !text(f).includes('"'))) {
      const [header, ...lines] = text(file)
        .split(/\r?\n/)
        .filter((l) => l !== '')
        .map((l) => l.split(file.endsWith('.tsv') ? '\t' : ','));
      header!.forEach((name, i) => {
        const missing = lines.some((cells) => ['', 'NA'].includes((cells[i] ?? '').trim()));
        expect(column(file, name)?.nullable, `${file}:${name}`).toBe(missing);
      });
    }
    expect(column('birdstrikes.csv', 'Speed IAS in knots')).toMatchObject({ dataType: 'integer', nullable: true });
    // airports.csv writes missing cities and states as NA.
    expect(text('airports.csv')).toContain(',NA,NA,');
    expect(
      asset('airports.csv')
        .columns.filter((c) => c.nullable)
        .map((c) => c.name),
    ).toEqual(['city', 'state']);
  });

  it('degrades mixed columns sensibly', () => {
    const movies = records('movies.json');
    // Some titles are bare numbers (e.g. 1776), the rest strings: the column is text.
    expect(movies.some((m) => typeof m.Title === 'number')).toBe(true);
    expect(column('movies.json', 'Title')?.dataType).toBe('text');
    // Grosses above 2^31 - 1 make the column bigint, though most fit an integer.
    expect(Math.max(...movies.map((m) => Number(m['Worldwide Gross'] ?? 0)))).toBeGreaterThan(2 ** 31 - 1);
    expect(column('movies.json', 'Worldwide Gross')?.dataType).toBe('bigint');
    // Whole and fractional numbers together are double precision.
    expect(column('barley.json', 'yield')?.dataType).toBe('double precision');
    // Dates written "Jun 12 1998" are still dates; nested objects are json.
    expect(column('movies.json', 'Release Date')?.dataType).toBe('date');
    expect(column('weekly-weather.json', 'record')?.dataType).toBe('json');
  });

  it('keeps columns in the order the file writes them, even year-named ones', () => {
    const schema = resources.find((r) => r.path === 'budget.json')?.schema?.fields.map((f) => f.name);
    expect(asset('budget.json').columns.map((c) => c.name)).toEqual(schema);
    expect(asset('budget.json').columns.map((c) => c.position)).toEqual(schema?.map((_, i) => i + 1));
  });

  it('records size and modification time from the file system', () => {
    const cars = asset('cars.json');
    expect(cars.sizeBytes).toBe(Buffer.byteLength(text('cars.json')));
    expect(cars.lastModified).toBeInstanceOf(Date);
    expect(asset('unemployment.tsv').properties).toMatchObject({ format: 'tsv', delimiter: '\t', header: true });
  });
});
