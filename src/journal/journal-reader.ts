/**
 * Reading the journal back: batches in key order with every check a reader can make on its own
 * (structure, schema, each batch's hash, the chain link to the batch before, keys matching
 * envelopes, sequences increasing). Any failure is a StorageError naming the batch's sequence.
 * Allocates per batch (replay, verify and start-up only, never the command path).
 */
import { readU64At } from '../stdx/records.js';
import { schemaVersion } from '../constants.js';
import { decodeBatch, genesisHash, type BatchView } from './journal-codec.js';
import { keySequence, readU64BE, sequenceKey, writeU64BE, type JournalDb } from './journal-db.js';
import { StorageCode, StorageError } from './journal-errors.js';
import type { JournalTail } from './journal-writer.js';

/**
 * Decodes one stored batch or throws a StorageError naming its key's sequence. A damaged key
 * may read as a number past 2^53 (a flipped high byte): it is named by its bytes instead.
 */
export function checkedBatch(key: Buffer, value: Uint8Array, checkHash = true): BatchView {
  const sequence = safeSequence(key);
  const view = decodeBatch(value, checkHash);
  if (view === 'malformed') throw corrupt(key, 'is malformed (offsets out of bounds)');
  if (view === 'schema') {
    throw new StorageError(
      StorageCode.SchemaMismatch,
      `journal batch ${batchName(key)} has a schema other than ${schemaVersion}`,
      sequence,
    );
  }
  if (view === 'hash') throw corrupt(key, 'does not match its hash');
  if (view.firstSequence !== sequence) {
    throw new StorageError(
      StorageCode.JournalCorrupt,
      `journal batch at sequence ${view.firstSequence} is stored under a damaged key ` +
        `(${key.toString('hex')}, not its own first sequence)`,
      view.firstSequence,
    );
  }
  return view;
}

/** How a message names the batch under `key`: its sequence, or the key's bytes. */
function batchName(key: Buffer): string {
  const sequence = safeSequence(key);
  return sequence === -1
    ? `under the damaged key ${key.toString('hex')}`
    : `at sequence ${sequence}`;
}

function corrupt(key: Buffer, what: string): StorageError {
  return new StorageError(
    StorageCode.JournalCorrupt,
    `journal batch ${batchName(key)} ${what}`,
    safeSequence(key),
  );
}

/**
 * A key the cursor gave but LMDB cannot find again: its bytes were damaged out of order in
 * their page (a flipped byte read as sequence 4294967334 or 72057594037927940 was reported as
 * the batch's sequence). Named by its neighbours: the batch read before it and the next key.
 */
function lostKey(db: JournalDb, key: Buffer, lastEnd: number, next: Buffer | null): StorageError {
  const before = lastEnd === -1 ? 'as the first key' : `after the batch ending at ${lastEnd}`;
  const following =
    next === null ? 'the last key' : `before the key of sequence ${safeSequence(next)}`;
  return new StorageError(
    StorageCode.JournalCorrupt,
    `${db.path} is damaged: the key ${before} and ${following} reads ${key.toString('hex')}, ` +
      `which is not its batch's first sequence (${lastEnd + 1} expected) and which LMDB ` +
      'cannot find again; restore journal.mdb from a backup (`bourse backup` makes one)',
    lastEnd === -1 ? 0 : lastEnd + 1,
  );
}

/**
 * Calls `onBatch` for every batch whose key is at or after `start`, in order, checking the
 * chain. `prevHash` is the hash the first batch read must link to, or null to trust it (when
 * starting mid-journal). Stops early when `onBatch` returns false. With `checkHashes` false the
 * batches' own hashes are not recomputed (the links are still compared): only for a caller
 * that checks them in parallel (chain-check.ts) before it trusts the result.
 *
 * Nothing is copied: each view, and every array in it, is valid only until `onBatch` returns
 * (a caller that keeps bytes copies them). lmdb-js's getRange copies every binary value into a
 * fresh buffer (a batch is up to hundreds of KB: an allocation, its pages faulted in, then the
 * copy); replay spent about a third of its time there. Here the keys come from a cursor and
 * each value from getBinaryFast, which reuses one buffer (or gives a view of the map).
 */
export function readBatches(
  db: JournalDb,
  start: Buffer,
  prevHash: Uint8Array | null,
  onBatch: (view: BatchView) => boolean,
  checkHashes = true,
): void {
  let prev = prevHash;
  let lastFirst = -1;
  let lastEnd = -1;
  let lastKey: Buffer | null = null;
  let walked = 0;
  const keys = db.journal.getKeys({ start })[Symbol.iterator]();
  try {
    for (let at = keys.next(); at.done !== true; at = keys.next()) {
      const key = at.value;
      const value = db.journal.getBinaryFast(key);
      if (value === undefined) {
        const next = keys.next();
        throw lostKey(db, Buffer.from(key), lastEnd, next.done === true ? null : next.value);
      }
      const view = checkedBatch(key, value.subarray(0, value.length), checkHashes);
      if (prev !== null && !Buffer.from(prev).equals(view.prevHash)) {
        throw corrupt(key, 'does not link to the batch before it');
      }
      if (view.firstSequence <= lastFirst) throw corrupt(key, 'is out of order');
      lastFirst = view.firstSequence;
      lastEnd = lastSequenceOf(view);
      lastKey = key;
      walked++;
      prev = Uint8Array.from(view.hash); // a copy: the next read overwrites the view
      if (!onBatch(view)) return;
    }
  } finally {
    keys.return?.(); // closes the cursor when the walk stops early
  }
  checkWalkEnd(db, start, lastKey, walked);
}

