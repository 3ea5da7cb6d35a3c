/**
 * Book views cross from the read model (snapshot worker) to the gateway (main thread) through
 * the book board (src/pipeline/book-board.ts): a slot per instrument, a seqlock, a changed
 * mark, one notice a tick. Before it, each changed view crossed postMessage as an object with a
 * new Float64Array, and every watched book's view was built anew each tick to be compared:
 * the allocation test below failed on that code (~500 bytes a watched book a tick).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { BookBoard, viewWordsMax } from '../../../src/pipeline/book-board.js';
import { ReadClient } from '../../../src/pipeline/read-client.js';
import { ReadModel, type ReadRequest } from '../../../src/pipeline/read-model.js';
import type { Replica } from '../../../src/pipeline/replay.js';
import { bytesPerCall } from '../../harness/allocation.js';

const instruments = 8;
const perSide = 32;

/** A read model's replica whose books are set by hand: side s's levels, worst first. */
function fakeReplica(): { replica: Replica; setSide: (s: number, prices: number[]) => void } {
  const prices = new Float64Array(1024);
  const sideLevels = new Int32Array(instruments * 2 * perSide);
  const sideCount = new Int32Array(instruments * 2);
  let next = 0;
  const levels = {
    sideLevels,
    sideCount,
    perSide,
    price: (l: number) => prices[l],
    quantity: (l: number) => prices[l] * 10,
    orderCount: () => 1,
  };
  const engine = {
    levels,
    config: { instrumentCountMax: instruments },
    instruments: { halted: new Uint8Array(instruments) },
  };
  const replica = { sequence: 1, engine } as unknown as Replica;
  const setSide = (s: number, sidePrices: number[]): void => {
    sideCount[s] = sidePrices.length;
    sidePrices.forEach((p, i) => {
      prices[next] = p;
      sideLevels[s * perSide + i] = next++;
    });
  };
  return { replica, setSide };
}

/** A read model and a read client joined as the worker's port joins them (in order). */
function joined(replica: Replica) {
  const seen: { instrument: number; sequence: number; levels: number[]; halted: boolean }[] = [];
  let notices = 0;
  let toClient: (message: { type: string }) => void = () => {};
  const model = new ReadModel(replica, (message) => {
    notices++;
    toClient(structuredClone(message));
  });
  const worker = {
    on: (_: string, f: (message: { type: string }) => void) => (toClient = f),
    postMessage: (request: ReadRequest) => model.onMessage(structuredClone(request)),
  } as unknown as Worker;
  const client = new ReadClient(worker, instruments, () => 0);
  client.onBook((instrument, sequence, levels, halted) => {
    const n = 2 + (levels[0] + levels[1]) * 3;
    seen.push({ instrument, sequence, levels: Array.from(levels.subarray(0, n)), halted });
  });
  return { model, client, seen, notices: () => notices };
}

test('a changed view reaches the listener through the board, once; an unchanged one not', () => {
  const { replica, setSide } = fakeReplica();
  const { model, client, seen, notices } = joined(replica);
  client.watchBook(3);
  client.watchBook(3); // asked once
  model.publishBooks();
  assert.deepEqual(seen, [{ instrument: 3, sequence: 1, levels: [0, 0], halted: false }]);
  model.publishBooks();
  assert.equal(seen.length, 1, 'nothing changed: no view, no notice');
  assert.equal(notices(), 1);
  setSide(6, [99, 100]); // bids of instrument 3, best last
  setSide(7, [102, 101]);
  (replica as unknown as { sequence: number }).sequence = 5;
  model.publishBooks();
  const best = [2, 2, 100, 1000, 1, 99, 990, 1, 101, 1010, 1, 102, 1020, 1];
  assert.deepEqual(seen[1], { instrument: 3, sequence: 5, levels: best, halted: false });
  const halted = (replica.engine.instruments as unknown as { halted: Uint8Array }).halted;
  halted[3] = 1;
  model.publishBooks();
  assert.equal(seen[2].halted, true, 'a halt alone is a change');
  assert.equal(seen.length, 3);
  model.stop();
});

test('the board: a slot read while written is retried later; one writer only', () => {
  const board = new BookBoard(4);
  const view = new Float64Array([1, 0, 10, 5, 2]);
  const into = new Float64Array(viewWordsMax);
  assert.equal(board.takeChanged(2), false);
  board.write(2, 9, view, 5, true);
  assert.equal(board.takeChanged(2), true);
  assert.equal(board.takeChanged(2), false, 'taken');
  assert.equal(board.read(2, into), 9);
  assert.equal(board.halted, true);
  assert.deepEqual(Array.from(into.subarray(0, 5)), [1, 0, 10, 5, 2]);
  assert.equal(board.holds(2, view, 5, true), true);
  assert.equal(board.holds(2, view, 5, false), false);
  const control = new Int32Array(board.buffer, 0, 8);
  Atomics.add(control, 4, 1); // a writer in the middle of slot 2
  assert.equal(board.read(2, into), -1);
  assert.throws(() => board.write(2, 10, view, 5, false), /one writer/);
  const mapped = new BookBoard(4, board.buffer);
  assert.throws(() => new BookBoard(5, board.buffer), /board size/);
  assert.equal(mapped.instrumentCountMax, 4);
});

test('a tick of the read model allocates nothing, changed views or not', () => {
  const { replica, setSide } = fakeReplica();
  const { model, client } = joined(replica);
  const quiet = new ReadModel(replica, () => {});
  quiet.onMessage({
    type: 'board',
    buffer: new BookBoard(instruments).buffer,
    instrumentCountMax: instruments,
  });
  for (let i = 1; i < instruments; i++) {
    setSide(i * 2, [10, 11, 12]);
    setSide(i * 2 + 1, [14, 13]);
    client.watchBook(i);
    quiet.onMessage({ type: 'watch', instrument: i });
  }
  model.publishBooks();
  const halted = (replica.engine.instruments as unknown as { halted: Uint8Array }).halted;
  for (let i = 0; i < 5_000; i++) (quiet.publishBooks(), (halted[1] ^= 1)); // optimized
  assert.ok(bytesPerCall(() => quiet.publishBooks(), 1_000) < 16, 'unchanged');
  // Every tick a change (a halt, then not): written into the board, one notice (not cloned here).
  assert.ok(bytesPerCall(() => ((halted[1] ^= 1), quiet.publishBooks()), 1_000) < 16, 'changed');
  model.stop();
  quiet.stop();
});
