import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailLog } from '../../../bench/lib/tail-log.js';

test("the tail is the commands at or above the p99, with each stage's mean", () => {
  const log = new TailLog(1_000);
  // 990 commands of 1 ms (lag 0.5, to stamp 0.25, from stamp 0.25), then 10 of 11 ms whose
  // extra 10 ms is between the stamp and the answer.
  for (let i = 0; i < 990; i++) log.add(i, i + 0.5, i + 0.75, i + 1);
  for (let i = 990; i < 1_000; i++) log.add(i, i + 0.5, i + 0.75, i + 11, 5_000 + i);
  const f = log.figures([]);
  assert.equal(f.count, 10);
  assert.deepEqual(f.sequences, [5990, 5991, 5992, 5993, 5994, 5995, 5996, 5997, 5998, 5999]);
  assert.equal(f.duringGc, 0);
  assert.equal(f.lagUs, 500);
  assert.equal(f.toStampUs, 250);
  assert.equal(f.fromStampUs, 10_250);
  assert.deepEqual(f.each.fromStampUs, Array(10).fill(10_250), "each command's own stages too");
  assert.deepEqual(f.each.lagUs, Array(10).fill(500));
});

test('a tail command counts as during a GC when a pause overlaps its life', () => {
  const log = new TailLog(200);
  for (let i = 0; i < 198; i++) log.add(i, i, i, i + 1);
  log.add(500, 500, 500, 510); // overlapped by the pause at 505-506
  log.add(600, 600, 600, 610); // the pause at 611-612 is after its answer
  const f = log.figures([
    [505, 506],
    [611, 612],
  ]);
  assert.equal(f.count, 2);
  assert.equal(f.duringGc, 1);
  assert.deepEqual(f.each.duringGc, [1, 0]);
});

test('commands past the capacity are not kept, and an empty log has no tail', () => {
  const log = new TailLog(2);
  for (let i = 0; i < 5; i++) log.add(i, i, i, i + 1 + i);
  const f = log.figures([]);
  assert.equal(f.count, 1, 'of the 2 kept, the slower');
  assert.equal(f.fromStampUs, 2_000);
  assert.deepEqual(new TailLog(0).figures([]), {
    count: 0,
    duringGc: 0,
    sequences: [],
    each: { lagUs: [], toStampUs: [], fromStampUs: [], duringGc: [] },
    lagUs: 0,
    toStampUs: 0,
    fromStampUs: 0,
  });
});
