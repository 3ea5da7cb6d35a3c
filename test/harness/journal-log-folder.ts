/**
 * A folder's journal and its log (src/pipeline/journal-log.ts, replication/standby-log.ts) as
 * tests read and rewind them: LMDB put back to an earlier mark, with the log as it was, is the
 * folder a kill leaves when LMDB's last transactions never happened.
 */
import assert from 'node:assert/strict';
import { closeJournalDb, keySequence, openJournalDb } from '../../src/journal/journal-db.js';
import { sequenceKey } from '../../src/journal/journal-db.js';
import { decodeBatch } from '../../src/journal/journal-codec.js';
import { timeIndexKeysFrom } from '../../src/journal/time-index.js';
import { logMarkKey, logMarkOf, markText } from '../../src/replication/log-mark.js';
import { StandbyLog, type LogMark } from '../../src/replication/standby-log.js';

/** The journal's batch keys (first sequences), in order, and LMDB's mark. */
export function journal(dir: string): { firsts: number[]; mark: LogMark } {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    const firsts = [...db.journal.getKeys({})].map((key) => keySequence(key as Buffer));
    return { firsts, mark: logMarkOf(db) };
  } finally {
    void closeJournalDb(db);
  }
}

/** The journal's batches (LMDB's values), in key order. Allocates (copies). */
export function batches(dir: string): Buffer[] {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    return [...db.journal.getRange({})].map(({ value }) => Buffer.from(value as Buffer));
  } finally {
    void closeJournalDb(db);
  }
}

/** Where each record of the log's last lap is, in order, up to (not with) LMDB's `mark`. */
export function lap(dir: string, mark: LogMark): LogMark[] {
  const log = StandbyLog.openToRead(dir);
  try {
    for (let record = mark.record - 1; record >= 1; record--) {
      const first = log.readAt({ record, offset: 0 });
      if (first === null) continue;
      const marks: LogMark[] = [{ record, offset: 0 }];
      for (let at = first.after; at.record < mark.record;) {
        const found = log.readAt(at);
        assert.ok(found !== null, `record ${at.record} is in the log`);
        marks.push(at);
        at = found.after;
      }
      return marks;
    }
    return [];
  } finally {
    log.close();
  }
}

/**
 * Undoes LMDB's takes of the log's last `records` records, as a kill before they were made
 * leaves it: their batches (and time index entries) gone, the mark back at the first of them.
 * Returns that record's mark and the first sequence it holds.
 */
export function rewind(dir: string, records: number): { mark: LogMark; first: number } {
  const { mark } = journal(dir);
  const marks = lap(dir, mark);
  assert.ok(marks.length > records, 'the lap holds more records than undone');
  const back = marks[marks.length - records];
  const log = StandbyLog.openToRead(dir);
  const found = log.readAt(back);
  log.close();
  assert.ok(found !== null);
  const view = decodeBatch(found.groups[0][0], true);
  assert.ok(typeof view !== 'string');
  const first = view.firstSequence;
  const db = openJournalDb(dir, { create: false, readOnly: false });
  try {
    db.journal.transactionSync(() => {
      for (const key of [...db.journal.getKeys({ start: sequenceKey(first) })]) {
        db.journal.removeSync(key);
      }
      for (const key of timeIndexKeysFrom(db, first)) db.timeIndex.removeSync(key);
      db.meta.putSync(logMarkKey, markText(back));
    });
  } finally {
    void closeJournalDb(db);
  }
  return { mark: back, first };
}

/** The terms of the batches in the log's last lap, up to LMDB's mark (a cold folder's). */
export function lapTerms(dir: string): number[] {
  const { mark } = journal(dir);
  const log = StandbyLog.openToRead(dir);
  try {
    const terms: number[] = [];
    for (const at of lap(dir, mark)) {
      for (const group of log.readAt(at)?.groups ?? []) {
        for (const payload of group) {
          const view = decodeBatch(payload, true);
          assert.ok(typeof view !== 'string');
          terms.push(view.term);
        }
      }
    }
    return terms;
  } finally {
    log.close();
  }
}
