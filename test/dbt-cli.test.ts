import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { sharedData } from './helpers/source-databases.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/** The catalog the CLI writes to: an embedded directory, or a scratch database when the suite runs on a server. */
async function catalogTarget(): Promise<{ db: string; cleanup: () => Promise<void> }> {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_cli_dbt');
    return { db: scratch.url, cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-cli-dbt-'));
  return { db: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

const v7 = path.join(sharedData, 'dbt/jaffle_shop-postgres-dbt1.3-v7');

// Each test runs the real CLI (a fresh process that opens the catalog) once or twice: slow on a busy machine.
describe('dataops ingest dbt', { timeout: 180_000 }, () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;

  beforeAll(async () => {
    target = await catalogTarget();
  });
  afterAll(() => target.cleanup());

  it('ingests a manifest with its run results, then again without change', async () => {
    const first = await runCli([
      '--db',
      target.db,
      '--json',
      'ingest',
      'dbt',
      path.join(v7, 'manifest.json'),
      '--run-results',
      path.join(v7, 'run_results.json'),
    ]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      project: 'jaffle_shop',
      manifestVersion: 7,
      models: 5,
      seeds: 3,
      created: 9,
      edgesOpened: 8,
      columnMappings: 13,
      rules: { total: 20, added: 20 },
      runs: { recorded: true, testResults: 0 },
    });
    // The target directory will do for the manifest.
    const again = await runCli([
      '--db',
      target.db,
      'ingest',
      'dbt',
      v7,
      '--run-results',
      path.join(v7, 'run_results.json'),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      "jaffle_shop (dbt manifest v7): 5 models, 3 seeds, 0 snapshots, 0 sources, 0 exposures — 0 found in the catalog's databases, " +
        '0 added, 0 updated, 0 deprecated; lineage: 0 edges opened, 0 closed, 13 column mappings; ' +
        'tests: 20 rules (0 added, 0 updated, 0 disabled)\n' +
        '  run results: run already known, 0 test results\n',
    );
  });

  it('finds dbt models by their documentation', async () => {
    const result = await runCli(['--db', target.db, '--json', 'search', 'derived facts based on payments']);
    const hits = (JSON.parse(result.stdout) as { hits: { qualifiedName: string }[] }).hits;
    expect(hits[0]!.qualifiedName).toBe('public.orders');
  });

  it('explains a missing or unsupported manifest in one line', async () => {
    const missing = await runCli(['--db', target.db, 'ingest', 'dbt', path.join(v7, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`dataops: cannot read the manifest ${path.join(v7, 'nope.json')}: no such file\n`);
    const notManifest = await runCli(['--db', target.db, 'ingest', 'dbt', path.join(v7, 'run_results.json')]);
    expect(notManifest.code).toBe(1);
    expect(notManifest.stderr).toMatch(/^dataops: not a dbt manifest: metadata\.dbt_schema_version is missing/);
  });
});
