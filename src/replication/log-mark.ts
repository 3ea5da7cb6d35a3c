/**
 * Where LMDB keeps what it holds of the standby log (standby-log.ts), in its `meta` table: the
 * mark (the first record LMDB lacks: its number and offset), moved in the transaction that
 * takes records, and whether a start made the log's file (a missing one then is refused).
 * Shared by a member's ReplicaStore and a single node's journal log (pipeline/journal-log.ts).
 */
import { closeJournalDb, openJournalDb, writeMeta } from '../journal/journal-db.js';
import type { JournalDb } from '../journal/journal-db.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import type { LogMark } from './standby-log.js';

export const logMarkKey = 'standby-log';
const logFileKey = 'standby-log-file';

/** ReplicaStore.logMark of `db` (read-only opens too: `bourse backup`). @throws StorageError */
export function logMarkOf(db: JournalDb): LogMark {
  const text = db.meta.get(logMarkKey);
  if (text === undefined) return { record: 1, offset: 0 };
  const [record, offset] = text.split(' ').map(Number);
  if (Number.isSafeInteger(record) && record > 0 && Number.isSafeInteger(offset) && offset >= 0)
    return { record, offset };
  const said = `the standby log's mark (meta '${logMarkKey}') is ${JSON.stringify(text)}`;
  throw new StorageError(StorageCode.JournalCorrupt, `${said}, not a record and an offset`);
}

/** The mark as the meta table holds it. */
export function markText(mark: LogMark): string {
  return `${mark.record} ${mark.offset}`;
}

/** The log's file: made by a start ('made'), or removed by one ('removed'), or never. */
export function logFileOf(db: JournalDb): string | undefined {
  return db.meta.get(logFileKey);
}

/** Notes the log's file made (once durable) or removed (before it goes). */
export function noteLogFileIn(db: JournalDb, state: 'made' | 'removed'): void {
  writeMeta(db, `the standby log ${state}`, () => db.meta.putSync(logFileKey, state));
}

/**
 * In a backup of a single node's folder (`bourse backup` copies LMDB, not the log): forgets
 * that a start made the log, so that a node starts on the copy with a new one. The copy is
 * LMDB as it was, without what only the log held then: a copy taken a moment earlier.
 */
export async function forgetLogFile(dir: string): Promise<void> {
  const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
  try {
    if (logFileOf(db) === undefined) return;
    writeMeta(db, 'the standby log forgotten', () => db.meta.removeSync(logFileKey));
  } finally {
    await closeJournalDb(db);
  }
}
