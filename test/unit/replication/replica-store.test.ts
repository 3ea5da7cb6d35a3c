/**
 * ReplicaStore.writeMany: a standby's group commit. Each write cuts every batch from its first
 * sequence on (an uncommitted tail the primary replaced), stored or queued earlier in the same
 * call, then stores its entries; `committed` is stored with them. Durable when it resolves: a
 * fresh open of the data folder reads exactly what it says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeJournalDb, keySequence, openJournalDb } from '../../../src/journal/journal-db.js';
import { sequenceKey } from '../../../src/journal/journal-db.js';
import { BatchEncoder, genesisHash, hashSizeBytes } from '../../../src/journal/journal-codec.js';
import { eventSizeBytes, termMax } from '../../../src/constants.js';
import { ReplicaStore } from '../../../src/replication/replica-store.js';
import { exitCodeOf, StorageError } from '../../../src/journal/journal-errors.js';
import type { Entry } from '../../../src/replication/messages.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';
import { checkTimeIndex } from '../../../src/journal/time-index.js';
import { writeU64BE, type JournalDb } from '../../../src/journal/journal-db.js';

/** An entry whose payload names it (writeMany stores bytes as given; verify checks them). */
function entry(first: number, tag: string): Entry {
  const payload = Buffer.from(`${first}:${tag}`);
  return { term: 1, first, last: first + 9, count: 10, prevHash: '', hash: tag, payload };
}

/** The stored batches as "first:tag", in key order, read from a fresh open. */
function stored(dir: string): { batches: string[]; committed: number } {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    const batches: string[] = [];
    for (const { key, value } of db.journal.getRange({})) {
      const text = Buffer.from(value).toString();
      assert.equal(Number(text.split(':')[0]), keySequence(key), 'stored under its first sequence');
      batches.push(text);
    }
    return { batches, committed: new ReplicaStore(db).loadCommitted() };
  } finally {
    closeJournalDb(db);
  }
}

test('writeMany cuts the tail each write replaces, stored or queued in the same call', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const store = new ReplicaStore(db);
    await store.writeMany([[entry(10, 'a'), entry(20, 'a'), entry(30, 'a')]], 10);
    await store.writeMany([[entry(20, 'b')]], 20); // a new primary's 20 replaces 20 and 30
    await store.writeMany(
      [
        [entry(30, 'c'), entry(40, 'c'), entry(50, 'c')],
        [], // nothing to store
        [entry(40, 'd')], // replaces 40 and 50, queued above and never stored
      ],
      30,
    );
    closeJournalDb(db);
    assert.deepEqual(stored(dir), { batches: ['10:a', '20:b', '30:c', '40:d'], committed: 30 });
  } finally {
    removeDir(dir);
  }
});

test('writeMany stores many entries, its cut and its commit mark in one transaction', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const store = new ReplicaStore(db);
    const big = (first: number, tag: string): Entry => {
      const payload = Buffer.from(`${first}:${tag}:${'x'.repeat(1_280)}`); // a packed batch's size
      return { term: 1, first, last: first, count: 1, prevHash: '', hash: tag, payload };
    };
    await store.writeMany([Array.from({ length: 400 }, (_, i) => big(1 + i, 'a'))], 0);
    // A new primary's entries over the last 200 (a cut), and 200 more: each write one commit
    // (one fsync), not one per few puts as LMDB began them when queued one by one.
    for (let round = 0; round < 3; round++) {
      const txn = db.root.getStats() as { lastTxnId: number };
      const tag = String(round);
      await store.writeMany([Array.from({ length: 400 }, (_, i) => big(201 + i, tag))], 200);
      const after = db.root.getStats() as { lastTxnId: number };
      assert.equal(after.lastTxnId - txn.lastTxnId, 1, `round ${round}: one transaction`);
    }
    closeJournalDb(db);
    const { batches, committed } = stored(dir);
    assert.equal(batches.length, 600);
    assert.deepEqual(
      batches.map((text) => text.split(':')[1]),
      Array.from({ length: 600 }, (_, i) => (i < 200 ? 'a' : '2')),
    );
    assert.equal(committed, 200);
  } finally {
    removeDir(dir);
  }
});

