import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readI64, readU64, RecordBuffer, write64 } from '../../../src/stdx/records.js';

test('64-bit fields round-trip at the edges of the safe range', () => {
  const u32 = new Uint32Array(2);
  for (const v of [0, 1, -1, 2 ** 32, 2 ** 32 - 1, 2 ** 53 - 1, -(2 ** 53 - 1), -(2 ** 32) - 1]) {
    write64(u32, 0, v);
    assert.equal(readI64(u32, 0), v, String(v));
    if (v >= 0) assert.equal(readU64(u32, 0), v, String(v));
  }
  write64(u32, 0, -1);
  assert.deepEqual([...u32], [0xffffffff, 0xffffffff], 'two’s complement, little-endian');
});

test('a record buffer views fixed-size records in place, 8-byte aligned', () => {
  const shared = new ArrayBuffer(256);
  const a = new RecordBuffer(shared, 64, 2, 64);
  a.u32[16] = 7; // record 1, word 0
  assert.equal(new Uint32Array(shared)[16 + 16], 7);
  assert.throws(() => new RecordBuffer(shared, 4, 1, 64));
  assert.throws(() => new RecordBuffer(shared, 0, 1, 12));
});
