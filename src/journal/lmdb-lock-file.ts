/**
 * LMDB's lock file, checked before lmdb-js opens an environment. LMDB keeps its reader table in
 * `<file>-lock` beside each file (journal.mdb-lock, snapshots.mdb-lock) and makes it when it is
 * not there. When LMDB cannot open it, lmdb-js 3.5 does not report the error: the process dies
 * of SIGSEGV, with no message (exit 139). That happened to a node whose folder a tool run as
 * another user had opened first: `bourse verify` run as root on the folder of a node that runs
 * as its own user leaves a journal.mdb-lock owned by root, mode 0644, and the node then died at
 * every start; so did every tool before a lock file that is a folder or a link to nothing, which
 * the tools' own diagnosis then called journal.mdb damaged and said to restore it from a backup,
 * though the journal was sound.
 *
 * A read-only open needs no write access to it: LMDB goes on without the lock then, as on a
 * read-only file system (mdb_env_setup_locks, EACCES under MDB_RDONLY).
 */
import { accessSync, lstatSync, statSync, constants as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import { StorageCode, StorageError } from './journal-errors.js';

/**
 * Refuses the lock file of the LMDB file `path` when LMDB could not open it.
 * @throws StorageError DATA_UNWRITABLE (exit 73) naming the lock file, why, and what to do.
 */
export function refuseUnusableLockFile(path: string, readOnly: boolean): void {
  const lock = `${path}-lock`;
  const fault = lockFileFault(path, readOnly);
  if (fault === null) return;
  throw new StorageError(
    StorageCode.DataUnwritable,
    `LMDB's lock file ${lock} ${fault}, so ${path} cannot be opened; the lock file holds no ` +
      'data: with no process using the folder, remove it (it is made again), or give it to ' +
      'the user the node runs as (chown)',
  );
}

/**
 * What keeps LMDB from opening the lock file of the LMDB file `path`, or null (sound, or
 * absent: LMDB makes it).
 */
export function lockFileFault(path: string, readOnly: boolean): string | null {
  const lock = `${path}-lock`;
  let link: Stats;
  try {
    link = lstatSync(lock);
  } catch {
    return null; // absent (or its folder unreadable: the folder's own check says so)
  }
  let stats: Stats;
  try {
    stats = statSync(lock);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return link.isSymbolicLink() ? `is a link to nothing (${code})` : `cannot be read (${code})`;
  }
  if (stats.isDirectory()) return 'is a folder, not a file';
  if (!stats.isFile()) return 'is not a regular file';
  if (readOnly) return null;
  try {
    accessSync(lock, fs.R_OK | fs.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    return (
      `is not writable by this process (${code}: it runs as uid ${uid()}, the file is ` +
      `uid ${stats.uid}'s, mode ${mode}; a tool run as another user made it)`
    );
  }
}

function uid(): string {
  return process.getuid === undefined ? '?' : String(process.getuid());
}
