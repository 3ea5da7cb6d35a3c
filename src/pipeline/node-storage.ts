/**
 * A node's storage at its start: the folder locked and opened, refused when its journal is lost
 * or its config does not fit, closed after a refusal (node.ts, cluster-node.ts).
 */
import { journalLogOn, type EngineConfig } from '../constants.js';
import { DataLock } from '../journal/data-lock.js';
import {
  checkFreeSpace,
  closeJournalDb,
  dataFile,
  openJournalDb,
  prepareDir,
  snapshotFile,
  type JournalDb,
} from '../journal/journal-db.js';
import { fillShortLmdbFile } from '../journal/lmdb-meta.js';
import { refuseLostJournal } from '../journal/lost-journal.js';
import { refuseUnfinishedBackup } from '../journal/unfinished-backup.js';
import { configFor, type Capacities } from './engine-config.js';
import { openStandbyLog } from './group-commit.js';
import { JournalLogStore } from './journal-log.js';

/**
 * Locks the data folder and opens its storage. Lock before opening: a folder locked by a
 * running node is not touched at all. @throws StorageError: unusable, locked, other schema.
 */
export function openStorage(dataDir: string): { db: JournalDb; lock: DataLock } {
  refuseUnfinishedBackup(dataDir); // a node on it could run without its keys
  prepareDir(dataDir, { create: true, readOnly: false });
  checkFreeSpace(dataDir);
  const lock = DataLock.acquire(dataDir);
  try {
    // Nothing else writes the folder now (its lock): a file a kill left short but sound is
    // filled out to its last page, so that each worker's and snapshot task's check is quick.
    for (const file of [dataFile(dataDir), snapshotFile(dataDir)]) fillShortLmdbFile(file);
    return { db: openJournalDb(dataDir, { create: true, readOnly: false }), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

export const lostThen = 'a node started here would begin a new, empty exchange at sequence 0';

/**
 * Refuses to start a single node on a folder whose journal is lost while its snapshots are not
 * (lost-journal.ts), once its storage is open: a journal with no batch in it (a missing or empty
 * journal.mdb is refused before, as LMDB would make a new one of it).
 */
export async function refuseEmptyJournal(
  dir: string,
  db: JournalDb,
  lock: DataLock,
): Promise<void> {
  if (db.journal.getKeysCount({ limit: 1 }) > 0) return;
  try {
    refuseLostJournal(dir, 'holds no batch', lostThen, db);
  } catch (error) {
    await closeStorage(db, lock);
    throw error;
  }
}

/**
 * The engine config to run with (`options.config`, or `configFor` the folder and the
 * capacities asked for); the storage just opened is closed when it is refused.
 */
export async function configOf(
  db: JournalDb,
  lock: DataLock,
  options: { config?: EngineConfig; capacities?: Capacities },
): Promise<EngineConfig> {
  try {
    return options.config ?? configFor(db, options.capacities ?? {});
  } catch (error) {
    await closeStorage(db, lock);
    throw error;
  }
}

/**
 * Closes storage opened by `openStorage` after a refusal. lmdb-js never returns from closing
 * an environment it created in the same turn of the event loop: one turn goes by first.
 */
export async function closeStorage(db: JournalDb, lock: DataLock): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await closeJournalDb(db);
  lock.release();
}

/**
 * A single node's journal log (journal-log.ts), the standby log's file: replayed into LMDB
 * before anything reads the journal, then left to the journal writer (which opens its own);
 * with the log off, one left by a run with it on is replayed, then removed. The storage is
 * closed when the replay fails (a damaged log: StorageError JOURNAL_CORRUPT).
 */
export async function replayNodeLog(
  db: JournalDb,
  lock: DataLock,
  options: {
    dataDir: string;
    journalLog?: boolean;
    journalLogBytes?: number;
    log?: (line: string) => void;
  },
): Promise<void> {
  try {
    const log = openStandbyLog(
      new JournalLogStore(db),
      {
        who: 'the node',
        dataDir: options.dataDir,
        standbyLog: options.journalLog ?? journalLogOn,
        standbyLogBytes: options.journalLogBytes,
      },
      (line) => options.log?.(line),
    );
    log?.close();
  } catch (error) {
    await closeStorage(db, lock);
    throw error;
  }
}
