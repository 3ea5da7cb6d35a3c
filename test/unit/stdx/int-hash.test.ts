import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bpsOf, isMultipleOf } from '../../../src/stdx/int.js';
import { fmix32, hashU53, hashU53Words, mix32 } from '../../../src/stdx/hash.js';

test('bpsOf is floor(amount * bps / 10000) exactly, up to 2^53 - 1', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 0, max: 10_000 }),
      (n, bps) => {
        assert.equal(bpsOf(n, bps), Number((BigInt(n) * BigInt(bps)) / 10_000n));
      },
    ),
    { numRuns: 2_000 },
  );
  assert.equal(bpsOf(Number.MAX_SAFE_INTEGER, 10_000), Number.MAX_SAFE_INTEGER);
  assert.equal(bpsOf(9_999, 1), 0);
});

test('isMultipleOf answers as value % step === 0, up to 2^53 - 1', () => {
  const max = Number.MAX_SAFE_INTEGER;
  const same = (value: number, step: number): void => {
    assert.equal(isMultipleOf(value, step), value % step === 0, `${value} % ${step}`);
  };
  // Any pair, and pairs next to a multiple (q * step - 1, q * step, q * step + 1), where a
  // rounded quotient would land on an integer; steps from 1 to 2^53 - 1.
  const step = fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max }));
  fc.assert(fc.property(fc.integer({ min: 0, max }), step, same), { numRuns: 5_000 });
  fc.assert(
    fc.property(step, fc.integer({ min: 0, max }), fc.integer({ min: -1, max: 1 }), (s, n, d) => {
      const q = Math.floor(n / s);
      const value = Math.min(max, Math.max(0, q * s + d));
      same(value, s);
    }),
    { numRuns: 5_000 },
  );
  for (const s of [1, 2, 3, 7, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 52, max - 1, max]) {
    for (const v of [0, 1, s - 1, s, s + 1, max - 1, max, 2 ** 52 + 1, 2 ** 31, 2 ** 32]) {
      if (v >= 0 && v <= max) same(v, s);
    }
  }
  same(max - (max % 3), 3);
  same(max - (max % 3) - 1, 3);
  assert.equal(isMultipleOf(max, max), true);
  assert.equal(isMultipleOf(max - 1, max), false);
});

test('hashes are pinned: checksums and tables depend on them never changing', () => {
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7 | 0);
  assert.equal(hashU53(1), fmix32(1));
  assert.equal(hashU53(2 ** 53 - 1), fmix32((0xffffffff ^ Math.imul(0x1fffff, 0x9e3779b1)) | 0));
  assert.equal(mix32(0, 1), 651101558); // murmur3 body step, checked against a Python reference
});

test('hashU53Words(lo, hi) is hashU53(hi * 2^32 + lo) for every safe integer', () => {
  const words = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0x1fffff }));
  fc.assert(
    fc.property(words, ([lo, hi]) => hashU53Words(lo, hi) === hashU53(hi * 4294967296 + lo)),
    { numRuns: 10_000 },
  );
  assert.equal(hashU53Words(0xffffffff, 0x1fffff), hashU53(2 ** 53 - 1));
});
