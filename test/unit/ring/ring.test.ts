import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { Sequencer } from '../../../src/ring/sequencer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { WaitStrategy } from '../../../src/ring/wait-strategy.js';
import { after, consumerWord, distance, RingWord } from '../../../src/ring/ring-layout.js';

const wait = new WaitStrategy(8, 5);

test('sequences compare across the int32 wrap', () => {
  assert.ok(after(-2_147_483_648, 2_147_483_647));
  assert.equal(distance(-2_147_483_647, 2_147_483_647), 2);
  assert.ok(after(0, -1));
  assert.ok(!after(-1, 0));
});

test('the cursor and each consumer sequence sit on separate 128-byte lines', () => {
  const ring = RingBuffer.create({ slotCount: 8, slotSizeBytes: 16, consumers: 2, spill: 0 });
  assert.equal(RingWord.cursor * 4, 128);
  assert.equal(consumerWord(0) * 4, 256);
  assert.equal(consumerWord(1) * 4, 384);
  assert.equal(ring.records.u8.byteOffset, 512, 'slots start after the header lines');
  assert.equal(ring.header[RingWord.cursor], -1);
});

test('a producer cannot overwrite a slot before every consumer has released it', () => {
  const ring = RingBuffer.create({ slotCount: 4, slotSizeBytes: 8, consumers: 2, spill: 0 });
  const seq = new Sequencer(ring, wait);
  const fast = new SequenceBarrier(ring, 0, wait);
  const slow = new SequenceBarrier(ring, 1, wait);
  assert.ok(seq.hasRoom(4));
  assert.ok(!seq.hasRoom(5));
  seq.advance(4);
  seq.publish();
  assert.ok(!seq.hasRoom(1), 'full');
  assert.equal(fast.available(), 3);
  fast.release(3);
  assert.ok(!seq.hasRoom(1), 'the slow consumer still holds every slot');
  slow.release(1);
  assert.ok(seq.hasRoom(2));
  assert.ok(!seq.hasRoom(3));
});

test('nothing is visible to consumers before publish, then the whole batch at once', () => {
  const ring = RingBuffer.create({ slotCount: 8, slotSizeBytes: 8, consumers: 1, spill: 0 });
  const seq = new Sequencer(ring, wait);
  const barrier = new SequenceBarrier(ring, 0, wait);
  seq.advance(3);
  assert.equal(barrier.available(), -1);
  seq.publish();
  assert.equal(barrier.available(), 2);
});

test('a reset ring is as new: its next parties start from nothing, not halted', () => {
  const ring = RingBuffer.create({ slotCount: 4, slotSizeBytes: 8, consumers: 2, spill: 0 });
  const used = new Sequencer(ring, wait);
  used.advance(3);
  used.publish();
  new SequenceBarrier(ring, 0, wait).release(2);
  ring.halt();
  ring.reset();
  assert.equal(ring.halted(), false);
  assert.equal(ring.occupancy(), 0);
  assert.deepEqual([ring.header[RingWord.cursor], ring.header[consumerWord(1)]], [-1, -1]);
  const seq = new Sequencer(ring, wait);
  const barrier = new SequenceBarrier(ring, 0, wait);
  assert.equal(seq.nextSequence(), 0);
  assert.ok(seq.hasRoom(4));
  assert.equal(barrier.available(), -1, 'nothing published yet');
  seq.advance(1);
  seq.publish();
  assert.equal(barrier.available(), 0);
});

test('a consumer that depends on another sees only what that one has passed', () => {
  const ring = RingBuffer.create({ slotCount: 8, slotSizeBytes: 8, consumers: 2, spill: 0 });
  const seq = new Sequencer(ring, wait);
  const journal = new SequenceBarrier(ring, 0, wait);
  const publisher = new SequenceBarrier(ring, 1, wait, [0]);
  seq.advance(5);
  seq.publish();
  assert.equal(publisher.available(), -1);
  journal.release(2);
  assert.equal(publisher.available(), 2);
});

test('a group written past the end is copied from the spill area to the start', () => {
  const ring = RingBuffer.create({ slotCount: 4, slotSizeBytes: 8, consumers: 1, spill: 2 });
  const seq = new Sequencer(ring, wait);
  const barrier = new SequenceBarrier(ring, 0, wait);
  seq.advance(3);
  seq.publish();
  barrier.release(2);
  // Write 3 records from slot 3: slot 3, then spill slots 4 and 5 (= slots 0 and 1).
  for (let i = 0; i < 3; i++) ring.records.u32[(3 + i) * 2] = 100 + i;
  seq.spill(seq.nextSequence(), 3);
  seq.advance(3);
  assert.deepEqual(
    [ring.records.u32[6], ring.records.u32[0], ring.records.u32[2]],
    [100, 101, 102],
  );
});

function run(
  role: string,
  buffer: SharedArrayBuffer,
  count: number,
  seed: number,
  more: Record<string, unknown> = {},
): Promise<Record<string, number>> {
  const worker = new Worker(new URL('./ring-stress-worker.js', import.meta.url), {
    workerData: { role, buffer, count, seed, ...more },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

test('two threads: each message arrives once, in order, intact, through a full ring', async () => {
  for (const seed of [1, 2]) {
    const ring = RingBuffer.create({ slotCount: 16, slotSizeBytes: 8, consumers: 1, spill: 0 });
    const count = 200_000;
    const [consumer, producer] = await Promise.all([
      run('consumer', ring.buffer, count, seed),
      run('producer', ring.buffer, count, seed),
    ]);
    assert.equal(producer.produced, count);
    assert.equal(consumer.consumed, count, `seed ${seed}`);
    assert.equal(consumer.errors, 0, `seed ${seed}: lost, repeated or overwritten messages`);
    assert.ok(consumer.batches > 1);
  }
});

test('three consumers, two behind the first, taking turns to be slowest: none lapped', async () => {
  // The producer once took the slowest consumer's index, then read its word again: when that
  // one had moved past another meanwhile, the gate passed the other's unread slots.
  for (const seed of [3, 4]) {
    const ring = RingBuffer.create({ slotCount: 32, slotSizeBytes: 8, consumers: 3, spill: 0 });
    const count = 300_000;
    const opts = { done: new SharedArrayBuffer(4), consumers: 3, pauses: true };
    const [c0, c1, c2, producer] = await Promise.all([
      run('consumer', ring.buffer, count, seed, { ...opts, index: 0 }),
      run('consumer', ring.buffer, count, seed, { ...opts, index: 1, dependsOn: [0] }),
      run('consumer', ring.buffer, count, seed, { ...opts, index: 2, dependsOn: [0] }),
      run('producer', ring.buffer, count, seed),
    ]);
    assert.equal(producer.produced, count);
    for (const [i, c] of [c0, c1, c2].entries()) {
      assert.equal(c.consumed, count, `seed ${seed}: consumer ${i} got everything`);
      assert.equal(c.errors, 0, `seed ${seed}: consumer ${i} read overwritten messages`);
    }
  }
});
