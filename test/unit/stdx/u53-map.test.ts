import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { U53Map } from '../../../src/stdx/u53-map.js';
import { AssertionError } from '../../../src/stdx/assert.js';

const key = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 1, max: 64 }).map((k) => k * 4096), // same low bits
  fc.integer({ min: 1, max: 64 }).map((k) => 2 ** 53 - k), // near the top
);

test('insert, get and remove agree with a Map on random sequences', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('set', 'del'), key), { maxLength: 300 }),
      (ops) => {
        const map = new U53Map(128);
        const ref = new Map<number, number>();
        let value = 0;
        for (const [op, k] of ops) {
          if (op === 'set' && !ref.has(k) && !map.isFull()) {
            map.insert(k, ++value);
            ref.set(k, value);
          } else if (op === 'del' && ref.has(k)) {
            map.remove(k);
            ref.delete(k);
          }
          // Backward-shift deletion must keep every remaining key findable.
          for (const [rk, rv] of ref) assert.equal(map.get(rk), rv);
          assert.equal(map.count, ref.size);
        }
        for (let k = 1; k <= 64; k++) if (!ref.has(k)) assert.equal(map.get(k), -1);
      },
    ),
    { numRuns: 200 },
  );
});

test('sixteen consecutive keys from a multiple of 16 fill one run of entries, in order', () => {
  const map = new U53Map(1 << 16);
  const first = 2 ** 40 + 1_024; // a multiple of 16, above 2^32
  for (let i = 0; i < 16; i++) map.insert(first + i, i);
  let at = -1;
  for (let e = 0; e < map.entries.length / 2; e++) if (map.entries[e * 2] === first) at = e;
  assert.ok(at >= 0 && at % 16 === 0, 'the block starts at an aligned entry');
  for (let i = 0; i < 16; i++) assert.equal(map.entries[(at + i) * 2], first + i);
});

test('the table never grows: it is full at countMax', () => {
  const map = new U53Map(3);
  for (let k = 1; k <= 3; k++) map.insert(k, k);
  assert.ok(map.isFull());
  assert.throws(() => map.insert(4, 4), AssertionError);
});

test('inserting a present key or removing an absent one is a programming error', () => {
  const map = new U53Map(8);
  map.insert(7, 1);
  assert.throws(() => map.insert(7, 2), AssertionError);
  assert.throws(() => map.remove(8), AssertionError);
  assert.throws(() => map.insert(0, 1), AssertionError);
});

test('u53-map: at most 2^29 keys, so that (i << 1) | 1 indexes an entry', () => {
  assert.throws(() => new U53Map(2 ** 29 + 1), AssertionError);
  assert.equal(new U53Map(16).entries.length, 64);
});
