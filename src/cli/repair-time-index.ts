/**
 * `bourse verify --repair-time-index`: rebuilds a folder's time index from its journal
 * (journal/time-index.ts, rebuildTimeIndex) under the folder's lock, so never beside a running
 * node; verify then checks the whole folder as usual.
 */
import { DataLock } from '../journal/data-lock.js';
import { closeJournalDb, openJournalDb } from '../journal/journal-db.js';
import { rebuildTimeIndex, type TimeIndexRebuild } from '../journal/time-index.js';
import { openJournal } from './open-data.js';

export function repairTimeIndex(dir: string): TimeIndexRebuild {
  closeJournalDb(openJournal(dir).db); // its refusals: a cluster's folder, a lost journal
  const lock = DataLock.acquire(dir);
  try {
    const db = openJournalDb(dir, { create: false, readOnly: false });
    try {
      return rebuildTimeIndex(db);
    } finally {
      closeJournalDb(db);
    }
  } finally {
    lock.release();
  }
}

/** What the repair did, as verify prints it before its own lines. */
export function repairLine(r: TimeIndexRebuild): string {
  const stale = r.stale === 1 ? '1 was stale' : `${r.stale} were stale`;
  return (
    `verify: time index rebuilt from the journal: ${r.after} entries ` +
    `(of the ${r.before} it had, ${stale}: pointing at no batch, or at one of another time)\n`
  );
}
