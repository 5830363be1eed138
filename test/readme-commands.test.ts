import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoCatalog } from './helpers/demo-catalog.js';
import { documentedCommands } from './helpers/readme-commands.js';
import { runCli } from './helpers/run-cli.js';
import { loadSqlFile, sharedData } from './helpers/source-databases.js';
import { createScratchDatabase, serverUrl } from './helpers/test-db.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const onServer = Boolean(process.env.DATAOPS_TEST_DATABASE_URL);
const commands = documentedCommands(root);

/** Commands this test does not run, each with the reason. */
const skipped: Record<string, string> = {
  'dataops demo': 'run once, first, in beforeAll: it loads the workspace every other command runs against',
  'dataops mcp': 'serves MCP on stdin and stdout until the client hangs up; test/mcp-clients.test.ts drives it',
  'dataops mcp --toolsets catalog,lineage --read-only':
    'serves MCP on stdin and stdout until the client hangs up; test/tool-selection.test.ts drives it with these flags',
  'dataops ingest mysql mysql://user:pw@host:3306/erp':
    'needs a MariaDB/MySQL server; test/mysql-ingest.test.ts covers the connector against a real one',
  ...(onServer
    ? {}
    : {
        'dataops ingest postgres postgres://user:pw@host:5432/sales':
          'needs a Postgres server: on the server backend it runs against the Northwind sample database',
      }),
};

/**
 * The README's commands, and those of ```sh runnable blocks in docs/, run through the real CLI against one
 * fresh demo workspace, as a reader would type them in a clone of the repository. Placeholders that stand for
 * the reader's own data are pointed at local sample data; everything else runs as written.
 */
describe('the commands in the README and docs work as written on a fresh demo', () => {
  let db: string;
  let cleanup: () => Promise<void>;
  let workdir: string;
  const substitutions: Record<string, string> = {};
  let dropNorthwind: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ db, cleanup } = await createDemoCatalog('dataops_readme'));
    workdir = mkdtempSync(path.join(tmpdir(), 'dataops-readme-'));
    // Paths the docs give relative to the repository (docs/examples/…) resolve as in a clone.
    cpSync(path.join(root, 'docs/examples'), path.join(workdir, 'docs/examples'), { recursive: true });
    const exportsDir = path.join(workdir, 'exports');
    mkdirSync(exportsDir);
    writeFileSync(path.join(exportsDir, 'fuel_orders.csv'), 'order_id,station,gallons\n1,Norfolk,1200\n2,Tracy,800\n');
    const eventsDir = path.join(workdir, 'events');
    mkdirSync(eventsDir);
    const events = path.join(sharedData, 'openlineage/events');
    cpSync(path.join(events, 'fluentd/event_full.json'), path.join(eventsDir, 'full.json'));
    cpSync(path.join(events, 'fluentd-docker/test-complete.json'), path.join(eventsDir, 'complete.json'));
    const dbt = path.join(sharedData, 'dbt/jaffle_shop-postgres-dbt1.3-v7');
    Object.assign(substitutions, {
      './exports': exportsDir,
      './events': eventsDir,
      'target/manifest.json': path.join(dbt, 'manifest.json'),
      'target/run_results.json': path.join(dbt, 'run_results.json'),
    });
    if (onServer) {
      const northwind = await createScratchDatabase(serverUrl, 'dataops_readme_northwind');
      loadSqlFile(northwind.url, path.join(sharedData, 'sql/northwind.sql'), true);
      substitutions['postgres://user:pw@host:5432/sales'] = northwind.url;
      dropNorthwind = northwind.drop;
    }
    // The demo load is the slowest command; on a busy shared machine it may take a few minutes.
    const loaded = await runCli(['--db', db, 'demo'], {}, { cwd: workdir, timeoutMs: 380_000 });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stderr).toContain('added the pipeline "monthly contract spend by vendor"');
    // Where the demo's own data went is said, on the server the `<catalog>_demo` database.
    expect(loaded.stderr).toMatch(onServer ? /into the database \w+_demo on / : /into the embedded database in /);
  }, 400_000);
  afterAll(async () => {
    await cleanup?.();
    await dropNorthwind?.();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('finds the commands, and every skipped command, with its reason, is one of them', () => {
    const texts = commands.map((c) => c.text);
    expect(texts).toContain('dataops demo');
    expect(texts).toContain('dataops pipelines export-dbt "monthly contract spend by vendor" --out spend_dbt');
    for (const text of Object.keys(skipped)) expect(texts).toContain(text);
  });

  it('shows the YAML rules example exactly as the file the docs apply', () => {
    const example = readFileSync(path.join(root, 'docs/examples/shipment-rules.yml'), 'utf8');
    expect(readFileSync(path.join(root, 'docs/quality.md'), 'utf8')).toContain(`\`\`\`yaml\n${example}\`\`\``);
  });

  for (const command of commands) {
    // Commands in `skipped` are covered elsewhere or need what this machine lacks; the test above holds each reason to a command.
    if (skipped[command.text]) continue;
    it(`${command.text} (${command.where})`, async () => {
      const args = command.args.map((a) => substitutions[a] ?? a);
      const result = await runCli(['--db', db, ...args], {}, { cwd: workdir, timeoutMs: 170_000 });
      expect(result.code, `${command.text}\n${result.stderr}${result.stdout}`.slice(0, 2000)).toBe(0);
    });
  }
});
