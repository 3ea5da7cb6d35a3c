/**
 * Checks of the time index (timestamp ‖ first sequence → '', journal-writer.ts) against the
 * batches it points at. The index is sparse (an entry per timeIndexIntervalUs, and the first
 * batch of each run), and nothing checked it: entries deleted or shifted passed verify, and
 * `replay --to-time` then gave an empty or wrong state.
 */
import { timeIndexIntervalUs } from '../constants.js';
import { readU64BE, sequenceKey, writeU64BE, type JournalDb } from './journal-db.js';
import { StorageCode, StorageError } from './journal-errors.js';
import { checkedBatch, readBatches } from './journal-reader.js';
import { memberOfFolder } from './member-folder.js';

/**
 * Whether the folder is a cluster member's: a member writes the index only for the batches it
 * wrote as primary (a standby stores the primary's batches as they come), so gaps are normal.
 */
function sparseByDesign(db: JournalDb): boolean {
  return memberOfFolder(db) !== null;
}

/**
 * The index is damaged, not the journal: the message says how to rebuild it (an old member's
 * folder kept stale entries, and verify's CORRUPT line left the operator nothing to do).
 */
function damaged(db: JournalDb, what: string, sequence: number): StorageError {
  return new StorageError(
    StorageCode.JournalCorrupt,
    `${db.path} is damaged: its time index ${what} (the node stopped, ` +
      '`bourse verify --repair-time-index` rebuilds the index from the journal)',
    sequence,
  );
}

/** The timestamp of the batch starting at `sequence`, or -1 when none starts there. */
function batchTime(db: JournalDb, sequence: number): number {
  const key = sequenceKey(sequence);
  const value = db.journal.getBinary(key);
  return value === undefined ? -1 : checkedBatch(key, value, false).timestamp;
}

/** Checks one entry: a batch starts at its sequence, at its timestamp. */
function checkEntry(db: JournalDb, entry: Buffer): void {
  const [timeUs, sequence] = [readU64BE(entry, 0), readU64BE(entry, 8)];
  const found = batchTime(db, sequence);
  if (found === timeUs) return;
  const batch = found === -1 ? 'no batch starts there' : `that batch is at ${found}`;
  throw damaged(
    db,
    `has an entry for sequence ${sequence} at ${timeUs} µs, but ${batch}`,
    sequence,
  );
}

/**
 * The first sequence of the last batch that starts at or before `timeUs`, from the index,
 * cross-checked against the batches (the entry found and the next), or 0 when the journal
 * starts later; -1 when it has no batch. @throws StorageError when they disagree.
 */
export function batchAtTimeChecked(db: JournalDb, timeUs: number): number {
  const key = Buffer.alloc(16, 0xff);
  writeU64BE(key, timeUs, 0);
  let found: Buffer | null = null;
  for (const k of db.timeIndex.getKeys({ start: key, reverse: true, limit: 1 })) found = k;
  const next = found === null ? Buffer.alloc(16) : Buffer.from(found);
  for (const k of db.timeIndex.getKeys({ start: next, limit: 2 })) {
    if (found === null || !k.equals(found)) {
      checkEntry(db, k);
      break;
    }
  }
  if (found !== null) {
    checkEntry(db, found);
    return readU64BE(found, 8);
  }
  let first: { sequence: number; timeUs: number } | null = null;
  readBatches(db, sequenceKey(0), null, (view) => {
    first = { sequence: view.firstSequence, timeUs: view.timestamp };
    return false;
  });
  if (first === null) return -1;
  const { sequence, timeUs: at } = first;
  if (at > timeUs || sparseByDesign(db)) return at > timeUs ? 0 : sequence;
  throw damaged(
    db,
    `has no entry at or before ${timeUs} µs, but the batch at ${sequence} is at ${at}`,
    sequence,
  );
}

/**
 * Checks the whole index against the batches: every entry points at a batch with its
 * timestamp, and (on a single node's folder) no batch lacks the entry the writer makes, one
 * per timeIndexIntervalUs. Both are read in order (timestamps never go back), side by side.
 * @throws StorageError at the first disagreement.
 */
