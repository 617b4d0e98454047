import { readFile } from 'node:fs/promises';

const PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/** Why a file could not be read, in words (`no such file`), never a raw errno. */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && PROBLEMS[code]) ?? (err instanceof Error ? err.message : String(err));
}

/** The file's text; a file that cannot be read says which and why: `cannot read the token file F: no such file`. */
export async function readTextFile(file: string, what?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what ? `the ${what} ` : ''}${file}: ${readProblem(err)}`);
  }
}