/** Blocks this thread (its event loop too) for `ms`. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('writeMany begins its commit in the call, not a turn of the event loop later', async () => {
  // A standby's group commit flushes in a setImmediate; a write that lmdb-js began in a
  // setImmediate of its own began a turn later, behind the datagrams of that turn. Here the
  // event loop is blocked after the call: the commit must happen on LMDB's thread all the same.
  // (Before: it began only once the loop turned, so it never did here; the wait is a bound.)
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    await db.root.committed; // creating wrote the schema asynchronously
    const store = new ReplicaStore(db);
    const txnId = (): number => (db.root.getStats() as { lastTxnId: number }).lastTxnId;
    for (let round = 0; round < 3; round++) {
      const before = txnId();
      const first = 1 + round * 10;
      await new Promise<void>((resolve) => {
        setImmediate(() => {
          // From the check phase, as the group commit calls it.
          const written = store.writeMany([[entry(first, String(round))]], first);
          let waitedMs = 0;
          while (txnId() === before && waitedMs < 10_000) {
            blockFor(1);
            waitedMs++;
          }
          assert.equal(txnId() - before, 1, `round ${round}: committed while the loop waited`);
          resolve(written);
        });
      });
      assert.equal(txnId() - before, 1, `round ${round}: one transaction, commit mark and all`);
    }
    await closeJournalDb(db);
    assert.deepEqual(stored(dir), { batches: ['1:0', '11:1', '21:2'], committed: 21 });
  } finally {
    removeDir(dir);
  }
});

test('a held batch is served before it is stored, and let go once durable', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const store = new ReplicaStore(db);
    const sealed = entry(10, 'a'); // proposed by a primary whose own commit has not finished
    store.hold(sealed, 1);
    assert.equal(store.copyOf(10), undefined, 'not in the journal yet');
    assert.deepEqual(Buffer.from(store.payload(sealed)), sealed.payload);
    assert.equal(store.release(sealed.last - 1), null, 'durable short of its end: still held');
    assert.deepEqual(Buffer.from(store.payload(sealed)), sealed.payload);
    assert.equal(store.release(sealed.last)?.index, 1, 'the entry now durable here');
    assert.throws(() => store.payload(sealed), /no batch at 10/, 'let go, and never stored');
    // Stored now: read from the journal (a fresh read snapshot if this thread's is older).
    await store.writeMany([[sealed]], 0);
    assert.deepEqual(Buffer.from(store.payload(sealed)), sealed.payload);
    closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});

test('many batches read for a lagging standby do not push out the held ones', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const store = new ReplicaStore(db);
    const old = Array.from({ length: 100 }, (_, i) => entry(100 + i * 10, 'o'));
    await store.writeMany([old], 0);
    const sealed = entry(2000, 's');
    store.hold(sealed, 101);
    for (const e of old) store.payload(e); // each read is remembered, the oldest forgotten
    assert.deepEqual(Buffer.from(store.payload(sealed)), sealed.payload);
    closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});

/** A real batch (it decodes) of events with sequences `sequences`, chained to nothing. */
function batchOf(sequences: number[]): Buffer {
  const events = new Uint8Array(sequences.length * eventSizeBytes);
  const dv = new DataView(events.buffer);
  sequences.forEach((s, i) => dv.setBigUint64(i * eventSizeBytes, BigInt(s), true));
  const encoder = new BatchEncoder(sequences.length);
  const hash = new Uint8Array(hashSizeBytes);
  return Buffer.from(encoder.encode(1, sequences[0], 0, events, genesisHash, hash));
}

/**
 * A deposed primary cuts the batches its writer journaled but never proposed: truncateAfter
 * says how many, and the last sequence they held, so that the cut is logged (before, it was
 * silent: an operator saw only "following again").
 */
test('truncateAfter says what it cut: batches and their last sequence', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const store = new ReplicaStore(db);
    const batches = [
      [1, 2],
      [3, 3, 4],
      [5, 6, 6],
    ];
    for (const b of batches) await db.journal.put(sequenceKey(b[0]), batchOf(b));
    assert.equal(store.truncateAfter(6), null, 'nothing after 6: nothing cut');
    assert.deepEqual(store.truncateAfter(2), { batches: 2, last: 6 });
    assert.deepEqual([...db.journal.getKeys({})].map(keySequence), [1]);
    // On a failing disk (lmdb-js throws a bare Error, code 5): a storage error, exit 74, that
    // the supervisor retries (lmdb's own error ended a deposed primary with exit 1 before).
    db.journal.transactionSync = () => {
      throw Object.assign(new Error('Input/output error'), { code: 5 });
    };
    assert.throws(
      () => store.truncateAfter(0),
      (error: unknown) =>
        error instanceof StorageError &&
        exitCodeOf(error.code) === 74 &&
        /cannot write the journal's cut after sequence 0: input\/output error/.test(error.message),
    );
    closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});

/**
 * Runs `body` on a new folder's store and says which rejections went unhandled (an unhandled
 * rejection ends a member's process), 20 ms after it returned.
 */
async function unhandledAfter(body: (db: JournalDb, store: ReplicaStore) => Promise<void>) {
  const dir = tempDataDir();
  const unhandled: unknown[] = [];
  const keep = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', keep);
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    await db.root.committed; // creating wrote the schema asynchronously
    await body(db, new ReplicaStore(db));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await closeJournalDb(db);
    return unhandled.map(String);
  } finally {
    process.off('unhandledRejection', keep);
    removeDir(dir);
  }
}

/**
 * What lmdb-js does when a commit fails (the disk): each write of it rejects, and the cause is
 * in a promise of its own, commitError (one for all of them), that rejects unhandled unless read.
 */
function failingCommit(cause: Error): () => Promise<boolean> {
  const commitError = Promise.reject(cause);
  return () => Promise.reject(Object.assign(new Error('Commit failed'), { commitError }));
}

