/**
 * ResultRanges: the client seq ranges of a session's ResultsOnly frames, used up from the front
 * as their events come back; bounded, and refusing a frame whose seqs go down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResultRanges } from '../../../src/gateway/result-ranges.js';
import { resultRangesPerSessionMax } from '../../../src/constants.js';
import type { BatchSpan } from '../../../src/protocol/frames.js';
import { BatchFault } from '../../../src/protocol/frames.js';

/** A frame body of 64-byte commands with these client seqs (the span starts at byte 0). */
function frame(...seqs: number[]): [DataView, BatchSpan] {
  const view = new DataView(new ArrayBuffer(seqs.length * 64));
  seqs.forEach((seq, i) => {
    view.setUint32(i * 64, seq % 2 ** 32, true);
    view.setUint32(i * 64 + 4, Math.floor(seq / 2 ** 32), true);
  });
  return [view, { fault: BatchFault.None, start: 0, count: seqs.length }];
}

test('a seq is ResultsOnly while the first range left holds it', () => {
  const ranges = new ResultRanges();
  assert.ok(ranges.isEmpty());
  assert.equal(ranges.add(...frame(10, 11, 12)), true);
  assert.equal(ranges.add(...frame(20, 21)), true);
  assert.equal(ranges.covers(9), false, 'before every range');
  assert.equal(ranges.covers(10), true);
  assert.equal(ranges.covers(12), true);
  assert.equal(ranges.covers(12), true, 'again: a trade after its head');
  assert.equal(ranges.covers(15), false, 'between ranges: a frame without the flag');
  assert.equal(ranges.covers(10), false, 'the first range is used up');
  assert.equal(ranges.covers(21), true);
  assert.equal(ranges.covers(22), false);
  assert.ok(ranges.isEmpty());
  const big = 2 ** 40 + 5;
  assert.equal(ranges.add(...frame(big, big + 1)), true);
  assert.equal(ranges.covers(big + 1), true, 'seqs above 2^32');
});

test('a frame whose seqs go down, or one past the bound, is not noted', () => {
  const ranges = new ResultRanges();
  assert.equal(ranges.add(...frame(5, 4)), false);
  assert.ok(ranges.isEmpty());
  for (let i = 0; i < resultRangesPerSessionMax; i++) {
    assert.equal(ranges.add(...frame(i * 2, i * 2 + 1)), true);
  }
  assert.equal(ranges.add(...frame(1e6)), false, 'full: answered with Events');
  assert.equal(ranges.covers(1), true);
  assert.equal(ranges.add(...frame(1e6)), false, 'still full: the first range is kept');
  assert.equal(ranges.covers(2), true, 'the second range');
  assert.equal(ranges.add(...frame(1e6)), true, 'room again');
  assert.equal(ranges.covers(1e6), true);
});
