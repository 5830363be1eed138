import { readFile } from 'node:fs/promises';
import { DataOpsError } from '../core/errors.js';

/**
 * A file a person named (a rules file, a dbt artifact, OpenLineage events) as text. A file that cannot
 * be read is one line naming it and what to do, never a bare `ENOENT` or `EISDIR` from Node.
 * `what` says what the file is for, e.g. "the rules file" or "the --run-results file".
 */
export async function readInputFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw inputFileError(file, what, error);
  }
}

/** The one-line error for a file that could not be read or listed. */
export function inputFileError(file: string, what: string, error: unknown): DataOpsError {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'it is a directory: give the file itself',
    ENOTDIR: 'a part of the path is a file, not a directory: check the path',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'the path is too long',
  };
  const reason = (code && reasons[code]) || String((error as Error)?.message ?? error).split('\n')[0];
  return new DataOpsError(
    code === 'ENOENT' || code === 'ENOTDIR' ? 'not_found' : 'invalid_input',
    `cannot read ${what} ${file}: ${reason}`,
    { cause: error },
  );
}
