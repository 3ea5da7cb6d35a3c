/**
 * StatusCalls, submitStatus's calls in flight: each answered once with its tag, frame and
 * status; failures told in a microtask with a ClientError naming the client seq; slots that
 * grow past a call held long; a give-up of seqs past every status call's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusCalls } from '../../../src/client/status-calls.js';
import { ClientError } from '../../../src/client/session.js';
import type { OnStatus } from '../../../src/client/handler-calls.js';

type Told = [ClientError | null, number, number, number];

function recorder(): { told: Told[]; onStatus: OnStatus } {
  const told: Told[] = [];
  return {
    told,
    onStatus: (error, status, tag, sequence) => told.push([error, status, tag, sequence]),
  };
}

test('status-calls: each answered once, with its tag, sequence and frame', () => {
  const calls = new StatusCalls();
  const { told, onStatus } = recorder();
  for (let seq = 10; seq < 13; seq++) calls.add(seq, onStatus, 100 + seq);
  assert.equal(calls.setFrame(11, 7), true);
  assert.equal(calls.setFrame(13, 7), false, 'not a status call');
  assert.equal(calls.answer(11, 0, 555), 7);
  assert.equal(calls.answer(11, 0, 556), -1, 'a repeat is not told again');
  assert.equal(calls.answer(9, 0, 1), -1);
  assert.deepEqual(told, [[null, 0, 111, 555]]);
  assert.equal(calls.size, 2);
});

test('status-calls: failures are told in a microtask, each naming its client seq', async () => {
  const calls = new StatusCalls();
  const { told, onStatus } = recorder();
  for (let seq = 1; seq <= 3; seq++) calls.add(seq, onStatus, seq * 2);
  calls.failRange(2, 5, new ClientError(4001, 'refused', true));
  assert.equal(told.length, 0, 'not while the SDK changes its seqs');
  assert.equal(calls.size, 1);
  await Promise.resolve();
  assert.deepEqual(
    told.map(([e, status, tag]) => [e?.clientSeq, e?.code, e?.mayHaveApplied, status, tag]),
    [
      [2, 4001, true, -1, 4],
      [3, 4001, true, -1, 6],
    ],
  );
});

test('status-calls: slots grow past a call held long; a give-up past them all', () => {
  const calls = new StatusCalls();
  const { told, onStatus } = recorder();
  calls.add(1, onStatus, 1);
  for (let seq = 2; seq < 5_000; seq++) {
    calls.add(seq, onStatus, seq);
    assert.equal(calls.answer(seq, 0, seq), 0);
  }
  assert.equal(calls.answer(1, 3, 9), 0, 'the oldest, kept through the growth');
  assert.deepEqual(told[told.length - 1], [null, 3, 1, 9]);
  assert.equal(calls.size, 0);
  calls.rewind(7_000); // seqs of other calls given up: nothing of these
  calls.add(5_000, onStatus, 5_000);
  calls.rewind(5_001);
  assert.equal(calls.answer(5_000, 0, 1), 0);
  assert.equal(told.length, 5_000);
});
