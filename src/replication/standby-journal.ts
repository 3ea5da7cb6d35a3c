/**
 * A hot standby's group commit as one synchronous LMDB transaction (its writer thread,
 * pipeline/standby-writer.ts): the entries of a group, packed into one buffer that moves to
 * that thread without a copy, cut in over any stored tail they replace, with the commit mark.
 *
 *   main thread: packWrites(groups, committed) ──postMessage (buffer moved)──► writer thread:
 *   writeGroup(db, packed): transactionSync { cut from each group's first; put; committed }
 *   returns once LMDB has written and fsynced it (overlappingSync off) ──► 'stored'
 *
 * Allocates per group (one buffer for all its payloads); a standby's path, not the primary's.
 */
import { assert } from '../stdx/assert.js';
import { sequenceKey, type JournalDb } from '../journal/journal-db.js';
import { timeIndexKeysFrom } from '../journal/time-index.js';
import type { Entry } from './messages.js';

/** A group of writes as it crosses to the writer thread (structured-clone safe). */
export interface PackedWrites {
  /** The commit mark stored with them (ReplicaStore.loadCommitted). */
  committed: number;
  /** Every entry's payload, one after the other. */
  bytes: ArrayBuffer;
  /** Per entry, in order: its first sequence (the journal's key) and its payload's end. */
  firsts: number[];
  ends: number[];
  /** Per write (a consensus append), in order: the number of its entries. */
  counts: number[];
}

/** Packs `writes` (each an append's entries, in order) into one buffer of their payloads. */
export function packWrites(writes: readonly (readonly Entry[])[], committed: number): PackedWrites {
  let total = 0;
  for (const entries of writes) for (const e of entries) total += e.payload.byteLength;
  const bytes = new ArrayBuffer(total);
  const into = new Uint8Array(bytes);
  const packed: PackedWrites = { committed, bytes, firsts: [], ends: [], counts: [] };
  let at = 0;
  for (const entries of writes) {
    packed.counts.push(entries.length);
    for (const e of entries) {
      into.set(e.payload, at);
      at += e.payload.byteLength;
      packed.firsts.push(e.first);
      packed.ends.push(at);
    }
  }
  assert(at === total, 'standby journal: every payload packed');
  return packed;
}

/**
 * Stores the packed writes in one synchronous transaction: for each write, every stored batch
 * from its first entry's sequence on is cut (an uncommitted tail that differs from the
 * primary's, and the time index entries of batches this member journaled as primary), then its
 * entries are put; `committed` is stored with them. Reads inside the transaction see its own
 * earlier puts, so a later write that replaces an earlier one's entries cuts them too. Durable
 * when it returns. @throws lmdb-js's error when the transaction fails (nothing of it is stored).
 */
export function writeGroup(db: JournalDb, packed: PackedWrites): void {
  assert(packed.firsts.length === packed.ends.length, 'standby journal: a key per payload');
  assert(packed.firsts.length > 0, 'standby journal: a group holds entries');
  const journal = db.journal;
  journal.transactionSync(() => {
    db.meta.putSync('committed', String(packed.committed));
    let k = 0;
    for (const count of packed.counts) {
      if (count === 0) continue;
      cutFrom(db, packed.firsts[k]);
      const head = k;
      for (const end = k + count; k < end; k++) {
        const ascending = k === head || packed.firsts[k] > packed.firsts[k - 1];
        assert(ascending, 'standby journal: a write is in sequence order');
        const start = k === 0 ? 0 : packed.ends[k - 1];
        const value = Buffer.from(packed.bytes, start, packed.ends[k] - start);
        journal.putSync(sequenceKey(packed.firsts[k]), value);
      }
    }
    assert(k === packed.firsts.length, 'standby journal: every entry put');
  });
}

/** Cuts every stored batch from sequence `from` on, and their time index entries. */
function cutFrom(db: JournalDb, from: number): void {
  const stale = [...db.journal.getKeys({ start: sequenceKey(from) })];
  if (stale.length === 0) return;
  for (const key of stale) db.journal.removeSync(key);
  for (const key of timeIndexKeysFrom(db, from)) db.timeIndex.removeSync(key);
}
