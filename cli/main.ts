import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ZodError } from 'zod';
import { renderLineagePng } from '../channels/render/lineage-png.js';
import { renderLineageSvg } from '../channels/render/lineage-svg.js';
import { DataOpsError, isDataOpsError, zodProblems } from '../core/errors.js';
import { type Classification, classificationLevels, type Role, roleNames } from '../db/schema/types.js';
import { catalogSearch } from '../mcp-server/catalog/tools.js';
import { loadDemo } from '../mcp-server/demo/load-demo.js';
import { defaultTokenDays } from '../mcp-server/governance/api-tokens.js';
import { readAuditLog, verifyAudit } from '../mcp-server/governance/audit.js';
import { buildAuditReport } from '../mcp-server/governance/audit-report.js';
import { renderAuditReportMarkdown } from '../mcp-server/governance/audit-report-markdown.js';
import { governanceClassify } from '../mcp-server/governance/classification-tools.js';
import { findVisibleDomain } from '../mcp-server/governance/policies.js';
import { createApiToken, linkIdentity, localAdminId, savePrincipal } from '../mcp-server/governance/principals.js';
import { ingestDbtFiles } from '../mcp-server/lineage/dbt-files.js';
import { ingestOpenLineageFiles } from '../mcp-server/lineage/openlineage-files.js';
import { lineageGet } from '../mcp-server/lineage/tools.js';
import { applyRulesYaml } from '../mcp-server/quality/rules-yaml.js';
import { readInputFile } from '../mcp-server/read-input-file.js';
import { toolsetNames } from '../mcp-server/registry.js';
import { runTool } from '../mcp-server/run-tool.js';
import { readConfig, readEnv } from '../mcp-server/runtime/config.js';
import { startRuntime } from '../mcp-server/runtime/startup.js';
import { serveStdio } from '../mcp-server/transports/stdio.js';
import { addAlertCommands } from './alerts.js';
import { addGovernanceCommands } from './governance-commands.js';
import {
  createConnector,
  ingest,
  ingestKinds,
  lineageIngestKinds,
  renderDbtSummary,
  renderOpenLineageSummary,
  renderSummary,
} from './ingest.js';
import { addPipelineCommands } from './pipelines.js';
import { addPrincipalCommands } from './principal-commands.js';
import { currentDisplayName, soleIssuer } from './principal-defaults.js';
import { addQualityRuleCommands } from './quality-rule-commands.js';
import { addSocialCommands } from './social-commands.js';
import { parsePort, startServer } from './start.js';
import { toolSelection } from './tool-selection.js';
import { type GlobalOptions, openWorkspace, type Workspace } from './workspace.js';

const program = new Command()
  .name('dataops')
  .description('Chat-first data operations: catalog, search, lineage, quality and governance over MCP')
  .option('--db <target>', 'catalog database: a postgres:// URL or an embedded data directory (default ./.dataops)')
  .option('--as <principal>', 'act as this principal (default: the local administrator)')
  .option('--json', 'print machine-readable JSON')
  .showHelpAfterError();

/** Runs a command with an open workspace and always closes it. */
function withWorkspace<A extends unknown[]>(run: (ws: Workspace, options: GlobalOptions, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const options = program.opts<GlobalOptions>();
    const ws = await openWorkspace(options);
    try {
      await run(ws, options, ...args);
    } finally {
      await ws.close();
    }
  };
}

/** A whole number from 1 to `max`, or a one-line error that echoes what was typed. */
function positiveInteger(option: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new DataOpsError('invalid_input', `${option} must be a positive whole number, not "${value}"`);
  }
  if (n > max) throw new DataOpsError('invalid_input', `${option} must be at most ${max}, not "${value}"`);
  return n;
}

interface IngestFlags {
  name?: string;
  schema?: string[];
  domain?: string;
  classification?: Classification;
  relocate?: boolean;
  runResults?: string;
  catalog?: string;
  targetSource?: string;
}

