/**
 * A backup that did not finish. `bourse backup` writes the copy's files one after another:
 * snapshots.mdb, journal.mdb, then keys.json. Killed, or failing (a full disk), between the
 * journal and the keys, it left a folder with the whole journal and no keys.json: a node
 * restored from it ran in development mode, every session admin, open to anyone who reached
 * its port; killed earlier, a folder a node or a tool could take for a backup of less.
 *
 * So a backup first writes this mark into its target, and removes it only once every file is
 * written and the copy's head read back. A folder that holds the mark is refused by every tool
 * and by start, as a journal that is not whole is (exit 65), naming the mark.
 *
 *   backup:  mark ──> keys.json ──> snapshots.mdb ──> journal.mdb ──> head read ──> unmark
 */
import { closeSync, existsSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StorageCode, StorageError } from './journal-errors.js';

/** The mark's file name, in the target folder while a backup writes it. */
export const unfinishedBackupName = 'backup-unfinished';

function markPath(dir: string): string {
  return join(dir, unfinishedBackupName);
}

/** Writes the mark (and fsyncs it and the folder) before anything else goes into `dir`. */
export function markBackupUnfinished(dir: string, from: string): void {
  const fd = openSync(markPath(dir), 'w', 0o644);
  try {
    writeSync(fd, `a bourse backup of ${from} is being written here, or did not finish\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncFolder(dir);
}

/** Removes the mark once the copy is whole, durably (the folder's entry fsynced). */
export function markBackupFinished(dir: string): void {
  rmSync(markPath(dir));
  syncFolder(dir);
}

function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a folder a backup did not finish writing.
 * @throws StorageError JOURNAL_CORRUPT (exit 65) naming the mark and what to do.
 */
export function refuseUnfinishedBackup(dir: string): void {
  if (!existsSync(markPath(dir))) return;
  throw new StorageError(
    StorageCode.JournalCorrupt,
    `data folder ${dir} is a backup that did not finish (${markPath(dir)} is there): it may ` +
      'lack part of the journal, its snapshots or keys.json (a node on it would run without ' +
      'keys); take the backup again into an empty folder',
  );
}
