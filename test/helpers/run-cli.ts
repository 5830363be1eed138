import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const binPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/dataops.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `dataops` bin in a child process, as a user's shell would: in `cwd` (default this one), killed
 * after `timeoutMs` (default two minutes) so a hang fails the test.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [binPath, ...args],
      {
        env: { ...process.env, DATAOPS_LOG_LEVEL: 'error', ...env },
        timeout: options.timeoutMs ?? 120_000,
        cwd: options.cwd,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