/** A URN as given, or the URN of the one visible asset with this qualified name. */
async function resolveAssetUrn(ws: Workspace, asset: string): Promise<string> {
  if (asset.startsWith('urn:')) return asset;
  const found = await runTool(catalogSearch, { query: asset, limit: 50 }, ws.ctx);
  const matches = found.hits.filter((h) => h.qualifiedName.toLowerCase() === asset.toLowerCase());
  if (matches.length === 1) return matches[0]!.urn;
  if (matches.length > 1) {
    throw new DataOpsError(
      'invalid_input',
      `${asset} names ${matches.length} assets; give the URN: ${matches.map((m) => m.urn).join(', ')}`,
    );
  }
  throw new DataOpsError('not_found', `no asset named ${asset}: try dataops search ${asset}`);
}

function print(options: GlobalOptions, data: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}

type ToolOptions = { toolsets?: string; readOnly?: boolean };
const toolsetsHelp = `offer only these toolsets, comma-separated: ${toolsetNames.join(', ')} (default all; env DATAOPS_TOOLSETS)`;
const readOnlyHelp = 'offer only read-only tools (env DATAOPS_READ_ONLY=true)';

program
  .command('start')
  .description(
    'serve the web API, MCP over Streamable HTTP at /mcp and /healthz (loads the demo on a first embedded start)',
  )
  .addOption(new Option('--port <port>', 'port to listen on').env('PORT').default('8787'))
  .addOption(
    new Option('--host <address>', 'address to bind (loopback by default; any other address requires tokens)')
      .env('DATAOPS_HOST')
      .default('127.0.0.1'),
  )
  .addOption(
    new Option(
      '--auth <mode>',
      'local: loopback requests without a token act as --as (the default on an embedded catalog); ' +
        'required: always need a token (the default on a Postgres server catalog)',
    ).choices(['local', 'required']),
  )
  .option('--allowed-host <host...>', 'extra Host names to answer to (behind a proxy or on a LAN)')
  .option('--no-demo', 'do not load the demo workspace into an empty embedded catalog')
  .option('--toolsets <list>', toolsetsHelp)
  .option('--read-only', readOnlyHelp)
  .action(
    async (
      cmd: ToolOptions & {
        port: string;
        host: string;
        auth?: 'local' | 'required';
        allowedHost?: string[];
        demo: boolean;
      },
    ) => {
      // Checked before anything opens: a typo should not wait for migrations.
      const port = parsePort(cmd.port);
      const tools = toolSelection(cmd, readEnv());
      const options = program.opts<GlobalOptions>();
      await startServer(readConfig(options), { ...cmd, port, as: options.as, tools });
    },
  );

program
  .command('mcp')
  .description('serve MCP over stdio (for Claude Desktop, VS Code, Cursor, the MCP Inspector)')
  .option('--toolsets <list>', toolsetsHelp)
  .option('--read-only', readOnlyHelp)
  .option('--no-demo', 'do not load the demo workspace into an empty embedded catalog')
  .action(async (cmd: ToolOptions & { demo: boolean }) => {
    // Checked before anything opens, like --port.
    const tools = toolSelection(cmd, readEnv());
    const options = program.opts<GlobalOptions>();
    // Answers `initialize` and `tools/list` at once; the catalog opens (and the demo loads) after them.
    let onSettled!: () => void;
    const after = new Promise<void>((resolve) => {
      onSettled = resolve;
    });
    const startup = startRuntime(readConfig(options), { demo: cmd.demo, as: options.as, after });
    const cannotServe = new AbortController();
    // A catalog that cannot open, or an unknown --as, ends the process with its message.
    startup.opened.catch(() => cannotServe.abort());
    try {
      await serveStdio(startup, options.as ?? localAdminId, { signal: cannotServe.signal, onSettled, tools });
    } finally {
      await startup.close();
    }
    await startup.opened;
  });

