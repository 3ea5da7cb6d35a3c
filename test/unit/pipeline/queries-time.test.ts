/**
 * GET /events?from-time on a cluster member whose folder was journaled before its cuts took
 * their time index entries with them (42bab23): an entry left for a batch cut off the end, at a
 * sequence where no batch starts now (another primary's batch holds it), made the lookup start
 * at that key, past the batch that holds it, and the answer left that batch's events out (all
 * of them here: an empty page where ten events were due). It starts at the batch holding the
 * sequence now; `bourse verify --repair-time-index` removes such entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeJournalDb,
  openJournalDb,
  sequenceKey,
  writeU64BE,
  type JournalDb,
} from '../../../src/journal/journal-db.js';
import { BatchEncoder, genesisHash, hashSizeBytes } from '../../../src/journal/journal-codec.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { EventOffset } from '../../../src/protocol/event-layout.js';
import { journalQueries } from '../../../src/pipeline/queries.js';
import type { JournalProgress } from '../../../src/journal/journal-progress.js';
import { removeDir, tempDataDir } from '../../harness/node-driver.js';

/** Journals ten events from `first` at `timeUs` (each event stamped so) after `prev`. */
async function put(db: JournalDb, prev: Uint8Array, first: number, timeUs: number) {
  const events = new Uint8Array(10 * eventSizeBytes);
  const dv = new DataView(events.buffer);
  for (let i = 0; i < 10; i++) {
    dv.setBigUint64(i * eventSizeBytes + EventOffset.sequence, BigInt(first + i), true);
    dv.setBigUint64(i * eventSizeBytes + EventOffset.timestamp, BigInt(timeUs), true);
  }
  const hash = new Uint8Array(hashSizeBytes);
  const bytes = Buffer.from(new BatchEncoder(10).encode(1, first, timeUs, events, prev, hash));
  await db.journal.put(sequenceKey(first), bytes);
  return hash;
}

async function index(db: JournalDb, timeUs: number, sequence: number): Promise<void> {
  const key = Buffer.alloc(16);
  writeU64BE(key, timeUs, 0);
  sequenceKey(sequence).copy(key, 8);
  await db.timeIndex.put(key, Buffer.alloc(0));
}

test('from-time: a stale entry inside a batch still reads that batch', async () => {
  const dir = tempDataDir();
  try {
    const db = openJournalDb(dir, { create: true, readOnly: false });
    const t = 1_796_000_000_000_000;
    const h1 = await put(db, genesisHash, 1, t);
    const h2 = await put(db, h1, 11, t + 200_000);
    await put(db, h2, 21, t + 900_000); // another primary's batch, 21 to 30
    await index(db, t, 1);
    await index(db, t + 200_000, 11);
    // This member's own batches as primary, cut when it was deposed: 21-24, then 25-30.
    await index(db, t + 400_000, 21);
    await index(db, t + 500_000, 25);
    const progress = { get: () => 30 } as unknown as JournalProgress;
    const queries = journalQueries(db, progress, { accepting: () => true } as never, null as never);
    const page = queries.eventsFromTime(t + 600_000, 100);
    assert.deepEqual(
      page.map((e) => e.sequence),
      [21, 22, 23, 24, 25, 26, 27, 28, 29, 30],
      'the events at or after that time',
    );
    closeJournalDb(db);
  } finally {
    removeDir(dir);
  }
});
