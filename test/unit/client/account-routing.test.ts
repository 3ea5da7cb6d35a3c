/**
 * Account frames go to the handlers of the account they name (HelloFlag.AccountInFrames):
 * an event naming two accounts a client streams comes once per account, and each account's
 * handlers hear it once, however the two accounts' frames interleave.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Streams } from '../../../src/client/streams.js';
import { decodeEvents, frameAccount, frameFits } from '../../../src/client/frame-check.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import {
  EventsFlag,
  FrameType,
  frameHeaderBytes,
  StreamKind,
  topicRequestId,
  writeHeader,
} from '../../../src/protocol/frames.js';

/** [sequence, kind, account, counterparty] */
type Ev = [number, number, number, number];

/** An account stream's Events frame of `events`, naming `account` (null: as servers before). */
function accountFrame(account: number | null, events: Ev[]): Buffer {
  const at = frameHeaderBytes + (account === null ? 8 : 16);
  const frame = Buffer.alloc(at + events.length * eventSizeBytes);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const flags = account === null ? 0 : EventsFlag.Account;
  writeHeader(view, 0, FrameType.Events, topicRequestId(StreamKind.Account), flags);
  view.setUint32(frameHeaderBytes, events.length, true);
  if (account !== null) view.setFloat64(frameHeaderBytes + 8, account, true);
  events.forEach(([sequence, kind, own, other], i) => {
    const e = at + i * eventSizeBytes;
    view.setUint32(e + EventWord.sequence * 4, sequence, true);
    view.setUint8(e + EventWord.kindStatus * 4, kind);
    view.setUint32(e + EventWord.account * 4, own, true);
    view.setUint32(e + EventWord.counterparty * 4, other, true);
  });
  return frame;
}

/** Streams with a link that sends nowhere, and what each of its handlers heard. */
function streams(): { s: Streams; heard: (account: number) => number[][] } {
  let id = 0;
  const s = new Streams({ send: () => {}, requestId: () => ++id, reconnects: () => 0 });
  const lists: Map<number, number[][]> = new Map();
  return {
    s,
    heard: (account) => {
      const list = lists.get(account) ?? [];
      lists.set(account, list);
      const mine: number[] = [];
      list.push(mine);
      s.topic(StreamKind.Account, account, (events) => mine.push(...events.map((e) => e.sequence)));
      return list;
    },
  };
}

const T = EventKind.Transferred;
const D = EventKind.Deposited;
const id = topicRequestId(StreamKind.Account);

test("each account's handlers hear its frames only, each event once, in order", () => {
  const { s, heard } = streams();
  heard(1);
  const one = heard(1); // a second handler of account 1
  const four = heard(4);
  // Two accounts resumed from 10: account 1's stored events, then account 4's (10 and 12
  // name both), then live frames, one event and account each.
  const frames = [
    accountFrame(1, [
      [10, T, 1, 4],
      [11, D, 1, 0],
      [12, T, 4, 1],
    ]),
    accountFrame(4, [
      [10, T, 1, 4],
      [12, T, 4, 1],
      [13, T, 4, 3],
    ]),
    accountFrame(4, [[14, T, 1, 4]]),
    accountFrame(1, [[14, T, 1, 4]]),
    accountFrame(1, [[15, D, 1, 0]]),
  ];
  for (const frame of frames) assert.equal(s.onEvents(id, frame), true);
  assert.deepEqual(
    one,
    [
      [10, 11, 12, 14, 15],
      [10, 11, 12, 14, 15],
    ],
    'both handlers of 1',
  );
  // 13 was lost when 4's handler took 1's frames too: it had delivered 12 by then.
  assert.deepEqual(four, [[10, 12, 13, 14]]);
});

test("an ended handler hears no more; the account's other handler goes on", () => {
  const { s } = streams();
  const a: number[] = [];
  const b: number[] = [];
  const endA = s.topic(StreamKind.Account, 1, (events) => a.push(...events.map((e) => e.sequence)));
  const endB = s.topic(StreamKind.Account, 1, (events) => b.push(...events.map((e) => e.sequence)));
  s.onEvents(id, accountFrame(1, [[5, D, 1, 0]]));
  endA();
  s.onEvents(id, accountFrame(1, [[6, D, 1, 0]]));
  endB();
  assert.equal(s.onEvents(id, accountFrame(1, [[7, D, 1, 0]])), true, 'still the stream`s id');
  assert.deepEqual([a, b], [[5], [5, 6]]);
});

test('frames that name no account (a server before it) go to every account handler', () => {
  const { s, heard } = streams();
  const one = heard(1);
  const four = heard(4);
  s.onEvents(
    id,
    accountFrame(null, [
      [10, T, 1, 4],
      [11, D, 1, 0],
    ]),
  );
  assert.deepEqual([one, four], [[[10, 11]], [[10]]], 'each the events naming its account');
});

test('a frame flagged Account holds the account before its events, and is checked so', () => {
  const frame = accountFrame(7, [[3, D, 7, 0]]);
  assert.equal(frameFits(frame), true);
  assert.equal(frameAccount(frame), 7);
  assert.deepEqual(
    decodeEvents(frame).map((e) => [e.sequence, e.account]),
    [[3, 7]],
  );
  assert.equal(frameFits(frame.subarray(0, frame.byteLength - 1)), false, 'one byte short');
  assert.equal(frameFits(frame.subarray(0, frameHeaderBytes + 12)), false, 'no room for it');
  assert.equal(frameAccount(accountFrame(null, [[3, D, 7, 0]])), null);
});
