/**
 * `bourse backup`: a consistent copy of a data folder, the node running or not. Each LMDB file
 * is copied by LMDB itself (mdb_env_copy2 through lmdb-js's `backup`), inside one read
 * transaction of the environment opened read-only: the copy is the file as some commit left
 * it, whatever the node writes meanwhile. A plain `cp -a` of a running node's folder copies
 * pages of different commits, and is refused later as damaged.
 *
 * snapshots.mdb is copied before journal.mdb. The journal only grows, so every snapshot in the
 * copy stands at or before the copied journal's end; the other order could keep a snapshot of
 * a batch the copied journal does not hold (verify: "names a journal batch that is not there").
 * keys.json is copied with its mode (0600: it holds what lets clients in). The lock files
 * (bourse.lock, *.mdb-lock) are not copied: they belong to the running processes. The copy
 * holds a mark while it is written (unfinished-backup.ts): a backup killed or failing part way
 * leaves a folder that every tool and start refuse, never one a node runs on without its keys.
 * The mark goes only once every file of the copy and the folder are fsynced (neither LMDB's
 * copy nor writeFileSync fsyncs): a power cut after its removal finds the copy whole.
 *
 * A backup of a cluster member's folder is marked so in the copy's meta table
 * (member-folder.ts): neither `member` nor `start` runs on it, the tools read it.
 *
 *                                   DIR2/backup-unfinished  (first: the copy is not whole)
 *   DIR/keys.json     ──copy, mode─> DIR2/keys.json
 *   DIR/snapshots.mdb ──LMDB copy──> DIR2/snapshots.mdb     (≤ the journal's end)
 *   DIR/journal.mdb   ──LMDB copy──> DIR2/journal.mdb       (the head of the copy)
 *                                   DIR2/journal.mdb meta   backup-of-member (a member's only)
 *                                   fsync each file, then DIR2
 *                                   DIR2/backup-unfinished  removed, DIR2 fsynced (last)
 */
import { chmodSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { keyFilePath } from '../gateway/api-keys.js';
import { closeJournalDb, dataFile, openJournalDb, snapshotFile } from '../journal/journal-db.js';
import type { JournalDb } from '../journal/journal-db.js';
import { schemaVersion } from '../constants.js';
import { version } from './version.js';
import { SchemaMismatchError, StorageCode, StorageError } from '../journal/journal-errors.js';
import { writeFailure } from '../journal/journal-errors.js';
import { journalTail } from '../journal/journal-reader.js';
import { createFolder } from '../journal/make-dirs.js';
import { markMemberBackup, memberOfFolder } from '../journal/member-folder.js';
import { listSnapshots } from '../journal/snapshot-store.js';
import { syncPath } from '../journal/sync-path.js';
import { markBackupFinished, markBackupUnfinished } from '../journal/unfinished-backup.js';
import { unfinishedBackupName } from '../journal/unfinished-backup.js';
import { openJournal } from './open-data.js';
import { forgetLogFile, standbyLogPast, type StandbyLogPast } from '../pipeline/group-commit.js';

export interface BackupReport {
  /** The copied journal's last sequence and its batch's hash (hex): the copy's head. */
  sequence: number;
  hash: string;
  /** Snapshots in the copy's snapshots.mdb, or null when the source had no such file. */
  snapshots: number | null;
  keys: boolean;
  /** The member whose folder was copied (memberOfFolder), or null: a single node's. */
  member: string | null;
  /**
   * The records the member's standby log held past the copied LMDB's mark (standbyLogPast):
   * acknowledged by it, not in the copy (a member killed holds them until its next start); and
   * what of the log is damaged, or null (copied all the same).
   */
  standbyLog: StandbyLogPast;
}

/**
 * Copies `from` into `to`, a folder that does not exist yet or is empty.
 * @throws StorageError DATA_UNWRITABLE for a target with files in it or one not creatable;
 *   DATA_FULL for a disk that filled; DATA_IO for a copy that could not be fsynced; what
 *   opening `from` throws (missing, damaged, of another schema).
 */
export async function backup(from: string, to: string): Promise<BackupReport> {
  refuseTarget(to);
  const keys = readKeys(from); // before anything is copied: a copy without it is no backup
  const db = openSource(from); // read-only: a running node goes on writing
  let past: StandbyLogPast = { records: 0, damage: null };
  try {
    makeTarget(to);
    markBackupUnfinished(to, from);
    if (keys !== null) writeKeys(keys, to);
    if (db.snapshotRoot !== null) await db.snapshotRoot.backup(snapshotFile(to), false);
    await db.root.backup(dataFile(to), false);
    db.root.resetReadTxn(); // the mark as the copy's commit left it, or a later one
    past = standbyLogPast(from, db);
  } catch (error) {
    throw copyFailure(error, from, to);
  } finally {
    closeJournalDb(db);
  }
  try {
    return { ...(await finish(to)), keys: keys !== null, standbyLog: past };
  } catch (error) {
    throw copyFailure(error, from, to);
  }
}

/**
 * `from`'s storage, opened read-only as the tools open it. A folder of another schema version
 * is refused in backup's own terms: the version it holds, the one this build reads, and what
 * to do (another build's backup, or a copy of the stopped folder); nothing is migrated.
 * @throws StorageError what openJournal throws; SCHEMA_MISMATCH (exit 65) said for a backup
 */
function openSource(from: string): JournalDb {
  try {
    return openJournal(from, true).db;
  } catch (error) {
    if (!(error instanceof SchemaMismatchError)) throw error;
    throw new StorageError(error.code, otherSchema(from, error.stored));
  }
}

/** Why `from`, whose journal holds schema version `stored`, is not backed up by this build. */
function otherSchema(from: string, stored: string): string {
  const file = dataFile(from);
  const nothing = `nothing was copied, and ${from} is unchanged`;
  const reads = `this build (bourse ${version()}) reads schema version ${schemaVersion}`;
  const found = Number(stored);
  if (!Number.isSafeInteger(found) || found < 1) {
    return (
      `cannot back up ${from}: ${file} says its schema version is '${stored}', which is no ` +
      `version (its meta record is damaged; ${reads}): restore the folder from an earlier ` +
      `backup; ${nothing}`
    );
  }
  const who = found > schemaVersion ? 'a newer' : 'an older';
  return (
    `cannot back up ${from}: ${file} holds schema version ${found}, and ${reads} only ` +
    `(${who} build wrote it; bourse does not migrate folders). Back it up with a build ` +
    `that reads schema version ${found}, such as the one its node runs (its \`bourse ` +
    `backup\`), or stop its node and copy the folder whole (cp -a); ${nothing}`
  );
}

/** What the copy's own files tell of it. */
type CopyHead = Omit<BackupReport, 'keys' | 'standbyLog'>;

/** Reads the copy's head back, marks a member's, fsyncs the copy, then removes the mark. */
async function finish(to: string): Promise<CopyHead> {
  const head = await headOf(to);
  if (head.member !== null) await markMemberBackup(to, head.member);
  else await forgetLogFile(to); // a single node's journal log: not copied
  for (const file of [keyFilePath(to), snapshotFile(to), dataFile(to)]) {
    if (existsSync(file)) syncPath(file);
  }
  syncPath(to); // the files' names, before the mark's removal
  markBackupFinished(to);
  return head;
}

/**
 * Why the copy failed, and what to do with what it left: a full disk is DATA_FULL (74), as it
 * is for every other command; another cause DATA_UNWRITABLE (73). The copy holds its mark
 * (unfinished-backup.ts), so the next backup into it is refused: said here, it was only "not
 * empty (2 entries)" on the next try.
 */
function copyFailure(error: unknown, from: string, to: string): StorageError {
  const marked = existsSync(join(to, unfinishedBackupName)); // none: nothing made there
  const left = marked
    ? `; the unfinished copy in ${to} is refused by every tool: remove it, then back up again`
    : '';
  const cause =
    error instanceof StorageError ? error : writeFailure(error, `the copy of ${from} into ${to}`);
  if (cause instanceof StorageError) return new StorageError(cause.code, cause.message + left);
  const why = `cannot copy ${from} into ${to}: ${cause.message}${left}`;
  return new StorageError(StorageCode.DataUnwritable, why);
}

/**
 * Makes `to` and its missing parents, each one's name fsynced in its parent: a backup that a
 * power cut then loses whole was reported as made.
 */
function makeTarget(to: string): void {
  const made: string[] = [];
  for (let dir = resolve(to); !existsSync(dir); dir = dirname(dir)) made.push(dir);
  createFolder(to);
  for (const dir of made) syncPath(dirname(dir));
}

/** A target with anything in it is refused: a backup never mixes with other files. */
function refuseTarget(to: string): void {
  if (!existsSync(to)) return;
  const entries = statSync(to).isDirectory() ? readdirSync(to) : null;
  if (entries !== null && entries.length === 0) return;
  if (entries?.includes(unfinishedBackupName) === true) {
    const mark = join(to, unfinishedBackupName);
    throw new StorageError(
      StorageCode.DataUnwritable,
      `backup target ${to} holds a backup that did not finish (${mark}): remove it, then back ` +
        'up again',
    );
  }
  const what = entries === null ? 'is a file' : `is not empty (${entries.length} entries)`;
  throw new StorageError(StorageCode.DataUnwritable, `backup target ${to} ${what}`);
}

/** keys.json's bytes and mode, read whole; null when there is none. */
interface Keys {
  bytes: Buffer;
  mode: number;
}

/**
 * Reads keys.json when there is one, before anything is copied. It is mode 0600: a backup run
 * as a user that may read the journal but not it copied both LMDB files, then failed with an
 * internal error and a stack trace (exit 70), leaving a copy without its keys.
 * @throws StorageError DATA_UNWRITABLE (exit 73) naming the file and why, nothing copied.
 */
function readKeys(from: string): Keys | null {
  const source = keyFilePath(from);
  if (!existsSync(source)) return null;
  try {
    // keys.json is replaced by rename: this reads it whole, old or new
    return { bytes: readFileSync(source), mode: statSync(source).mode & 0o777 };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StorageError(
      StorageCode.DataUnwritable,
      `cannot read ${source} (${code}), which a backup must hold; run it as the user the ` +
        'node runs as (keys.json is mode 0600). Nothing was copied',
    );
  }
}

/** Writes keys.json into the copy with the source's mode. @throws StorageError (73, 74 full) */
function writeKeys(keys: Keys, to: string): void {
  const target = keyFilePath(to);
  try {
    writeFileSync(target, keys.bytes, { mode: keys.mode });
    chmodSync(target, keys.mode); // the umask may have taken bits off
  } catch (error) {
    const cause = writeFailure(error, target); // a full disk: DATA_FULL
    if (cause instanceof StorageError) throw cause;
    throw new StorageError(StorageCode.DataUnwritable, `cannot write ${target}: ${cause.message}`);
  }
}

/**
 * The copy's head, read back from it (and its last batch's link checked on the way), the
 * snapshots it holds (a snapshots.mdb was told "with snapshots" when it held none), and whose
 * folder it is. Read-only, as the tools open it: the tables a reader needs are checked, and
 * nothing is made. A member's copy is then opened once more, to write its mark
 * (markMemberBackup): one read-write open for both would make an empty snapshots.mdb in a copy
 * of a folder without one, and skip the check of the tables (a writer makes those missing).
 */
async function headOf(to: string): Promise<CopyHead> {
  const db = openJournalDb(to, { create: false, readOnly: true });
  try {
    const tail = journalTail(db);
    const hash = Buffer.from(tail.hash).toString('hex');
    // A snapshot is a header and its body's chunks, each a key: the headers are the count.
    const snapshots = db.snapshots === null ? null : listSnapshots(db).length;
    return { sequence: tail.sequence, hash, snapshots, member: memberOfFolder(db) };
  } finally {
    await closeJournalDb(db); // before markMemberBackup opens it to write
  }
}
