/**
 * Worker entry of the journal log's applier (journal-log.ts): started by the journal writer's
 * thread when its log is on, it stores in LMDB what the writer appended to the log, and ends
 * once told to with nothing left. Its failure (an LMDB write) goes to the writer through the
 * shared words: the writer's thread never turns its event loop while it writes.
 */
import { workerData } from 'node:worker_threads';
import { closeJournalDb, openJournalDb, type JournalDb } from '../journal/journal-db.js';
import { JournalProgress } from '../journal/journal-progress.js';
import { StandbyLog } from '../replication/standby-log.js';
import { applyLog, JournalLogStore, logViews, LogWord, reportFailure } from './journal-log.js';

interface JournalLogWorkerData {
  dataDir: string;
  shared: SharedArrayBuffer;
  handOver: SharedArrayBuffer;
  progress: SharedArrayBuffer;
}

function main(data: JournalLogWorkerData): void {
  const { words } = logViews(data.shared);
  let db: JournalDb | null = null;
  try {
    db = openJournalDb(data.dataDir, { create: false, readOnly: false, snapshots: false });
    db.root.resetReadTxn(); // no snapshot pinned while it waits
    const log = StandbyLog.openToRead(data.dataDir);
    try {
      const progress = new JournalProgress(data.progress);
      applyLog(new JournalLogStore(db), log, data.shared, data.handOver, progress);
    } finally {
      log.close();
    }
  } catch (error) {
    reportFailure(data.shared, error);
  } finally {
    if (db !== null) void closeJournalDb(db);
    Atomics.store(words, LogWord.exited, 1);
    Atomics.notify(words, LogWord.exited);
  }
}

main(workerData as JournalLogWorkerData);
