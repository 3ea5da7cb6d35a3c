/**
 * Journal subscriptions catching up share one budget per turn of the event loop. Each
 * subscriber read and sent all its socket took in one go: 1,024 subscriptions from sequence 1
 * on one admin session sent 7 GB in 10 s and held the gateway's thread (a hostile-input audit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventSizeBytes, journalCatchUpEventsPerTurnMax } from '../../../src/constants.js';
import { JournalStreams, journalPollMs } from '../../../src/gateway/journal-stream.js';
import { CatchUpTurns } from '../../../src/gateway/catch-up-turns.js';
import type { WebSocket } from '../../../src/gateway/uws.js';
import { journalOf } from '../../harness/fake-journal.js';

/** A socket that always keeps up (nothing buffered): only the budget holds it back. */
function socket(id: number): WebSocket<number> {
  const ws = { getBufferedAmount: () => 0, end: () => {}, getUserData: () => id };
  return ws as unknown as WebSocket<number>;
}

test('catching up: bounded work per turn, every subscriber its whole stream in order', async () => {
  const length = 5_000;
  const subscriberCount = 40;
  const journal = journalOf(length);
  const received = new Map<WebSocket<number>, number[]>();
  let sent = 0;
  const streams = new JournalStreams<number>(
    journal,
    (ws, requestId, events, n) => {
      const words = new Uint32Array(events.buffer, events.byteOffset, events.byteLength / 4);
      const got = received.get(ws)!;
      for (let i = 0; i < n; i++) got.push(words[(i * eventSizeBytes) / 4]);
      sent += n;
    },
    new CatchUpTurns(journalPollMs),
  );
  // A tick of the event loop between turns: what a session's message or an HTTP request gets.
  const perTick: number[] = [];
  let seen = 0;
  const ticked = new Promise<void>((resolve) => {
    const tick = (): void => {
      perTick.push(sent - seen);
      seen = sent;
      const done = sent === length * subscriberCount;
      if (done || perTick.length >= 100_000) return resolve();
      setImmediate(tick);
    };
    setImmediate(tick);
  });
  const sockets = Array.from({ length: subscriberCount }, (_, i) => socket(i));
  for (const ws of sockets) received.set(ws, []);
  for (const ws of sockets) streams.subscribe(ws, 7, 1);
  assert.ok(sent <= journalCatchUpEventsPerTurnMax, `sent at once on subscribing: ${sent}`);
  await ticked;
  const most = Math.max(...perTick);
  assert.ok(most <= journalCatchUpEventsPerTurnMax, `events between two ticks: ${most}`);
  assert.ok(perTick.length > (length * subscriberCount) / journalCatchUpEventsPerTurnMax);
  for (const ws of sockets) {
    const got = received.get(ws)!;
    assert.equal(got.length, length, 'every event');
    assert.ok(
      got.every((sequence, i) => sequence === i + 1),
      'in order',
    );
    assert.ok(streams.has(ws, 7), 'and it follows live now');
  }
  assert.equal(journal.read, length * subscriberCount, 'each event read once per subscriber');
});

test('a closed subscriber is dropped from catching up; the others go on', async () => {
  const journal = journalOf(3_000);
  const counts = new Map<WebSocket<number>, number>();
  const streams = new JournalStreams<number>(
    journal,
    (ws, _requestId, _events, n) => counts.set(ws, (counts.get(ws) ?? 0) + n),
    new CatchUpTurns(journalPollMs),
  );
  const [a, b] = [socket(1), socket(2)];
  streams.subscribe(a, 1, 1);
  streams.subscribe(b, 1, 1);
  streams.drop(a);
  for (let i = 0; i < 1_000 && (counts.get(b) ?? 0) < 3_000; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(counts.get(a) ?? 0, 0, 'nothing to a closed socket');
  assert.equal(counts.get(b), 3_000);
  assert.equal(streams.has(a, 1), false);
});
