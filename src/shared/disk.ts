/**
 * Why a file cannot be written, in words, found by asking the file system
 * rather than trusting the error that reached us: Node's recursive mkdir says
 * ENOENT on a read-only file system, and SQLite says "disk I/O error" or
 * "unable to open database file" for a full or read-only disk.
 */
import { accessSync, constants, existsSync, renameSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Less free space than this is a full disk for a database that needs a few pages and a WAL. */
const NEARLY_FULL_BYTES = 64 * 1024;

/** The nearest directory of `path` that exists. */
function existingDir(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** A sentence on why `path` cannot be written (read-only, full, not this user's), or undefined when nothing is found. */
export function storageProblem(path: string): string | undefined {
  const dir = existingDir(path);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return `the file system holding ${dir} is read-only`;
    if (code === 'EACCES' || code === 'EPERM') {
      return `${dir} is not writable by this user (uid ${process.getuid?.() ?? '?'}); set history.path to a place it owns`;
    }
  }
  try {
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    if (free < NEARLY_FULL_BYTES) return `the disk holding ${dir} is full (${free} bytes free)`;
  } catch {
    // statfs unsupported here: nothing more to say.
  }
  return undefined;
}

/**
 * Writes `path` whole or not at all: a temporary file beside it (a dot name
 * ending in .tmp, which globs like *.prom never match), then a rename. On
 * failure the temporary file is removed and the error rethrown; an earlier
 * file at `path` stays as it was.
 */
export function writeFileAtomic(path: string, text: string, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}
