import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bpsOf } from '../../../src/stdx/int.js';
import { fmix32, hashU53, mix32 } from '../../../src/stdx/hash.js';

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

test('hashes are pinned: checksums and tables depend on them never changing', () => {
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7 | 0);
  assert.equal(hashU53(1), fmix32(1));
  assert.equal(hashU53(2 ** 53 - 1), fmix32((0xffffffff ^ Math.imul(0x1fffff, 0x9e3779b1)) | 0));
  assert.equal(mix32(0, 1), 651101558); // murmur3 body step, checked against a Python reference
});
