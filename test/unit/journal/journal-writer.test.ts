/**
 * The journal writer's sealed hook: a cluster's primary sends each batch to its standbys while
 * its own disk writes it. The hook gets the batch's first sequence and exactly the bytes then
 * stored under it, before the batch is marked durable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSizeBytes } from '../../../src/journal/journal-codec.js';
import { sequenceKey, type JournalDb } from '../../../src/journal/journal-db.js';
import {
  BatchLogWord,
  JournalProgress,
  ProgressSlot,
} from '../../../src/journal/journal-progress.js';
import { JournalWriter } from '../../../src/journal/journal-writer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { eventRing } from '../../harness/event-ring.js';
import { withDb } from '../../harness/fresh-db.js';

/** A writer on `db` at sequence 0 of term 1, its progress, and its ring's publish. */
function writerOn(db: JournalDb, sealed?: (first: number, bytes: Uint8Array) => void) {
  const { ring, wait, publish } = eventRing(1);
  const barrier = new SequenceBarrier(ring, 0, wait);
  const progress = new JournalProgress();
  const tail = { sequence: 0, hash: new Uint8Array(hashSizeBytes), term: 1 };
  const writer = new JournalWriter(db, barrier, progress, tail, sealed);
  return { writer, progress, publish };
}

test('the writer hands each batch on, as stored, before it is durable', () =>
  withDb((db) => {
    const sealed: { first: number; bytes: Buffer; durableThen: number; storedThen: boolean }[] = [];
    const { writer, progress, publish } = writerOn(db, (first, bytes) => {
      const durableThen = progress.get(ProgressSlot.sequenceDurable);
      const storedThen = db.journal.getBinary(sequenceKey(first)) !== undefined;
      sealed.push({ first, bytes: Buffer.from(bytes), durableThen, storedThen });
    });
    // Two batches: events of sequences 1, 2, 2 (a command with two events), then 3 .. 5.
    writer.writeThrough(publish([1, 2, 2]));
    writer.writeThrough(publish([3, 4, 5]));
    assert.deepEqual(
      sealed.map((s) => [s.first, s.durableThen, s.storedThen]),
      [
        [1, 0, false],
        [3, 2, false],
      ],
    );
    for (const s of sealed) {
      assert.deepEqual(Buffer.from(db.journal.getBinary(sequenceKey(s.first)) as Buffer), s.bytes);
    }
    assert.equal(progress.get(ProgressSlot.sequenceDurable), 5);
  }));

test('the writer logs each batch: last sequence, commit start and durable time', () =>
  withDb((db) => {
    const { writer, progress, publish } = writerOn(db);
    const beforeUs = (performance.timeOrigin + performance.now()) * 1000;
    writer.writeThrough(publish([1, 2, 2]));
    writer.writeThrough(publish([3, 4, 5]));
    const afterUs = (performance.timeOrigin + performance.now()) * 1000;
    const log = progress.batchLog;
    const entry = (n: number) => Array.from(log.subarray(n * 3, n * 3 + 3));
    const [first, second] = [entry(0), entry(1)];
    assert.deepEqual([first[BatchLogWord.lastSequence], second[BatchLogWord.lastSequence]], [2, 5]);
    // In time order: each commit starts after the one before is durable, within the calls.
    assert.ok(beforeUs <= first[BatchLogWord.commitStartUs]);
    assert.ok(first[BatchLogWord.commitStartUs] <= first[BatchLogWord.durableUs]);
    assert.ok(first[BatchLogWord.durableUs] <= second[BatchLogWord.commitStartUs]);
    assert.ok(second[BatchLogWord.commitStartUs] <= second[BatchLogWord.durableUs]);
    assert.ok(second[BatchLogWord.durableUs] <= afterUs);
    assert.equal(progress.get(ProgressSlot.batchesWritten), 2);
  }));
