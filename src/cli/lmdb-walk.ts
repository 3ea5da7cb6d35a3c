/**
 * Walks every page LMDB reaches through the B-trees of journal.mdb and snapshots.mdb: each named
 * database's keys, in order: every branch and leaf page. A damaged one makes LMDB throw
 * (MDB_CORRUPTED, MDB_PAGE_NOTFOUND) or abort the process on an assertion (SIGABRT), and neither
 * says which file it was reading. So the walk runs in a process of its own (lmdb-walk-main.ts),
 * one file after the other, naming each on stdout before it starts: the last name printed
 * before the process failed is the damaged file (damaged-file.ts reads it).
 */
import { existsSync } from 'node:fs';
import { journalPageSizeBytes, snapshotPageSizeBytes } from '../constants.js';
import { dataFile, openEnv, snapshotFile } from '../journal/journal-db.js';
import { checkLmdbFile } from '../journal/lmdb-meta.js';
import { lockFileFault } from '../journal/lmdb-lock-file.js';
import { StorageCode } from '../journal/journal-errors.js';

/** The line the walk prints before it reads a file, and the one after it read both. */
export const walkingPrefix = 'walking ';
export const walkedLine = 'walked';

/**
 * Walks `dir`'s two files, printing each one's name first. A file that is missing, empty or
 * whose meta pages are damaged is left out: opening it tells that with its own message
 * (lmdb-meta.ts), and mapping it could die of SIGBUS before any page is read.
 * @throws the LMDB error of a damaged page; or the process aborts.
 */
export function walkData(dir: string, write: (line: string) => void): void {
  const files: [string, number][] = [
    [dataFile(dir), journalPageSizeBytes],
    [snapshotFile(dir), snapshotPageSizeBytes],
  ];
  for (const [path, pageSize] of files) {
    // Nor is a file whose lock file LMDB cannot open (lmdb-lock-file.ts): that is no damage of
    // the file, and opening it says so.
    if (!metaSound(path) || lockFileFault(path, true) !== null) continue;
    write(walkingPrefix + path);
    walkFile(path, pageSize);
  }
  write(walkedLine);
}

function metaSound(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    return checkLmdbFile(path, StorageCode.JournalCorrupt, '') === 'sound';
  } catch {
    return false;
  }
}

/** Reads every entry of every named database of one file (the main database lists them). */
function walkFile(path: string, pageSize: number): void {
  const root = openEnv(path, true, pageSize);
  try {
    const names = Array.from(root.getKeys(), (key) => String(key).replace(/\0$/, ''));
    for (const name of names) {
      const db = root.openDB<Buffer, Buffer>(name, { keyEncoding: 'binary', encoding: 'binary' });
      // A key that names no table (another program's file): the open refuses it, naming it.
      if (db === undefined) continue;
      let seen = 0;
      for (const key of db.getKeys({})) if (key !== undefined) seen++; // reaching it is the check
      // A damaged branch pointer can end the walk early without an error: LMDB's own count
      // (kept in the database record, apart from the pages) tells.
      const counted = (db.getStats() as { entryCount: number }).entryCount;
      if (seen !== counted) {
        throw new Error(
          `its B-tree gives ${seen} of the ${counted} entries it counts in '${name}'`,
        );
      }
    }
  } finally {
    root.close();
  }
}