export function checkTimeIndex(db: JournalDb): void {
  const entries = db.timeIndex.getKeys()[Symbol.iterator]();
  let entry = entries.next();
  let indexedAt = -Infinity;
  const complete = !sparseByDesign(db);
  try {
    readBatches(
      db,
      sequenceKey(0),
      null,
      (view) => {
        while (entry.done !== true && readU64BE(entry.value, 8) < view.firstSequence) {
          checkEntry(db, entry.value); // an entry for no batch, or one out of order
          entry = entries.next();
        }
        if (entry.done !== true && readU64BE(entry.value, 8) === view.firstSequence) {
          checkEntry(db, entry.value);
          indexedAt = view.timestamp;
          entry = entries.next();
        } else if (complete && view.timestamp - indexedAt >= timeIndexIntervalUs) {
          const what = `lacks the entry for the batch at sequence ${view.firstSequence}`;
          throw damaged(db, `${what} (at ${view.timestamp} µs)`, view.firstSequence);
        }
        return true;
      },
      false,
    );
    if (entry.done !== true) checkEntry(db, entry.value);
  } finally {
    entries.return?.();
  }
}

/**
 * The index's entries for batches from sequence `first` on, to remove with them when a member
 * cuts its journal's tail (a deposed primary's batches never committed, or a standby's tail
 * that a new primary replaced). They are its last entries: the index is in time order, and
 * time never goes back along a journal (each primary stamps from the last batch's time on). Left
 * behind, each pointed at a batch gone, or at another primary's batch there with another time,
 * and verify called the member's journal damaged (seen after SIGSTOPs of a cluster's primary).
 */
export function timeIndexKeysFrom(db: JournalDb, first: number): Buffer[] {
  const keys: Buffer[] = [];
  for (const key of db.timeIndex.getKeys({ reverse: true })) {
    if (readU64BE(key, 8) < first) break;
    keys.push(Buffer.from(key));
  }
  return keys;
}

/**
 * The index's rule, batch by batch (the journal writer, the journal log's store, a rebuild):
 * the first batch, then each timeIndexIntervalUs or more after the last one indexed. Sparse:
 * each entry costs a B-tree path of pages in its commit; a lookup by time reads on from the
 * entry before.
 */
export class TimeIndexRule {
  /** `indexedAt`: the time of the last batch indexed (-Infinity: index the first one). */
  constructor(private indexedAt = -Infinity) {}

  /** The entry's key for the batch at `sequence` stamped `timestamp`, or null: none is due. */
  keyFor(sequence: number, timestamp: number): Buffer | null {
    if (timestamp - this.indexedAt < timeIndexIntervalUs) return null;
    this.indexedAt = timestamp;
    const key = Buffer.allocUnsafe(16);
    writeU64BE(key, timestamp, 0);
    writeU64BE(key, sequence, 8);
    return key;
  }
}

/** What a rebuild of the time index did: entries before, how many of them were stale, after. */
export interface TimeIndexRebuild {
  before: number;
  stale: number;
  after: number;
}

/**
 * Rebuilds the time index from the journal, the way the journal writer makes it: the first
 * batch, then each batch timeIndexIntervalUs or more after the last one indexed. For folders a
 * cluster member wrote before its cuts took their entries with them (timeIndexKeysFrom): their
 * stale entries made verify call the folder damaged and `replay --to-time` refuse times near
 * them, and on the running member GET /events?from-time could start at another primary's
 * batch. A member's rebuilt index covers every batch (it had only those it wrote as primary),
 * which its checks allow. Every batch is read and its hash checked before anything is written
 * (a damaged journal throws StorageError, the index untouched); then one transaction replaces
 * the index. The caller holds the folder's lock (no node writes it meanwhile).
 */
export function rebuildTimeIndex(db: JournalDb): TimeIndexRebuild {
  let before = 0;
  let stale = 0;
  for (const key of db.timeIndex.getKeys()) {
    before++;
    if (batchTime(db, readU64BE(key, 8)) !== readU64BE(key, 0)) stale++;
  }
  const keys: Buffer[] = [];
  const rule = new TimeIndexRule();
  readBatches(db, sequenceKey(0), null, (view) => {
    const key = rule.keyFor(view.firstSequence, view.timestamp);
    if (key !== null) keys.push(key);
    return true;
  });
  const empty = Buffer.alloc(0);
  db.timeIndex.transactionSync(() => {
    db.timeIndex.clearSync();
    for (const key of keys) db.timeIndex.putSync(key, empty);
  });
  return { before, stale, after: keys.length };
}
