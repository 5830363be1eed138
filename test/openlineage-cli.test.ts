import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { sharedData } from './helpers/source-databases.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/** The catalog the CLI writes to: an embedded directory, or a scratch database when the suite runs on a server. */
async function catalogTarget(): Promise<{ db: string; cleanup: () => Promise<void> }> {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_cli_ol');
    return { db: scratch.url, cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-cli-ol-'));
  return { db: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

const event = (file: string) => readFileSync(path.join(sharedData, 'openlineage/events', file), 'utf8');
const compact = (file: string) => JSON.stringify(JSON.parse(event(file)));

interface FilesSummary {
  files: { file: string; events: number; accepted: number; replayed: number; error?: string }[];
  events: number;
  accepted: number;
  replayed: number;
  refusedFiles: number;
}

// Each test runs the real CLI (a fresh process that opens the catalog) once or twice: slow on a busy machine.
describe('dataops ingest openlineage', { timeout: 180_000 }, () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;
  let dir: string;

  beforeAll(async () => {
    target = await catalogTarget();
    dir = mkdtempSync(path.join(tmpdir(), 'dataops-ol-events-'));
    // One event; a JSON array (COMPLETE listed before START); NDJSON; a bad file in a subdirectory.
    writeFileSync(path.join(dir, 'full.json'), event('fluentd/event_full.json'));
    writeFileSync(
      path.join(dir, 'run.json'),
      `[${event('fluentd-docker/test-complete.json')},${event('fluentd-docker/test-start.json')}]`,
    );
    writeFileSync(
      path.join(dir, 'client.ndjson'),
      ['serde_example_run_event', 'serde_example_job_event', 'serde_example_dataset_event']
        .map((name) => compact(`python-client/${name}.json`))
        .join('\n'),
    );
    mkdirSync(path.join(dir, 'rejected'));
    writeFileSync(path.join(dir, 'rejected', 'no-run.json'), event('fluentd/event_no_run_id.json'));
    writeFileSync(path.join(dir, 'README.txt'), 'not events');
  });
  afterAll(async () => {
    await target.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a directory of event files, reports the bad one and loads the rest', async () => {
    const result = await runCli(['--db', target.db, '--json', 'ingest', 'openlineage', dir]);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as FilesSummary;
    expect(summary).toMatchObject({ events: 6, accepted: 6, replayed: 0, refusedFiles: 1 });
    expect(summary.files).toEqual([
      { file: 'client.ndjson', events: 3, accepted: 3, replayed: 0 },
      { file: 'full.json', events: 1, accepted: 1, replayed: 0 },
      {
        file: path.join('rejected', 'no-run.json'),
        events: 1,
        accepted: 0,
        replayed: 0,
        error: 'invalid OpenLineage event: run.runId is required: a RunEvent must say which run it reports on',
      },
      { file: 'run.json', events: 2, accepted: 2, replayed: 0 },
    ]);
  });

  it('changes nothing on a second load, and says so in one line per problem', async () => {
    const result = await runCli(['--db', target.db, 'ingest', 'openlineage', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      'openlineage: 6 events in 3 of 4 files — 0 recorded, 6 already known; 0 assets added, 0 updated; ' +
        '0 runs changed; lineage: 0 edges opened, 0 closed\n' +
        `  refused ${path.join('rejected', 'no-run.json')}: invalid OpenLineage event: run.runId is required: a RunEvent must say which run it reports on\n`,
    );
  });

  it('loads a single file, and explains a path that is not there', async () => {
    const file = path.join(dir, 'single.json');
    writeFileSync(file, event('fluentd/event_simple.json'));
    const ok = await runCli(['--db', target.db, '--json', 'ingest', 'openlineage', file]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ events: 1, accepted: 1, refusedFiles: 0 });
    const missing = await runCli(['--db', target.db, 'ingest', 'openlineage', path.join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`dataops: cannot read ${path.join(dir, 'nope')}: no such file or directory\n`);
  });

  it('finds the recorded jobs with search', async () => {
    const result = await runCli(['--db', target.db, '--json', 'search', 'mytask', '--kind', 'job']);
    const hits = (JSON.parse(result.stdout) as { hits: { name: string; kind: string }[] }).hits;
    expect(hits[0]).toMatchObject({ name: 'myjob.mytask', kind: 'job' });
  });
});