/**
 * A cursor walk that ran out must have reached the journal's last key, and one from the first
 * key must have seen every entry LMDB counts. One damaged pointer in a branch or leaf page made
 * the cursor end early, silently: verify passed a journal cut to 52 of its 79 batches and replay
 * stopped 27 batches short. Neither the hash chain nor the walk itself can tell (the batches it
 * saw link up): the last key (a reverse read, which descends the tree on its own path) and the
 * entry count (kept in the database's record, apart from the pages) can. One read and one stat,
 * in the walk's read transaction, so a writer appending meanwhile is not seen as damage.
 * @throws StorageError (JOURNAL_CORRUPT) naming the file and where the walk stopped.
 */
export function checkWalkEnd(
  db: JournalDb,
  start: Buffer,
  lastKey: Buffer | null,
  walked: number,
): void {
  const stopped =
    lastKey === null
      ? `found no batch from sequence ${safeSequence(start)} on`
      : `stopped after the batch at sequence ${keySequence(lastKey)}`;
  for (const end of db.journal.getKeys({ reverse: true, limit: 1 })) {
    if (lastKey === null ? Buffer.compare(end, start) >= 0 : Buffer.compare(end, lastKey) > 0) {
      const what = `its last batch is at sequence ${safeSequence(end)}`;
      throw walkCut(db, `reading the journal ${stopped}, but ${what}`, lastKey);
    }
  }
  if (!fromFirstKey(db, start)) return;
  const entries = (db.journal.getStats() as { entryCount: number }).entryCount;
  if (entries !== walked) {
    const what = `LMDB counts ${entries} batches, the walk saw ${walked}`;
    throw walkCut(db, `reading the journal ${stopped}, but ${what}`, lastKey);
  }
}

/** Whether no key of the journal comes before `start` (a walk from it sees every entry). */
function fromFirstKey(db: JournalDb, start: Buffer): boolean {
  for (const first of db.journal.getKeys({ limit: 1 })) return Buffer.compare(first, start) >= 0;
  return true;
}

function walkCut(db: JournalDb, what: string, lastKey: Buffer | null): StorageError {
  const sequence = lastKey === null ? 0 : keySequence(lastKey);
  return new StorageError(
    StorageCode.JournalCorrupt,
    `${db.path} is damaged: ${what} (a damaged LMDB page hides the rest); restore it from a ` +
      'backup (`bourse backup` makes one)',
    sequence,
  );
}

/** A key's sequence, or -1 when the key is no sequence a journal can hold (past 2^53). */
export function safeSequence(key: Buffer): number {
  const sequence = keySequence(key);
  return Number.isSafeInteger(sequence) ? sequence : -1;
}

/** Key of the batch holding `sequence` (the last key at or before it), or the first key. */
export function batchKeyAtOrBefore(db: JournalDb, sequence: number): Buffer {
  const found = db.journal.getKeys({ start: sequenceKey(sequence), reverse: true, limit: 1 });
  for (const key of found) return key;
  return sequenceKey(0);
}

/**
 * Where the journal ends, checking the last batch and its link to the one before it, so that a
 * truncated or damaged tail stops the node before it appends to it.
 */
export function journalTail(db: JournalDb): JournalTail {
  const last: BatchView[] = [];
  for (const { key, value } of db.journal.getRange({ reverse: true, limit: 2 })) {
    last.unshift(checkedBatch(key, value));
  }
  if (last.length === 0) return { sequence: 0, hash: genesisHash, term: 0 };
  const tail = last[last.length - 1];
  const linked = last.length === 2 ? last[0].hash : genesisHash;
  if (last.length === 1 && !Buffer.from(genesisHash).equals(tail.prevHash)) {
    throw corrupt(
      sequenceKey(tail.firstSequence),
      'is the first batch but does not start the chain',
    );
  }
  if (!Buffer.from(linked).equals(tail.prevHash)) {
    throw corrupt(sequenceKey(tail.firstSequence), 'does not link to the batch before it');
  }
  return { sequence: lastSequenceOf(tail), hash: tail.hash, term: tail.term };
}

/** The sequence of a batch's last event. */
export function lastSequenceOf(view: BatchView): number {
  const dv = new DataView(view.events.buffer, view.events.byteOffset, view.events.byteLength);
  const at = view.events.byteLength - 128;
  return readU64At(dv, at);
}

/**
 * The first sequence of the last batch that starts at or before `timestampUs` (time index), or
 * -1 when the journal starts later.
 */
export function batchAtTime(db: JournalDb, timestampUs: number): number {
  const key = Buffer.alloc(16, 0xff);
  writeU64BE(key, timestampUs, 0);
  for (const found of db.timeIndex.getKeys({ start: key, reverse: true, limit: 1 })) {
    return readU64BE(found, 8);
  }
  return -1;
}

/** The stored batch whose last event has `sequence` (checked), or null when none ends there. */
export function journalBatchEndingAt(db: JournalDb, sequence: number): BatchView | null {
  const key = batchKeyAtOrBefore(db, sequence);
  const value = db.journal.getBinary(key);
  if (value === undefined) return null;
  const view = checkedBatch(key, value);
  return lastSequenceOf(view) === sequence ? view : null;
}
