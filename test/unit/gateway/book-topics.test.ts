/**
 * BookTopics publishes a book's views to its depth and top of book topics while a session holds
 * them (counted in on Subscribe, out on leaving), the frames byte for byte those of
 * `bookFrame`, and keeps the last of each for the next subscriber.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BookTopics, depthTopic, topTopic, type StateReads } from '../../../src/gateway/reads.js';
import type { TemplatedApp, WebSocket } from '../../../src/gateway/uws.js';
import { bookFrame } from '../../../src/protocol/book-frame.js';
import { StreamKind } from '../../../src/protocol/frames.js';
import { bookDepthLevels } from '../../../src/constants.js';

type Listener = (i: number, sequence: number, levels: Float64Array, halted: boolean) => void;

const hex = (t: string | ArrayBufferView): string =>
  typeof t === 'string' ? t : Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('hex');

/** An app that records what was published (copied: buffers are reused) and lookups asked. */
function fakeApp() {
  const published: { topic: string; frame: string }[] = [];
  const asked: string[] = [];
  const app = {
    numSubscribers: (t: string | Uint8Array) => (asked.push(hex(t)), 1),
    publish: (t: string | Uint8Array, message: Uint8Array) => {
      published.push({ topic: hex(t), frame: hex(message) });
      return true;
    },
  };
  return { app: app as unknown as TemplatedApp, published, asked };
}

function fakeReads() {
  const listeners: Listener[] = [];
  const reads = {
    instrumentCountMax: 16,
    query: () => Promise.reject(new Error('no queries here')),
    watchBook: () => {},
    onBook: (l: Listener) => listeners.push(l),
  };
  const view: Listener = (...a) => listeners.forEach((l) => l(...a));
  return { reads: reads as unknown as StateReads, view };
}

/** A socket holding topics, and what it was sent. */
function fakeWs() {
  const held = new Set<string>();
  const sent: string[] = [];
  const ws = {
    isSubscribed: (t: Uint8Array) => held.has(hex(t)),
    subscribe: (t: Uint8Array) => (held.add(hex(t)), true),
    unsubscribe: (t: Uint8Array) => held.delete(hex(t)),
    send: (m: Uint8Array) => (sent.push(hex(m)), 1),
  };
  return { ws: ws as unknown as WebSocket<unknown>, sent };
}

/** bookLevels: bid and ask counts, then [price, quantity, orders] per level. */
function levels(bids: number[], asks: number[]): Float64Array {
  const l = [bids.length, asks.length];
  for (const p of [...bids, ...asks]) l.push(p, p * 10, 1);
  return new Float64Array(l);
}

const frame = (kind: StreamKind, i: number, seq: number, l: Float64Array, depth: number) =>
  hex(bookFrame(kind, { instrument: i, sequence: seq, levels: l, halted: false }, depth));

test("a book's views go to its held topics, as bookFrame writes them; none once left", () => {
  const { app, published, asked } = fakeApp();
  const { reads, view } = fakeReads();
  const books = new BookTopics(app, reads);
  const a = fakeWs();
  const b = fakeWs();
  assert.equal(books.subscribe(a.ws, StreamKind.Depth, 3), true);
  assert.equal(books.subscribe(a.ws, StreamKind.Depth, 3), false, 'held already: once');
  assert.equal(books.subscribe(b.ws, StreamKind.TopOfBook, 3), true);
  const deep = levels(
    Array.from({ length: bookDepthLevels + 5 }, (_, i) => 100 - i),
    [101, 102],
  );
  view(3, 7, deep, false);
  view(4, 8, deep, false); // no one holds instrument 4's topics
  view(3, 9, deep, false); // the same best levels: depth only
  view(3, 10, levels([99], [101]), false);
  const [d3, t3] = [hex(depthTopic(3)), hex(topTopic(3))];
  assert.deepEqual(published, [
    { topic: d3, frame: frame(StreamKind.Depth, 3, 7, deep, bookDepthLevels) },
    { topic: t3, frame: frame(StreamKind.TopOfBook, 3, 7, deep, 1) },
    { topic: d3, frame: frame(StreamKind.Depth, 3, 9, deep, bookDepthLevels) },
    { topic: d3, frame: frame(StreamKind.Depth, 3, 10, levels([99], [101]), bookDepthLevels) },
    { topic: t3, frame: frame(StreamKind.TopOfBook, 3, 10, levels([99], [101]), 1) },
  ]);
  const c = fakeWs();
  books.subscribe(c.ws, StreamKind.TopOfBook, 4); // the last view, at once
  assert.deepEqual(c.sent, [frame(StreamKind.TopOfBook, 4, 8, deep, 1)]);
  books.left(StreamKind.Depth, 3);
  books.left(StreamKind.TopOfBook, 3);
  books.left(StreamKind.TopOfBook, 4);
  assert.equal(books.held(StreamKind.Depth, 3), 0);
  const before = published.length;
  view(3, 11, levels([98], [101]), false);
  assert.equal(published.length, before, 'left by all: nothing published');
  assert.deepEqual(asked, [], 'no topic looked up in uWS');
  assert.throws(() => books.left(StreamKind.Depth, 3), /leaves a book topic it joined/);
});