program
  .command('ingest')
  .description('read a source into the catalog; re-running changes only what changed in the source')
  .argument('<kind>', `one of ${[...ingestKinds, ...lineageIngestKinds].join(', ')}`)
  .argument(
    '<target>',
    'a connection URL (postgres://…, mysql://…), a directory of files, OpenLineage event files (a file or a directory), or a dbt manifest.json',
  )
  .option('--name <name>', 'name of the source in the catalog (default: the database or directory name)')
  .option('--schema <schema...>', 'Postgres only: ingest just these schemas (others in the catalog are left alone)')
  .option('--domain <domain>', "domain of the source's new assets (need-to-know applies when it is restricted)")
  .addOption(
    new Option('--classification <marking>', "marking of the source's new assets (default U)").choices([
      ...classificationLevels,
    ]),
  )
  .option('--relocate', 'the source moved: accept a new location under the same name')
  .option('--run-results <file>', "dbt only: the run's run_results.json (runs and test results)")
  .option('--catalog <file>', "dbt only: catalog.json from `dbt docs generate` (the warehouse's columns and types)")
  .option('--target-source <name>', 'dbt only: the catalog source holding the project, when several read its database')
  .action(
    withWorkspace(async (ws, options, kind: string, target: string, cmd: IngestFlags) => {
      if (kind === 'openlineage') {
        const summary = await ingestOpenLineageFiles(ws.ctx, target);
        print(options, summary, renderOpenLineageSummary(summary));
        if (summary.refusedFiles > 0) process.exitCode = 1;
        return;
      }
      if (kind === 'dbt') {
        const files = { manifest: target, runResults: cmd.runResults, catalog: cmd.catalog };
        const summary = await ingestDbtFiles(ws.ctx, {
          ...files,
          name: cmd.name,
          targetSource: cmd.targetSource,
          classification: cmd.classification,
          domain: cmd.domain,
        });
        print(options, summary, renderDbtSummary(summary));
        return;
      }
      const connector = createConnector(kind, target, { name: cmd.name, schemas: cmd.schema });
      const showProgress = !options.json && process.stderr.isTTY;
      const summary = await ingest(
        ws.ctx,
        connector,
        {
          domain: cmd.domain,
          classification: cmd.classification,
          scope: cmd.schema,
          relocate: cmd.relocate,
          // Kept (encrypted) so profiles and quality checks can read the data later; files are read from disk.
          connection: kind === 'files' ? undefined : target,
        },
        (p) => {
          if (showProgress) process.stderr.write(`\r\x1b[K${p.done}/${p.total} ${p.current ?? ''}`);
        },
        // Syncing (profiles, search documents, embeddings) can take longer than discovery: say so.
        (n) => {
          if (showProgress) process.stderr.write(`\r\x1b[Ksaving ${n} asset${n === 1 ? '' : 's'} to the catalog…`);
        },
      );
      if (showProgress) process.stderr.write('\r\x1b[K');
      print(options, summary, renderSummary(summary));
    }),
  );

program
  .command('search')
  .description('search the catalog as --as would through catalog_search')
  .argument('<query...>', 'words to look for')
  .option('--limit <n>', 'how many results', '10')
  .option('--cursor <cursor>', 'the next page: the cursor a previous search printed')
  .option('--kind <kind>', 'only this kind of asset')
  .option('--domain <domain>', 'only this domain')
  .option('--owner <owner>', 'only assets with this owner')
  .option('--tag <tag>', 'only assets with this tag')
  .option('--classification <marking>', 'only assets with this marking (U, C, S, TS)')
  .option('--source <source>', 'only this source')
  .option('--certified', 'only certified assets')
  .option('--no-certified', 'only assets nobody has certified')
  .option('--include-deprecated', 'also assets that vanished from their source')
  .action(
    withWorkspace(
      async (
        ws,
        options,
        words: string[],
        cmd: Record<string, string | undefined> & { certified?: boolean; includeDeprecated?: boolean },
      ) => {
        const input = {
          query: words.join(' '),
          limit: positiveInteger('--limit', cmd.limit!),
          cursor: cmd.cursor,
          kind: cmd.kind,
          domain: cmd.domain,
          owner: cmd.owner,
          tag: cmd.tag,
          classification: cmd.classification,
          source: cmd.source,
          certified: cmd.certified,
          includeDeprecated: cmd.includeDeprecated,
        };
        const result = await runTool(catalogSearch, input, ws.ctx);
        print(options, result, catalogSearch.render(result));
      },
    ),
  );

