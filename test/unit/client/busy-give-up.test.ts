/**
 * Giving up on frames refused Busy (client/busy-give-up.ts) without a node: the frames from
 * the oldest refused one on are taken, their calls fail, and the client seqs they held can be
 * held again by the next calls: a batch cut in two keeps its answered part, a single command's
 * window takes the same seqs again. (Before, the SDK never gave up, so nothing was cut.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batches } from '../../../src/client/batches.js';
import { busyTimedOut, failFrame, takeFramesFrom } from '../../../src/client/busy-give-up.js';
import { ClientErrorCode } from '../../../src/client/error-codes.js';
import { SeqWindow } from '../../../src/client/seq-window.js';
import { StatusCalls } from '../../../src/client/status-calls.js';
import type { Pending, UnansweredFrame } from '../../../src/client/unanswered.js';

const frame = (first: number, last: number): UnansweredFrame => ({
  bytes: Buffer.alloc(0),
  first,
  last,
  left: last - first + 1,
  sent: true,
});

test('frames from the oldest refused on fail; their seqs are taken again', async () => {
  const frames = new Map([
    [1, frame(1, 4)], // answered in part: before the refused one, it stays
    [2, frame(5, 6)], // refused for busyTimeoutMs
    [3, frame(7, 8)], // sent after it: refused too
  ]);
  const batches = new Batches();
  const batch = batches.add(1, 6); // seqs 1-6, over frames 1 and 2
  const pending = new SeqWindow<Pending>();
  const failed: Error[] = [];
  for (const seq of [7, 8]) {
    pending.set(seq, {
      seq,
      resolve: () => {},
      reject: (e) => failed.push(e),
      events: [],
      frame: 3,
    });
  }
  const error = busyTimedOut(10_000, 5, 8);
  assert.equal(error.code, ClientErrorCode.BusyTimeout);
  assert.equal(error.mayHaveApplied, false);
  assert.match(error.message, /busy .* for 10000 ms.*not applied \(client seqs 5-8/);
  const taken = takeFramesFrom(frames, 5);
  assert.deepEqual([...frames.keys()], [1]);
  for (const f of taken) failFrame(f, error, pending, batches, new StatusCalls());
  assert.deepEqual(failed, [error, error]);
  await assert.rejects(batch, (e) => e === error);
  pending.rewind(5);
  batches.cut(5);
  // The next calls take seqs 5 on: no assert, and answers reach the right batch.
  const next = batches.add(5, 2);
  pending.set(7, { seq: 7, resolve: () => {}, reject: () => {}, events: [], frame: 4 });
  for (const seq of [1, 2, 3, 4]) assert.notEqual(batches.answer(seq, 0, 100 + seq, 1), -1);
  batches.setFrame(5, 4);
  batches.setFrame(6, 4);
  assert.equal(batches.answer(5, 0, 105, 1), 4);
  assert.equal(batches.answer(6, 0, 106, 1), 4);
  const result = await next;
  assert.deepEqual([...result.sequence], [105, 106]);
});

test('a window rewinds only over seqs it no longer holds', () => {
  const window = new SeqWindow<number>();
  for (let seq = 1; seq <= 5; seq++) window.set(seq, seq);
  window.delete(4);
  window.delete(5);
  window.rewind(4);
  window.set(4, 40);
  assert.equal(window.get(4), 40);
  assert.throws(() => window.rewind(2), /not held/);
});
