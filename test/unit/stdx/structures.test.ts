import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IndexHeap } from '../../../src/stdx/index-heap.js';
import { SlotPool } from '../../../src/stdx/slot-pool.js';
import { AssertionError } from '../../../src/stdx/assert.js';

test('the heap pops in (key, tie) order whatever the insertion and removal history', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), {
        minLength: 1,
        maxLength: 60,
      }),
      (items) => {
        const heap = new IndexHeap(64);
        const live = new Map<number, [number, number]>();
        items.forEach(([k, drop], slot) => {
          heap.push(slot, k, slot);
          live.set(slot, [k, slot]);
          if (drop && slot % 3 === 0) {
            heap.remove(slot);
            live.delete(slot);
          }
        });
        const want = [...live.entries()].sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1]);
        const got: number[] = [];
        while (heap.size > 0) {
          const slot = heap.peek();
          got.push(slot);
          heap.remove(slot);
          assert.equal(heap.contains(slot), false);
        }
        assert.deepEqual(
          got,
          want.map(([slot]) => slot),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('the heap refuses a slot twice and is bounded', () => {
  const heap = new IndexHeap(2);
  heap.push(0, 5, 0);
  assert.throws(() => heap.push(0, 6, 0), AssertionError);
  heap.push(1, 1, 1);
  assert.equal(heap.peek(), 1);
  assert.equal(heap.peekKey(), 1);
});

test('the slot pool hands out every slot once and reuses the last released first', () => {
  const pool = new SlotPool(3);
  const got = [pool.acquire(), pool.acquire(), pool.acquire()];
  assert.deepEqual(got, [0, 1, 2]);
  assert.equal(pool.available(), 0);
  assert.throws(() => pool.acquire(), AssertionError);
  pool.release(1);
  assert.equal(pool.acquire(), 1);
  pool.release(2);
  pool.release(0);
  assert.throws(() => pool.release(5), AssertionError);
  assert.equal(pool.used(), 1);
});

test('slot pool high water: the highest slot acquired; after a restore, the highest in use', () => {
  const pool = new SlotPool(8);
  const slots = Array.from({ length: 5 }, () => pool.acquire());
  assert.deepEqual(slots, [0, 1, 2, 3, 4]);
  pool.release(4);
  pool.release(1);
  assert.equal(pool.highWater, 5, 'released slots stay under it while running');
  const image = { arrays: [] as ArrayBufferView[], counters: [] as number[] };
  pool.saveImage(image);
  const twin = new SlotPool(8);
  const live = { arrays: [] as ArrayBufferView[], counters: [] as number[] };
  twin.saveImage(live); // its own arrays, written as a restore does
  (live.arrays[0] as Int32Array).set(image.arrays[0] as Int32Array);
  twin.loadCounters(image.counters, 0);
  assert.equal(twin.highWater, 4, 'slot 3 is the highest in use');
  assert.equal(twin.acquire(), 1, 'the free list came back too');
});
