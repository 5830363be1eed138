import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DataOpsError } from '../core/errors.js';
import { type DbtProjectFile, exportDbtProject } from '../mcp-server/pipelines/dbt-export/dbt-export.js';
import type { GlobalOptions, Workspace } from './workspace.js';

type WithWorkspace = <A extends unknown[]>(
  run: (ws: Workspace, options: GlobalOptions, ...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;
type Print = (options: GlobalOptions, data: unknown, text: string) => void;
type PositiveInteger = (option: string, value: string, max?: number) => number;

/** `dataops pipelines export-dbt`. */
export function addPipelineCommands(
  program: Command,
  withWorkspace: WithWorkspace,
  print: Print,
  positiveInteger: PositiveInteger,
): void {
  const pipelines = program.command('pipelines').description('pipelines built in conversation or on the canvas');
  pipelines
    .command('export-dbt')
    .description(
      'write an equivalent dbt project: a model per node, sources with the catalog descriptions, tests from validate nodes',
    )
    .argument('<pipeline>', 'the pipeline id or name')
    .option('--out <dir>', 'the directory to write (default: ./<pipeline name>_dbt)')
    .option('--version <n>', 'export this version (default: the current one)')
    .option('--force', 'replace what is in --out when it is not empty')
    .action(
      withWorkspace(async (ws, options, pipeline: string, cmd: { out?: string; version?: string; force?: boolean }) => {
        const version =
          cmd.version === undefined ? undefined : positiveInteger('--version', cmd.version, 2_147_483_647);
        const exported = await exportDbtProject(ws.ctx, pipeline, { version });
        const out = path.resolve(cmd.out ?? `${exported.project}_dbt`);
        await writeProjectDirectory(out, exported.files, Boolean(cmd.force));
        const { files, ...summary } = exported;
        const p = exported.pipeline;
        print(
          options,
          { ...summary, out, files: files.map((f) => f.path) },
          [
            `wrote dbt project ${exported.project} to ${out} from pipeline ${p.name} version ${p.version} (${p.semver}): ` +
              `${exported.models.length} models, ${exported.sources.length} sources, ${exported.tests.length} tests`,
            ...files.map((f) => `  ${f.path}`),
            ...(exported.saltVar
              ? [`it hashes columns: set DATAOPS_MASK_SALT (or the dbt var ${exported.saltVar}) to a secret to run it`]
              : []),
          ].join('\n'),
        );
      }),
    );
}

/**
 * Writes the files into a new directory beside `out`, then renames it into place, so `out` never holds half
 * a project. A directory that is not empty is replaced only with `force`; a file there is never replaced.
 */
export async function writeProjectDirectory(out: string, files: DbtProjectFile[], force: boolean): Promise<void> {
  const existing = await stat(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing && !existing.isDirectory()) {
    throw new DataOpsError('conflict', `${out} is a file; give --out a directory`);
  }
  const occupied = existing ? (await readdir(out)).length > 0 : false;
  if (occupied && !force) {
    throw new DataOpsError(
      'conflict',
      `${out} is not empty; give --out a new or empty directory, or pass --force to replace what is there`,
    );
  }
  const parent = path.dirname(out);
  await mkdir(parent, { recursive: true });
  // Beside `out`, not in the system's temp directory: a rename across file systems would fail.
  const staging = await mkdtemp(path.join(parent, `.${path.basename(out)}.tmp-`));
  try {
    for (const file of files) {
      const target = path.join(staging, ...file.path.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.content);
    }
    if (occupied) {
      const old = path.join(parent, `.${path.basename(out)}.old-${randomBytes(4).toString('hex')}`);
      await rename(out, old);
      try {
        await rename(staging, out);
      } catch (error) {
        await rename(old, out);
        throw error;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      if (existing) await rmdir(out);
      await rename(staging, out);
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
