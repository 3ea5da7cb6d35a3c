/**
 * A backup that did not finish. `bourse backup` writes the copy's files one after another:
 * snapshots.mdb, journal.mdb, then keys.json. Killed, or failing (a full disk), between the
 * journal and the keys, it left a folder with the whole journal and no keys.json: a node
 * restored from it ran in development mode, every session admin, open to anyone who reached
 * its port; killed earlier, a folder a node or a tool could take for a backup of less.
 *
 * So a backup first writes this mark into its target, and removes it only once every file is
 * written and on the disk (fsynced, and the folder too) and the copy's head read back: before,
 * the copies were never fsynced, and a power cut just after the mark's removal could leave an
 * empty or short keys.json or journal.mdb in a folder no longer marked. A folder that holds
 * the mark is refused by every tool and by start, as a journal that is not whole is (exit 65),
 * naming the mark.
 *
 *   backup:  mark ──> keys.json ──> snapshots.mdb ──> journal.mdb ──> head read
 *            ──> each file fsynced, then the folder ──> unmark ──> the folder fsynced
 */
import { closeSync, existsSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StorageCode, StorageError } from './journal-errors.js';
import { syncPath } from './sync-path.js';

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
  syncPath(dir);
}

/**
 * Removes the mark once the copy is whole, durably (the folder's entry fsynced). The caller
 * has fsynced every file of the copy and the folder first: a mark removed ahead of them could
 * outlast a power cut that the copy's files did not.
 */
export function markBackupFinished(dir: string): void {
  unlinkSync(markPath(dir));
  syncPath(dir);
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