program
  .command('lineage')
  .description("draw or print an asset's lineage as --as may see it (json, svg or png)")
  .argument('<asset>', 'the asset: its URN, or its qualified name such as contracts.vendors')
  .option('--direction <direction>', 'upstream, downstream or both', 'both')
  .option('--depth <n>', 'how many hops to follow', '3')
  .option('--column <column>', 'follow one column')
  .option('--references', 'also follow foreign keys')
  .option('--as-of <time>', 'the lineage as it was at this time (ISO 8601)')
  .option('--format <format>', 'text, json, svg or png', 'text')
  .option('--out <file>', 'write to this file (png needs one unless stdout is redirected)')
  .action(
    withWorkspace(
      async (ws, options, asset: string, cmd: Record<string, string | undefined> & { references?: boolean }) => {
        const format = cmd.format!;
        if (!['text', 'json', 'svg', 'png'].includes(format)) {
          throw new DataOpsError('invalid_input', `--format must be text, json, svg or png, not "${format}"`);
        }
        const input = {
          urn: await resolveAssetUrn(ws, asset),
          direction: cmd.direction,
          depth: positiveInteger('--depth', cmd.depth!),
          column: cmd.column,
          asOf: cmd.asOf,
          includeReferences: Boolean(cmd.references),
        };
        const graph = await runTool(lineageGet, input, ws.ctx);
        const body =
          format === 'png'
            ? await renderLineagePng(graph)
            : format === 'svg'
              ? renderLineageSvg(graph)
              : format === 'json' || options.json
                ? `${JSON.stringify(graph, null, 2)}\n`
                : `${lineageGet.render(graph)}\n`;
        if (cmd.out) {
          await writeFile(cmd.out, body);
          process.stderr.write(`wrote ${cmd.out}\n`);
        } else if (format === 'png' && process.stdout.isTTY) {
          throw new DataOpsError('invalid_input', 'a PNG is binary: give --out <file> or redirect the output');
        } else {
          process.stdout.write(body);
        }
      },
    ),
  );

program
  .command('classify')
  .description('find personal data in an asset from its column names and sampled values, with the evidence')
  .argument('<asset>', 'the asset: its URN, or its qualified name such as personnel.people')
  .option('--apply', 'record the suggestions: column sensitivity pii and the marking (steward or owner)')
  .option('--sample <n>', 'rows to sample', '200')
  .action(
    withWorkspace(async (ws, options, asset: string, cmd: { apply?: boolean; sample: string }) => {
      const input = {
        urn: await resolveAssetUrn(ws, asset),
        apply: Boolean(cmd.apply),
        sampleSize: positiveInteger('--sample', cmd.sample, 10_000),
      };
      const result = await runTool(governanceClassify, input, ws.ctx);
      print(options, result, governanceClassify.render(result));
    }),
  );

program
  .command('demo')
  .description('load the demo workspace (contracts, performance, personnel, logistics) and ingest it')
  .action(
    withWorkspace(async (ws, options) => {
      const summary = await loadDemo(ws, (message) => !options.json && process.stderr.write(`${message}\n`));
      print(options, summary, renderSummary(summary));
    }),
  );

