/**
 * Topics publishes each account event to the account's two topics, when they have
 * subscribers: plain frames (as before HelloFlag.AccountInFrames) and frames that name the
 * account. A Trade's frames hide the other side in both forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topics, accountTopic, tradesTopic } from '../../../src/gateway/topics.js';
import type { TemplatedApp } from '../../../src/gateway/uws.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { RecordBuffer } from '../../../src/stdx/records.js';
import { EventKind, EventOffset, EventWord } from '../../../src/protocol/event-layout.js';
import {
  EventsFlag,
  FrameType,
  frameHeaderBytes,
  StreamKind,
  topicRequestId,
} from '../../../src/protocol/frames.js';

/** An app whose (trades) topics `subscribed` have a subscriber each; what was published. */
function fakeApp(subscribed: (string | Uint8Array)[]) {
  const key = (t: string | Uint8Array): string =>
    typeof t === 'string' ? t : Buffer.from(t).toString('hex');
  const topics = new Set(subscribed.map(key));
  const published: { topic: string; frame: Buffer }[] = [];
  const asked: string[] = [];
  const app = {
    numSubscribers: (t: string | Uint8Array) => {
      asked.push(key(t));
      return topics.has(key(t)) ? 1 : 0;
    },
    publish: (t: string | Uint8Array, message: Uint8Array) => {
      published.push({ topic: key(t), frame: Buffer.from(message) }); // copies: reused
      return true;
    },
  };
  return { app: app as unknown as TemplatedApp, published, key, asked };
}

/** Events of [kind, account, counterparty], sequences from 1. */
function records(events: [number, number, number][]): RecordBuffer {
  const r = new RecordBuffer(
    new ArrayBuffer(events.length * eventSizeBytes),
    0,
    events.length,
    eventSizeBytes,
  );
  events.forEach(([kind, account, counterparty], i) => {
    const e = i * EventWord.size;
    r.u32[e + EventWord.sequence] = i + 1;
    r.u32[e + EventWord.kindStatus] = kind;
    r.u32[e + EventWord.account] = account;
    r.u32[e + EventWord.counterparty] = counterparty;
  });
  return r;
}

/** A published frame as [its flags, the account it names (0: none), event's account fields]. */
function read(frame: Buffer): [number, number, number, number] {
  assert.equal(frame.readUInt8(0), FrameType.Events);
  assert.equal(frame.readUInt32LE(4), topicRequestId(StreamKind.Account));
  assert.equal(frame.readUInt32LE(frameHeaderBytes), 1, 'one event');
  const flags = frame.readUInt16LE(2);
  const named = (flags & EventsFlag.Account) !== 0;
  const at = frameHeaderBytes + (named ? 16 : 8);
  assert.equal(frame.byteLength, at + eventSizeBytes);
  const account = frame.readUInt32LE(at + EventOffset.account);
  const counterparty = frame.readUInt32LE(at + EventOffset.counterparty);
  return [flags, named ? frame.readDoubleLE(frameHeaderBytes + 8) : 0, account, counterparty];
}

test("an account's event goes to each of its topics that has subscribers, in its form", () => {
  const { app, published, key } = fakeApp([]);
  const topics = new Topics(app);
  topics.accountJoined(1, false);
  topics.accountJoined(1, true);
  topics.accountJoined(4, true);
  const input = records([
    [EventKind.Transferred, 1, 4],
    [EventKind.Trade, 4, 1], // taker 4, maker 1
    [EventKind.Deposited, 5, 0], // no subscriber: nothing built
  ]);
  topics.publish(input, 0, 3);
  const [plain1, named1, named4] = [
    key(accountTopic(1, false)),
    key(accountTopic(1, true)),
    key(accountTopic(4, true)),
  ];
  const named = EventsFlag.Account;
  assert.deepEqual(
    published.map((p) => [p.topic, ...read(p.frame)]),
    [
      [plain1, 0, 0, 1, 4],
      [named1, named, 1, 1, 4],
      [named4, named, 4, 1, 4],
      [named4, named, 4, 4, 0], // the taker's side: the maker hidden
      [plain1, 0, 0, 0, 1], // the maker's side
      [named1, named, 1, 0, 1],
    ],
  );
});

test('an account topic left by each session that joined it gets nothing more', () => {
  const { app, published } = fakeApp([]);
  const topics = new Topics(app);
  topics.accountJoined(1, true);
  topics.accountJoined(1, true); // two sessions
  topics.accountLeft(1, true);
  topics.publish(records([[EventKind.Deposited, 1, 0]]), 0, 1);
  assert.equal(published.length, 1, 'one session still holds it');
  topics.accountLeft(1, true);
  topics.publish(records([[EventKind.Deposited, 1, 0]]), 0, 1);
  assert.equal(published.length, 1);
  assert.throws(() => topics.accountLeft(1, true), /leaves an account topic it joined/);
});

test("topics name their stream, form and id: none is another stream's", () => {
  assert.notDeepEqual(accountTopic(1, false), accountTopic(1, true));
  assert.notDeepEqual(accountTopic(1, true), accountTopic(2, true));
  assert.equal(accountTopic(2 ** 53 - 1, true).byteLength, 9);
  assert.notDeepEqual(tradesTopic(3), tradesTopic(4));
  assert.notDeepEqual(tradesTopic(3), accountTopic(3, false));
  assert.equal(tradesTopic(2 ** 32 - 1).byteLength, 9);
});

/** Trades of `instrument` (its `ref`), sequences from 1. */
function trades(instruments: number[]): RecordBuffer {
  const r = records(instruments.map(() => [EventKind.Trade, 4, 1]));
  instruments.forEach((instrument, i) => (r.u32[i * EventWord.size + EventWord.ref] = instrument));
  return r;
}

test("a trade goes to its instrument's topic while a session holds it; uWS asked nothing", () => {
  const { app, published, key, asked } = fakeApp([]);
  const topics = new Topics(app);
  topics.tradesJoined(1);
  topics.tradesJoined(1); // two sessions
  topics.publish(trades([1, 2, 1]), 0, 3); // no one holds instrument 2's topic
  assert.deepEqual(
    published.map((p) => p.topic),
    [key(tradesTopic(1)), key(tradesTopic(1))],
  );
  const frame = published[0].frame;
  assert.equal(frame.readUInt32LE(4), topicRequestId(StreamKind.Trades));
  const at = frameHeaderBytes + 8;
  assert.equal(frame.byteLength, at + eventSizeBytes);
  assert.equal(frame.readUInt32LE(at + EventOffset.account), 0, 'neither side named');
  assert.equal(frame.readUInt32LE(at + EventOffset.counterparty), 0);
  topics.tradesLeft(1);
  assert.equal(topics.tradesHeld(1), 1, 'one session still holds it');
  topics.tradesLeft(1);
  assert.equal(topics.tradesHeld(1), 0);
  topics.publish(trades([1, 2]), 0, 2);
  assert.equal(published.length, 2, 'left by both: nothing more');
  assert.deepEqual(asked, [], 'no topic looked up in uWS');
  assert.throws(() => topics.tradesLeft(1), /leaves a trades topic it joined/);
});
