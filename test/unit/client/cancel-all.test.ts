import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelAllRounds } from '../../../src/client/cancel-all.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';
import type { CancelAllArgs } from '../../../src/protocol/named-commands.js';
import { sdkCancelAllRoundsMax } from '../../../src/constants.js';

const event = (kind: number, status: number, otherId = 0, id = 0): EventRecord =>
  ({ kind, status, otherId, id }) as EventRecord;

/** A fake node: answers each round from `answers`, noting what was sent. */
function fake(answers: EventRecord[][]) {
  const sent: CancelAllArgs[] = [];
  const send = (args: CancelAllArgs): Promise<EventRecord[]> => {
    sent.push(args);
    return Promise.resolve(answers[Math.min(sent.length, answers.length) - 1]);
  };
  return { sent, send };
}

test('cancelAll sends rounds, each from where the last stopped, until none remain', async () => {
  const { sent, send } = fake([
    [event(EventKind.AllCanceled, Status.Ok, 40), event(EventKind.OrderCanceled, 0, 0, 31)],
    // A resend answered as a Duplicate does not say where it stopped: from the oldest again.
    [event(EventKind.Duplicate, Status.Ok, 12)],
    [event(EventKind.AllCanceled, Status.Ok, 0), event(EventKind.OrderCanceled, 0, 0, 40)],
  ]);
  const events = await cancelAllRounds(send, { account: 3, instrument: 2 });
  assert.deepEqual(
    sent.map((a) => a.next),
    [0, 40, 0],
  );
  assert.ok(sent.every((a) => a.account === 3 && a.instrument === 2));
  assert.deepEqual(
    events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id),
    [31, 40],
  );
});

test('cancelAll stops at a refusal, and after its most rounds', async () => {
  const refused = fake([[event(EventKind.Rejected, Status.LedgerAccountUnknown)]]);
  const events = await cancelAllRounds(refused.send, { account: 9 });
  assert.deepEqual([refused.sent.length, events[0].status], [1, Status.LedgerAccountUnknown]);
  const endless = fake([[event(EventKind.AllCanceled, Status.Ok, 5)]]);
  const all = await cancelAllRounds(endless.send, { account: 1 });
  assert.equal(endless.sent.length, sdkCancelAllRoundsMax);
  assert.equal(all.at(-1)?.otherId, 5, 'the caller sees that some remain');
});
