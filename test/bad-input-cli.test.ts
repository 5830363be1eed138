import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

/** The catalog the CLI writes to: an embedded directory, or a scratch database when the suite runs on a server. */
async function catalogTarget(): Promise<{ db: string; cleanup: () => Promise<void> }> {
  if (process.env.DATAOPS_TEST_DATABASE_URL) {
    const scratch = await createScratchDatabase(serverUrl, 'dataops_badinput');
    return { db: scratch.url, cleanup: scratch.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'dataops-badinput-'));
  return { db: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

const aliasBomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
  .concat('bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`))
  .join('\n');

describe('dataops CLI on bad input: one line saying what and where', () => {
  let target: Awaited<ReturnType<typeof catalogTarget>>;
  let files: string;
  let http: Server;
  let httpPort: number;

  beforeAll(async () => {
    target = await catalogTarget();
    files = mkdtempSync(path.join(tmpdir(), 'dataops-badinput-files-'));
    http = createServer((_req, res) => res.end('not postgres'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    rmSync(files, { recursive: true, force: true });
    await target.cleanup();
  });

  it('fails within the connect timeout when the --db port speaks HTTP, and at once when it is closed', async () => {
    const started = Date.now();
    const result = await runCli([
      '--db',
      `postgres://dataops:secret@127.0.0.1:${httpPort}/x?connect_timeout=3`,
      'search',
      'x',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `dataops: could not connect to postgres://dataops@127.0.0.1:${httpPort}/x?connect_timeout=3: no Postgres answer ` +
        'within 3 s (check the host and port: something that is not Postgres may be listening there)\n',
    );
    // 3 s of waiting plus starting node and tsx on a busy machine; it used to hang until killed.
    expect(Date.now() - started).toBeLessThan(60_000);
    const closed = await runCli(['search', 'x'], { DATABASE_URL: 'postgres://u@127.0.0.1:1/x' });
    expect(closed.stderr).toBe('dataops: could not connect to postgres://u@127.0.0.1:1/x: connection refused\n');
  }, 120_000);

  it('refuses an unknown --db scheme instead of creating a directory named after it, and a file as data directory', async () => {
    const cwd = process.cwd();
    const result = await runCli(['--db', 'mysql://root:pw@127.0.0.1/shop', 'search', 'x']);
    expect(result.stderr).toBe(
      'dataops: --db mysql://root@127.0.0.1/shop: the catalog is a postgres:// URL or a data directory, not mysql:// ' +
        '(to read mysql data into the catalog: dataops ingest mysql <url>)\n',
    );
    expect(existsSync(path.join(cwd, 'mysql:'))).toBe(false);
    const file = path.join(files, 'not-a-dir');
    writeFileSync(file, 'x');
    const onFile = await runCli(['search', 'x'], { DATAOPS_DATA_DIR: file, DATABASE_URL: '' });
    expect(onFile.stderr).toBe(
      `dataops: cannot keep the embedded catalog in ${file}: ${file} is a file, not a directory: give a data directory or a postgres:// URL\n`,
    );
  }, 120_000);

  it('names the file and what to do for missing files, directories and alias bombs in quality apply', async () => {
    const missing = await runCli(['--db', target.db, 'quality', 'apply', path.join(files, 'nope.yaml')]);
    expect(missing.stderr).toBe(`dataops: cannot read the rules file ${path.join(files, 'nope.yaml')}: no such file\n`);
    const bomb = path.join(files, 'bomb.yaml');
    writeFileSync(bomb, aliasBomb);
    const exploded = await runCli(['--db', target.db, 'quality', 'apply', bomb]);
    expect(exploded.code).toBe(1);
    expect(exploded.stderr).toBe(
      `dataops: ${bomb}: its YAML aliases (*name) expand to too much data (the yaml library calls it a resource ` +
        'exhaustion attack): write the rules out instead; nothing was applied\n',
    );
  }, 120_000);

  it('names the file for a directory given where a dbt artifact is expected, and bad percent-encoding in a URL', async () => {
    const manifest = path.join(files, 'manifest.json');
    writeFileSync(manifest, '{}');
    mkdirSync(path.join(files, 'target'));
    const dir = await runCli([
      '--db',
      target.db,
      'ingest',
      'dbt',
      manifest,
      '--run-results',
      path.join(files, 'target'),
    ]);
    expect(dir.stderr).toBe(
      `dataops: cannot read the --run-results ${path.join(files, 'target')}: it is a directory: give the file itself\n`,
    );
    const url = await runCli(['--db', target.db, 'ingest', 'postgres', 'postgres://u:100%@127.0.0.1:1/x']);
    expect(url.stderr).toBe(
      'dataops: the password in the Postgres URL postgres://u@127.0.0.1:1/x has a % that is not percent-encoding: ' +
        'write a literal % as %25\n',
    );
  }, 120_000);

  it('refuses an OpenLineage file whose JSON breaks, naming the line and column', async () => {
    const broken = path.join(files, 'events.json');
    writeFileSync(broken, '{\n  "eventType": "START",\n  "eventTime": "2024-01-01T00:00:00Z"\n  "run": {}\n}\n');
    const result = await runCli(['--db', target.db, 'ingest', 'openlineage', broken]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `refused ${broken}: the file is not valid JSON: line 4, column 3: expected ',' or '}'`,
    );
  }, 120_000);
});