const quality = program.command('quality').description('data-quality rules and checks');
quality
  .command('apply')
  .description('make the rules of a YAML file the rules of its suite: adds, updates, disables what left the file')
  .argument('<file>', 'a rules file (see docs/quality.md)')
  .action(
    withWorkspace(async (ws, options, file: string) => {
      const summary = await applyRulesYaml(ws.ctx, await readInputFile(file, 'the rules file'), file);
      const changes = [
        ...summary.added.map((r) => `  added ${r}`),
        ...summary.updated.map((r) => `  updated ${r}`),
        ...summary.disabled.map((r) => `  disabled ${r}`),
      ];
      print(
        options,
        summary,
        `suite ${summary.suite}: ${summary.added.length} added, ${summary.updated.length} updated, ${summary.disabled.length} disabled, ${summary.unchanged} unchanged${changes.length ? `\n${changes.join('\n')}` : ''}`,
      );
    }),
  );

const db = program.command('db').description('catalog database maintenance');
db.command('migrate')
  .description('apply the catalog migrations (also done at every start)')
  .action(
    withWorkspace(async (ws, options) => {
      print(
        options,
        { migrated: true, location: ws.database.location },
        `catalog at ${ws.database.location} is up to date`,
      );
    }),
  );

const principal = program.command('principal').description('the people and services that use DataOps (admin)');
principal
  .command('add')
  .description('create or change a principal: clearance, roles and need-to-know domains')
  .argument('<id>', 'a stable id, e.g. a user name')
  .option('--name <name>', 'display name (default: its current one, or the id for a new principal)')
  .addOption(
    new Option('--clearance <marking>', 'highest marking it may see').choices(classificationLevels).default('U'),
  )
  .addOption(new Option('--role <role...>', 'roles').choices(roleNames).default(['viewer']))
  .option('--domain <domain...>', 'restricted domains it may see')
  .option('--email <email>', 'e-mail address')
  .action(
    withWorkspace(
      async (
        ws,
        options,
        id: string,
        cmd: { name?: string; clearance: Classification; role: Role[]; domain?: string[]; email?: string },
      ) => {
        const saved = await savePrincipal(ws.ctx, {
          id,
          displayName: cmd.name ?? (await currentDisplayName(ws, id)) ?? id,
          clearance: cmd.clearance,
          roles: cmd.role,
          domains: cmd.domain,
          email: cmd.email,
        });
        print(options, saved, `${saved.id}: clearance ${saved.clearance}, roles ${saved.roles.join(', ')}`);
      },
    ),
  );
principal
  .command('link')
  .description('let an identity-provider sign-in act as a principal')
  .argument('<principal>', 'the principal id')
  .requiredOption('--subject <sub>', "the identity's subject (the token's sub claim)")
  .option(
    '--issuer <url>',
    'the identity provider (default: DATAOPS_OIDC_ISSUER, else the one issuer identities are linked to already)',
  )
  .action(
    withWorkspace(async (ws, options, principalId: string, cmd: { subject: string; issuer?: string }) => {
      const provider = cmd.issuer ?? ws.env.DATAOPS_OIDC_ISSUER ?? (await soleIssuer(ws));
      await linkIdentity(ws.ctx, { principalId, provider, subject: cmd.subject });
      print(
        options,
        { principal: principalId, provider, subject: cmd.subject },
        `${cmd.subject} at ${provider} signs in as ${principalId}`,
      );
    }),
  );

const token = program.command('token').description('API tokens for HTTP clients');
token
  .command('create')
  .description('create a bearer token for --as (shown once; only its hash is stored)')
  .option('--name <name>', 'what the token is for', 'cli')
  .option('--expires-days <days>', `days until it expires (default ${defaultTokenDays})`)
  .option('--no-expiry', 'a token that never expires (for a service account whose token is rotated by hand)')
  .action(async (cmd: { name: string; expiresDays?: string; expiry: boolean }) => {
    if (!cmd.expiry && cmd.expiresDays !== undefined)
      throw new DataOpsError('invalid_input', 'give --expires-days or --no-expiry, not both');
    const days = !cmd.expiry
      ? undefined
      : positiveInteger('--expires-days', cmd.expiresDays ?? String(defaultTokenDays), 36_500);
    await withWorkspace(async (ws, options) => {
      const expiresAt = days === undefined ? undefined : new Date(Date.now() + days * 86_400_000);
      const value = await createApiToken(ws.database.db, ws.ctx.principal.id, cmd.name, expiresAt);
      print(
        options,
        { token: value, principal: ws.ctx.principal.id, expiresAt: expiresAt?.toISOString() ?? null },
        value,
      );
    })();
  });

