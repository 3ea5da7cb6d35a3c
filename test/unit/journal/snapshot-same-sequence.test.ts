/**
 * A snapshot written at the sequence of one already stored (after a start skipped that one for
 * another engine config, and replayed to the same place) reuses its keys, seq ‖ 0..k. It must
 * replace the old one whole: none of the old one's parts may stay behind, and pruning to `keep`
 * must neither remove the new one nor count the old one among those kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotChunkSizeBytes } from '../../../src/constants.js';
import { readU64BE, type JournalDb } from '../../../src/journal/journal-db.js';
import {
  listSnapshots,
  loadSnapshot,
  writeSnapshot,
  type SnapshotFields,
  type SnapshotHeader,
} from '../../../src/journal/snapshot-store.js';
import type { StateImage } from '../../../src/stdx/state-image.js';
import { withDb } from '../../harness/fresh-db.js';

/** One array of `bytes` seeded noise (no word equals its base: every byte is stored). */
function noiseImage(bytes: number, seed: number): StateImage {
  const array = new Uint32Array(bytes / 4);
  let x = seed | 1;
  for (let i = 0; i < array.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    array[i] = x | 1;
  }
  return { arrays: [array], counters: [seed], used: [bytes], bases: [0] };
}

function fieldsAt(sequence: number, seed: number): SnapshotFields {
  return { sequence, timestamp: seed, batchHash: '00', config: { seed }, stateChecksum: '' };
}

/** The parts stored under `sequence` in snapshots.mdb (0 is the header), in key order. */
function partsAt(db: JournalDb, sequence: number): number[] {
  const parts: number[] = [];
  for (const key of db.snapshots!.getKeys()) {
    if (key.byteLength === 12 && readU64BE(key, 0) === sequence) parts.push(key.readUInt32BE(8));
  }
  return parts;
}

function write(db: JournalDb, sequence: number, image: StateImage, keep: number): SnapshotHeader {
  const header = writeSnapshot(db, fieldsAt(sequence, image.counters[0]), image, keep);
  assert.ok(header !== null, 'written');
  return header;
}

/** `header` is listed, loads and holds `image`'s bytes. */
function assertHolds(db: JournalDb, header: SnapshotHeader, image: StateImage): void {
  const listed = listSnapshots(db).filter((h) => h.sequence === header.sequence);
  assert.deepEqual(listed, [header], 'the new header is the one listed at its sequence');
  const [array] = loadSnapshot(db, header);
  const want = image.arrays[0];
  assert.ok(Buffer.from(array).equals(Buffer.from(want.buffer)), 'bit for bit');
  assert.deepEqual(partsAt(db, header.sequence), range(header.chunks + 1));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

const long = noiseImage(4.5 * snapshotChunkSizeBytes, 11);
const short = noiseImage(1.5 * snapshotChunkSizeBytes, 22);

test('a shorter snapshot at a stored sequence leaves none of the longer one behind', () =>
  withDb((db) => {
    write(db, 100, noiseImage(4096, 1), 3);
    write(db, 200, noiseImage(4096, 2), 3);
    const first = write(db, 300, long, 3);
    assert.ok(first.chunks >= 5, 'the first one takes many chunks');
    const second = write(db, 300, short, 3);
    assert.ok(second.chunks < first.chunks, 'the second one takes fewer');
    assertHolds(db, second, short);
    // The newest three are 300 (once), 200 and 100: rewriting 300 prunes none of them.
    const kept = listSnapshots(db).map((h) => h.sequence);
    assert.deepEqual(kept, [300, 200, 100]);
  }));

test('with keep 1, a snapshot at a stored sequence is kept whole and loads', () =>
  withDb((db) => {
    write(db, 100, noiseImage(4096, 3), 1);
    const first = write(db, 300, long, 1);
    assert.deepEqual(
      listSnapshots(db).map((h) => h.sequence),
      [300],
    );
    const second = write(db, 300, short, 1);
    assert.ok(second.chunks < first.chunks);
    assertHolds(db, second, short);
    assert.deepEqual(
      listSnapshots(db).map((h) => h.sequence),
      [300],
    );
    // And a longer one over a shorter one, the other way round.
    const third = write(db, 300, long, 1);
    assertHolds(db, third, long);
  }));

test('a rewrite at a stored sequence cut short leaves no header over mixed chunks', () =>
  withDb((db) => {
    write(db, 300, long, 3);
    let asked = 0;
    // Stops after the first chunk went in: the old header must not stand over it.
    const cut = writeSnapshot(db, fieldsAt(300, 22), short, 3, 0, () => ++asked > 2);
    assert.equal(cut, null);
    const at300 = listSnapshots(db).filter((h) => h.sequence === 300);
    for (const header of at300) assert.doesNotThrow(() => loadSnapshot(db, header));
    // The next write clears what the cut one left.
    const next = write(db, 300, short, 3);
    assertHolds(db, next, short);
  }));
