import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/** `dataops classify` on Northwind, ingested through the CLI into an embedded catalog or one on the server. */
describe('dataops classify', () => {
  let db: string;
  let cleanup: () => Promise<void>;
  // A server catalog keeps the source's connection (to sample it) only with a workspace key.
  const env = { DATAOPS_SECRET_KEY: 'dataops test key for the classify CLI test, never used elsewhere' };
  const cli = (...args: string[]) => runCli(['--db', db, ...args], env);

  beforeAll(async () => {
    if (process.env.DATAOPS_TEST_DATABASE_URL) {
      const scratch = await createScratchDatabase(serverUrl, 'dataops_classify_cli');
      db = scratch.url;
      cleanup = scratch.drop;
    } else {
      db = mkdtempSync(path.join(tmpdir(), 'dataops-classify-cli-'));
      cleanup = async () => rmSync(db, { recursive: true, force: true });
    }
    const ingested = await cli('ingest', 'postgres', inject('northwindUrl'), '--name', 'northwind');
    expect(ingested.code, ingested.stderr).toBe(0);
    await cli('principal', 'add', 'ana', '--name', 'Ana Analyst', '--clearance', 'C', '--role', 'viewer');
  });
  afterAll(() => cleanup());

  it('prints the columns with personal data and their evidence, masked', async () => {
    const result = await cli('--as', 'ana', 'classify', 'public.employees');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^urn:dataops:postgres:northwind:public\.employees: 6 columns with personal data \(9 rows sampled\)/,
    );
    expect(result.stdout).toMatch(
      /- birth_date: date_of_birth: .* 100% of 9 sampled values matched; the column name says "birth", e\.g\. 19\d\d-\*\*-\*\*/,
    );
    expect(result.stdout).toMatch(/- home_phone: phone: .*e\.g\. \(\*\*\*\) \*\*\*-\d{4}/);
    expect(result.stdout).toContain('Marking: U → suggested C');
    // Northwind's first employee is Nancy Davolio, born 1948-12-08: neither appears.
    expect(result.stdout).not.toMatch(/Davolio|1948-12-08/);
  });

  it('applies the suggestions as a steward, and refuses a viewer', async () => {
    const refused = await cli('--as', 'ana', 'classify', 'public.customers', '--apply');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/needs the steward or owner role/);
    const applied = await cli('--json', 'classify', 'public.customers', '--apply');
    expect(applied.code, applied.stderr).toBe(0);
    const result = JSON.parse(applied.stdout) as { applied: boolean; changed: number; marking: { suggested: string } };
    expect(result).toMatchObject({ applied: true, changed: 6, marking: { suggested: 'C' } });
    const columns = await cli('--json', 'search', 'customers');
    expect(columns.code, columns.stderr).toBe(0);
    expect(JSON.parse(columns.stdout).hits.find((h: { name: string }) => h.name === 'customers').classification).toBe(
      'C',
    );
  });
});