const audit = program.command('audit').description('the append-only, hash-chained audit log (admin)');
audit
  .command('verify')
  .description('recompute the hash chain; exits non-zero naming the first altered entry')
  .action(
    withWorkspace(async (ws, options) => {
      const result = await verifyAudit(ws.ctx);
      const ok = result.firstAlteredSeq === null;
      print(
        options,
        { intact: ok, ...result },
        ok
          ? `audit log intact: ${result.checked} entries verified`
          : `audit log altered: entry ${result.firstAlteredSeq} does not match the hash chain (${result.checked} entries before it verified)`,
      );
      if (!ok) process.exitCode = 1;
    }),
  );
audit
  .command('log')
  .description('the newest audit entries first: who did what to which asset, and the outcome')
  .option('--asset <asset>', 'only entries about this asset (its URN)')
  .option('--limit <n>', 'how many entries', '50')
  .action(
    withWorkspace(async (ws, options, cmd: { asset?: string; limit: string }) => {
      const entries = await readAuditLog(ws.ctx, {
        assetUrn: cmd.asset,
        limit: positiveInteger('--limit', cmd.limit, 10_000),
      });
      const lines = entries.map((e) => {
        const outcome = typeof e.details.outcome === 'string' ? ` ${e.details.outcome}` : '';
        return `${e.seq} ${e.at} ${e.actor} ${e.action}${e.target ? ` ${e.target}` : ''}${outcome}`;
      });
      print(options, entries, lines.length ? lines.join('\n') : 'No audit entries.');
    }),
  );

program
  .command('audit-report')
  .description(
    'an audit report of an asset or a domain: classification and its history, lineage, policies and compliance ' +
      '(ATO, STIG, documents), certifications, access grants and the audit trail (steward or admin)',
  )
  .argument('<target>', 'an asset (URN or qualified name) or a domain id')
  .option('--format <format>', 'markdown or json', 'markdown')
  .option('--out <file>', 'write the report to this file')
  .action(
    withWorkspace(async (ws, options, target: string, cmd: { format: string; out?: string }) => {
      const format = options.json ? 'json' : cmd.format;
      if (format !== 'markdown' && format !== 'json') {
        throw new DataOpsError('invalid_input', `--format must be markdown or json, not "${cmd.format}"`);
      }
      const report = await buildAuditReport(ws.ctx, await resolveReportTarget(ws, target));
      const body = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderAuditReportMarkdown(report);
      if (cmd.out) {
        await writeFile(cmd.out, body);
        process.stderr.write(`wrote ${cmd.out}\n`);
      } else {
        process.stdout.write(body);
      }
    }),
  );

/** A domain id the caller may see, else an asset by URN or qualified name. */
async function resolveReportTarget(ws: Workspace, target: string): Promise<{ urn: string } | { domain: string }> {
  if (target.startsWith('urn:')) return { urn: target };
  const domain = await findVisibleDomain(ws.ctx, target).catch((error: unknown) => {
    if (isDataOpsError(error) && error.code === 'not_found') return null;
    throw error;
  });
  return domain ? { domain: domain.id } : { urn: await resolveAssetUrn(ws, target) };
}

addAlertCommands(program, withWorkspace, print);
const kit = { withWorkspace, print, positiveInteger, resolveAsset: resolveAssetUrn };
addQualityRuleCommands(program, kit);
addPrincipalCommands(program, kit);
addGovernanceCommands(program, kit);
addSocialCommands(program, kit);
addPipelineCommands(program, withWorkspace, print, positiveInteger);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`dataops: ${describe(error)}\n`);
  process.exitCode = 1;
}

function describe(error: unknown): string {
  if (isDataOpsError(error)) return error.message;
  if (error instanceof ZodError) return zodProblems(error);
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}
