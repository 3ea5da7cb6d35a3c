import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelRounds } from '../../../src/client/cancel-all.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

const event = (
  kind: number,
  status: number,
  otherId = 0,
  id = 0,
  more: Partial<EventRecord> = {},
): EventRecord => ({ kind, status, otherId, id, quantity: 0, sequence: 0, ...more }) as EventRecord;

/** A round's head: `quantity` canceled, go on from `otherId`, sequenced at `sequence`. */
const head = (otherId: number, quantity: number, sequence = 0): EventRecord =>
  event(EventKind.AllCanceled, Status.Ok, otherId, 0, { quantity, sequence });

/** A fake node: answers each round from `answers` (the last again), noting what was sent. */
function fake(answers: EventRecord[][]) {
  const sent: [target: number, before: number][] = [];
  const send = (target: number, before: number): Promise<EventRecord[]> => {
    sent.push([target, before]);
    return Promise.resolve(answers[Math.min(sent.length, answers.length) - 1]);
  };
  return { sent, send };
}

test('rounds go on from where the last stopped, bounded by the first round, until 0', async () => {
  const { sent, send } = fake([
    [head(40, 1, 900), event(EventKind.OrderCanceled, 0, 0, 31)],
    // A resend answered as a Duplicate does not say where it stopped: from the oldest again.
    [event(EventKind.Duplicate, Status.Ok, 901)],
    [head(0, 1, 905), event(EventKind.OrderCanceled, 0, 0, 40)],
  ]);
  const events = await cancelRounds(send, 0);
  assert.deepEqual(sent, [
    [0, 0],
    [40, 900],
    [0, 900],
  ]);
  assert.deepEqual(
    events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id),
    [31, 40],
  );
});

test("a first round's Duplicate: the rest bounded by the original's sequence", async () => {
  const { sent, send } = fake([[event(EventKind.Duplicate, Status.Ok, 700)], [head(0, 3, 750)]]);
  await cancelRounds(send, 12);
  assert.deepEqual(sent, [
    [12, 0],
    [0, 700],
  ]);
});

test('rounds stop at a refusal', async () => {
  const refused = fake([[event(EventKind.Rejected, Status.LedgerAccountUnknown)]]);
  const events = await cancelRounds(refused.send, 0);
  assert.deepEqual([refused.sent.length, events[0].status], [1, Status.LedgerAccountUnknown]);
});

test('no round cap: 5,000 rounds of one order each are followed to the end', async () => {
  let n = 0;
  const send = (target: number, before: number): Promise<EventRecord[]> => {
    n++;
    assert.equal(target, n === 1 ? 0 : n + 10);
    assert.equal(before, n === 1 ? 0 : 99_999);
    return Promise.resolve([head(n === 5_000 ? 0 : n + 11, 1, 99_999)]);
  };
  const events = await cancelRounds(send, 0);
  assert.equal(n, 5_000, 'every round (the SDK stopped at 1,024)');
  assert.equal(events.at(-1)?.otherId, 0);
});

test('a round that passes orders over without canceling goes on while it moves on', async () => {
  const { sent, send } = fake([[head(50, 0, 900)], [head(90, 0, 901)], [head(0, 2, 902)]]);
  await cancelRounds(send, 0);
  assert.deepEqual(
    sent.map(([target]) => target),
    [0, 50, 90],
  );
});

test('a round that starts again from the oldest (its target gone) goes on', async () => {
  const { sent, send } = fake([[head(50, 0, 900)], [head(30, 0, 901)], [head(0, 2, 902)]]);
  await cancelRounds(send, 0);
  assert.deepEqual(
    sent.map(([target]) => target),
    [0, 50, 30],
  );
});

test('a round that neither cancels nor moves on ends the call (an engine fault)', async () => {
  const stuck = fake([[head(50, 1, 900)], [head(50, 0, 901)]]);
  const events = await cancelRounds(stuck.send, 0);
  assert.equal(stuck.sent.length, 2);
  assert.equal(events.at(-1)?.otherId, 50, 'the caller sees that some remain');
});