test('a log-index write whose commit fails reads its cause: no unhandled rejection', async () => {
  const unhandled = await unhandledAfter(async (_db, store) => {
    const logIndex = (store as unknown as { logIndex: { transaction: () => Promise<boolean> } })
      .logIndex;
    logIndex.transaction = failingCommit(new Error('EIO: i/o error'));
    store.saveIndex(1, [{ first: 1, last: 2, term: 1, hash: 0 } as never]);
  });
  assert.deepEqual(unhandled, []);
});

test('a group commit whose commit fails rejects with its cause, none left unread', async () => {
  // The commit mark is a write of its own after the batch (writeMany): when the commit fails,
  // both reject, and neither may be left unread.
  const unhandled = await unhandledAfter(async (db, store) => {
    const failed = failingCommit(Object.assign(new Error('ENOSPC: no space'), { errno: 28 }));
    const writes = { batch: db.root.batch, put: db.meta.put };
    Object.assign(db.root, { batch: failed });
    Object.assign(db.meta, { put: failed });
    await assert.rejects(store.writeMany([[entry(1, 'a')]], 1), /ENOSPC/);
    Object.assign(db.root, { batch: writes.batch });
    Object.assign(db.meta, { put: writes.put });
  });
  assert.deepEqual(unhandled, []);
});

/** A batch of two events from `first`, at `timeUs`, after the batch whose hash is `prev`. */
function linked(
  prev: Uint8Array,
  first: number,
  timeUs: number,
): { bytes: Buffer; hash: Uint8Array } {
  const events = new Uint8Array(2 * eventSizeBytes);
  const dv = new DataView(events.buffer);
  [first, first + 1].forEach((s, i) => dv.setBigUint64(i * eventSizeBytes, BigInt(s), true));
  const hash = new Uint8Array(hashSizeBytes);
  const bytes = Buffer.from(new BatchEncoder(2).encode(1, first, timeUs, events, prev, hash));
  return { bytes, hash };
}

/** Journals `batch` with its time index entry, as the writer of a primary does. */
async function journalAsPrimary(db: JournalDb, batch: Buffer, first: number, timeUs: number) {
  await db.journal.put(sequenceKey(first), batch);
  const timeKey = Buffer.alloc(16);
  writeU64BE(timeKey, timeUs, 0);
  sequenceKey(first).copy(timeKey, 8);
  await db.timeIndex.put(timeKey, Buffer.alloc(0));
}

/**
 * A member cuts its journal's tail when deposed (truncateAfter: batches it journaled as primary,
 * never proposed) or when a new primary's entries replace it (writeMany); the time index entries
 * of the batches cut stayed, and verify then called the member's journal damaged ("its time
 * index has an entry for sequence N at T, but that batch is at T'" or "no batch starts there"):
 * seen on every member of a cluster whose primary was stopped (SIGSTOP) and resumed.
 */
test('a cut tail takes its time index entries with it: verify finds the index sound', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    db.meta.putSync('member-id', '1'); // a member's index: only its own batches as primary
    const store = new ReplicaStore(db);
    const t = 1_796_000_000_000_000;
    const b1 = linked(genesisHash, 1, t);
    const b3 = linked(b1.hash, 3, t + 200_000);
    const b5 = linked(b3.hash, 5, t + 400_000);
    await journalAsPrimary(db, b1.bytes, 1, t);
    await journalAsPrimary(db, b3.bytes, 3, t + 200_000);
    await journalAsPrimary(db, b5.bytes, 5, t + 400_000);
    store.truncateAfter(2); // deposed: 3 and 5 were never proposed
    const n3 = linked(b1.hash, 3, t + 100_000); // the new primary's 3, at another time
    await db.journal.put(sequenceKey(3), n3.bytes);
    checkTimeIndex(db);
    // Primary again: its 5 is indexed; then a newer primary's 5 replaces it (writeMany).
    await journalAsPrimary(db, linked(n3.hash, 5, t + 300_000).bytes, 5, t + 300_000);
    const payload = linked(n3.hash, 5, t + 250_000).bytes;
    const replacing = { term: 2, first: 5, last: 6, count: 2, prevHash: '', hash: 'n', payload };
    await store.writeMany([[replacing]], 0);
    checkTimeIndex(db);
    assert.equal([...db.timeIndex.getKeys()].length, 1, 'the entry of batch 1 alone is left');
    closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});

// A stored term was read as Number(text): a damaged one gave NaN or a term past termMax, and
// the replica started with it (this test failed on that code).
test('a stored term that is not one from 0 to termMax stops the start (StorageError)', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const store = new ReplicaStore(db);
    db.meta.putSync('term', String(termMax));
    assert.equal(store.loadVote().term, termMax);
    for (const text of [String(termMax + 1), '9007199254740993', 'x', '-1', '1.5']) {
      db.meta.putSync('term', text);
      assert.throws(
        () => store.loadVote(),
        (e) => e instanceof StorageError && e.code === 'JOURNAL_CORRUPT',
        text,
      );
    }
    await closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});
