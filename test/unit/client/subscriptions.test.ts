import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Delivered, Subscriptions, topicHandler } from '../../../src/client/subscriptions.js';
import { StreamKind } from '../../../src/protocol/frames.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

const events = (...sequences: number[]): EventRecord[] =>
  sequences.map((sequence, i) => ({ sequence, clientSeq: i }) as unknown as EventRecord);

test('a journal subscription resumes at its last sequence and skips what it had of it', () => {
  const subs = new Subscriptions();
  const seen: number[] = [];
  subs.addJournal(
    7,
    5,
    (batch) => seen.push(...batch.map((e) => e.sequence)),
    () => {},
  );
  assert.equal(subs.isJournal(7), true);
  subs.deliver(7, events(5, 6, 6)); // a command's events share its sequence: 6 has more
  const asked: [number, number][] = [];
  let nextId = 100;
  subs.resume((kind, param) => (asked.push([kind, param]), nextId++));
  assert.deepEqual(asked, [[1, 6]], 'the journal again, from its last sequence');
  assert.equal(subs.isJournal(7), false, 'the old request id is gone');
  subs.deliver(100, events(6, 6)); // the two of 6 it had: skipped
  subs.deliver(100, events(6, 7, 8)); // the third of 6 is new
  assert.deepEqual(seen, [5, 6, 6, 6, 7, 8], 'every event once, in order');
  subs.resume(() => nextId++);
  subs.deliver(101, events(8, 9)); // resumed at 8 again, one of it seen: skips one
  assert.deepEqual(seen.slice(-1), [9]);
});

test('topic and book subscriptions are asked for again; a refused one is not', () => {
  const subs = new Subscriptions();
  const refused: string[] = [];
  subs.addAsk(1, 3, 42, (e) => refused.push(`account: ${e.message}`));
  subs.addAsk(2, 4, 9, (e) => refused.push(`book: ${e.message}`));
  assert.equal(subs.refuse(2, new Error('no such book')), true);
  assert.equal(subs.refuse(99, new Error('not ours')), false, 'a frame that is no subscription');
  assert.deepEqual(refused, ['book: no such book']);
  const asked: [number, number][] = [];
  subs.resume((kind, param) => (asked.push([kind, param]), 50));
  assert.deepEqual(asked, [[3, 42]], 'the account stream only');
  assert.equal(subs.refuse(50, new Error('not your account')), true, 'known by its new id');
  assert.deepEqual(refused, ['book: no such book', 'account: not your account']);
});

test('a refusal handler that throws is a process warning, not a throw from the socket', () => {
  const subs = new Subscriptions();
  subs.addAsk(3, 3, 42, () => {
    throw new TypeError('handler bug');
  });
  const warnings: string[] = [];
  const emit = process.emitWarning;
  process.emitWarning = ((w: string) => void warnings.push(w)) as typeof process.emitWarning;
  try {
    assert.equal(subs.refuse(3, new Error('not your account')), true);
  } finally {
    process.emitWarning = emit;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /onError threw: TypeError: handler bug \(on not your account\)/);
});

/** Runs `body` with process warnings caught: their texts. */
function warningsOf(body: () => void): string[] {
  const warnings: string[] = [];
  const emit = process.emitWarning;
  process.emitWarning = ((w: string) => void warnings.push(w)) as typeof process.emitWarning;
  try {
    body();
  } finally {
    process.emitWarning = emit;
  }
  return warnings;
}

test('a throwing events handler is a warning; what it was handed is not handed again', () => {
  const subs = new Subscriptions();
  const heard: number[] = [];
  subs.addJournal(
    7,
    5,
    (batch) => {
      heard.push(...batch.map((e) => e.sequence));
      throw new Error('bug');
    },
    () => {},
  );
  const trades = (e: EventRecord[]) => e.map((x) => ({ ...x, ref: 2 }) as EventRecord);
  let connection = 0;
  const onTrades = topicHandler(
    StreamKind.Trades,
    2,
    (batch) => {
      heard.push(...batch.map((e) => -e.sequence));
      throw new Error('bug');
    },
    new Delivered(),
    () => connection,
  );
  const warnings = warningsOf(() => {
    subs.deliver(7, events(5, 6));
    onTrades(trades(events(5, 6)));
    subs.resume(() => 8);
    connection = 1; // a reconnect: the streams start again inside what was handed over
    subs.deliver(8, events(6, 7));
    onTrades(trades(events(6, 7)));
  });
  assert.deepEqual(heard, [5, 6, -5, -6, 7, -7], 'each once, the throws notwithstanding');
  assert.equal(warnings.length, 4);
  assert.match(warnings[0], /onEvents threw: Error: bug \(on the journal stream from sequence 5\)/);
  assert.match(warnings[1], /onEvents threw: Error: bug \(on the trades of instrument 2\)/);
});

test('account streams resume from their last sequence; a trades stream of that id does not', () => {
  const subs = new Subscriptions();
  const kept = new Delivered();
  const fresh = new Delivered();
  subs.addAsk(1, StreamKind.Account, 2, () => {}, kept, 10);
  subs.addAsk(2, StreamKind.Trades, 2, () => {}, new Delivered());
  subs.addAsk(3, StreamKind.Account, 5, () => {}, fresh, 30);
  subs.addAsk(4, StreamKind.Account, 2, () => {}, new Delivered(), 12); // delivered none
  kept.fresh(40, 0);
  const asked: (number | undefined)[][] = [];
  let id = 10;
  const gaps = subs.resume((kind, param, from) => (asked.push([kind, param, from]), id++), 35);
  assert.deepEqual(asked, [
    [StreamKind.Account, 2, 12], // the least of account 2's: its second delivered none
    [StreamKind.Trades, 2, undefined],
    [StreamKind.Account, 5, 30], // none delivered: its floor
    [StreamKind.Account, 2, 12],
  ]);
  assert.deepEqual(gaps, [{ stream: 'trades', id: 2, afterSequence: -1 }]);
  asked.length = 0;
  subs.resume((kind, param, from) => (asked.push([kind, param, from]), id++), 20);
  assert.deepEqual(asked[2], [StreamKind.Account, 5, 21], 'never past the new durable + 1');
});
