/**
 * A data folder that holds snapshots but no journal lost its journal: the snapshots say events
 * were decided there. Started, such a folder made a new, empty exchange at sequence 0 (a
 * missing or empty journal.mdb is a new one to LMDB) and served clients from it; read, it said
 * only that there was no journal. Both now name what is left.
 */
import { statSync } from 'node:fs';
import type { RootDatabase } from 'lmdb';
import { snapshotPageSizeBytes } from '../constants.js';
import {
  dataFile,
  openEnv,
  readU64BE,
  snapshotFile,
  snapshotFileAdvice,
  type JournalDb,
} from './journal-db.js';
import { listSnapshots } from './snapshot-store.js';
import { StorageCode, StorageError } from './journal-errors.js';
import { checkLmdbFile } from './lmdb-meta.js';

/** 'missing' or 'empty' when the folder has no journal to read, else null. */
export function journalFileLost(dir: string): 'missing' | 'empty' | null {
  try {
    return statSync(dataFile(dir)).size === 0 ? 'empty' : null;
  } catch {
    return 'missing';
  }
}

/**
 * Refuses a folder whose journal `how` ('is missing', 'holds no batch', ...) while its
 * snapshots.mdb holds a snapshot; `then` says what would have happened. `db`: the folder's
 * storage when open (its snapshots are read there: LMDB must not open a file twice in one
 * process).
 * @throws StorageError JOURNAL_CORRUPT (exit 65) naming the folder and the newest snapshot.
 */
export function refuseLostJournal(dir: string, how: string, then: string, db?: JournalDb): void {
  const newest = db?.snapshots ? (listSnapshots(db)[0]?.sequence ?? -1) : newestSnapshot(dir);
  if (newest === -1) return;
  throw new StorageError(
    StorageCode.JournalCorrupt,
    `data folder ${dir} holds snapshots up to sequence ${newest}, but its journal ` +
      `(journal.mdb) ${how}: ${then}; restore journal.mdb (the journal is the record: snapshots ` +
      'alone are not), or use an empty folder for a new exchange',
  );
}

/**
 * The sequence of the newest snapshot in the folder's snapshots.mdb (read-only, opened only
 * once its meta pages pass), or -1 when there is none or it cannot be read (the refusal of a
 * damaged snapshots.mdb is openJournalDb's).
 */
function newestSnapshot(dir: string): number {
  const path = snapshotFile(dir);
  let root: RootDatabase;
  try {
    if (checkLmdbFile(path, StorageCode.SnapshotCorrupt, snapshotFileAdvice) !== 'sound') return -1;
    root = openEnv(path, true, snapshotPageSizeBytes);
  } catch (error) {
    if (error instanceof StorageError) return -1; // not this refusal's to make
    throw error;
  }
  try {
    const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
    const snapshots = root.openDB<Buffer, Buffer>('snapshots', binary);
    for (const key of snapshots.getKeys({ reverse: true })) {
      if (key.byteLength === 12 && key.readUInt32BE(8) === 0) return readU64BE(key, 0);
    }
    return -1;
  } finally {
    root.close();
  }
}
