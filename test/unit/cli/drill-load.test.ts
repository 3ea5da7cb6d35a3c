/**
 * A drill's record of what was acknowledged and applied, by client seq: a long drill (or soak)
 * acknowledges more commands than a Map holds (2^24 keys), and it stopped with `RangeError: Map
 * maximum size exceeded` at 16,777,216, its history never checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newLoad } from '../../../src/cli/drill.js';

test('a drill load holds more acknowledged seqs than a Map can', () => {
  const load = newLoad();
  const last = 2 ** 24 + 5;
  for (let seq = 1; seq <= last; seq++) load.acked.add(seq);
  assert.equal(load.acked.size, last);
  assert.equal(load.acked.count(last), 1);
  assert.equal(load.acked.count(last + 1), 0);
  assert.equal(load.acked.count(0), 0);
});

test('counts say which seqs were seen twice, and saturate', () => {
  const { acked } = newLoad();
  for (const seq of [7, 70_000, 7, 3, 70_000, 70_000]) acked.add(seq);
  for (let i = 0; i < 300; i++) acked.add(9);
  assert.equal(acked.size, 4);
  const seen = [...acked.entries()].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(seen, [
    [3, 1],
    [7, 2],
    [9, 255],
    [70_000, 3],
  ]);
});
