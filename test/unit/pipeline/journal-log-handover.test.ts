/**
 * The journal log's hand-over (src/pipeline/journal-log-handover.ts): the writer's copies of
 * its batches, found by the applier in record order; a batch with no room is left to the file,
 * and an entry that would pass the ring's end starts at 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandOverReader, HandOverWriter } from '../../../src/pipeline/journal-log-handover.js';

function pair(bytes: number): { writer: HandOverWriter; reader: HandOverReader } {
  const slots = new Float64Array(new SharedArrayBuffer(16));
  const at = { slots, writtenAt: 0, freedAt: 1 };
  const ring = new SharedArrayBuffer(bytes);
  return { writer: new HandOverWriter(ring, at), reader: new HandOverReader(ring, at) };
}

const batch = (length: number, fill: number): Uint8Array => new Uint8Array(length).fill(fill);

test('the applier finds each batch as written, with its record, mark and sequence', () => {
  const { writer, reader } = pair(1024);
  assert.ok(writer.offer(1, 100, 10, 5_000, batch(30, 1)));
  assert.ok(writer.offer(2, 200, 20, 6_000, batch(50, 2)));
  const first = reader.find(1);
  assert.deepEqual(first, batch(30, 1));
  assert.equal(reader.afterOffset, 100);
  assert.equal(reader.firstSequence, 10);
  assert.equal(reader.timestamp, 5_000);
  assert.deepEqual(reader.find(2), batch(50, 2));
  assert.equal(reader.firstSequence, 20);
  assert.equal(reader.find(3), null, 'not written yet');
});

test('a batch with no room is not handed over: the applier reads that record from the file', () => {
  const { writer, reader } = pair(256);
  assert.ok(writer.offer(1, 0, 1, 0, batch(100, 1))); // 144 bytes of 256
  assert.equal(writer.offer(2, 0, 2, 0, batch(100, 2)), false, 'the applier holds the room');
  assert.ok(writer.offer(3, 0, 3, 0, batch(40, 3))); // 80 more: 224
  assert.deepEqual(reader.find(1), batch(100, 1));
  assert.equal(reader.find(2), null, "record 2 is the file's");
  assert.deepEqual(reader.find(3), batch(40, 3), 'the next record is found after it');
  assert.equal(writer.offer(4, 0, 4, 0, batch(100, 4)), false, 'not freed until LMDB holds');
  reader.free();
  assert.ok(writer.offer(4, 0, 4, 0, batch(100, 4)), 'a lap: it starts at 0');
  assert.deepEqual(reader.find(4), batch(100, 4));
  assert.equal(writer.offer(5, 0, 5, 0, batch(300, 5)), false, 'larger than the ring');
});

test('laps of the ring hand every batch over intact, pad entries passed', () => {
  const { writer, reader } = pair(1000);
  for (let record = 1; record <= 200; record++) {
    const length = 1 + ((record * 37) % 300);
    assert.ok(writer.offer(record, record * 10, record, record, batch(length, record & 255)));
    assert.deepEqual(reader.find(record), batch(length, record & 255));
    assert.equal(reader.afterOffset, record * 10);
    reader.free();
  }
});
