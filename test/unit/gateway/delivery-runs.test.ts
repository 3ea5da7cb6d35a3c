import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryRuns, type Corkable } from '../../../src/gateway/delivery-runs.js';
import { eventSizeBytes, eventsPerFrameMax } from '../../../src/constants.js';
import { EventFlag, EventWord } from '../../../src/protocol/event-layout.js';
import { RecordBuffer } from '../../../src/stdx/records.js';

/** A session's socket that logs each send with the cork it was made in (0: none). */
class FakeSocket implements Corkable {
  corks = 0;
  private corked = 0;
  constructor(
    readonly id: number,
    readonly log: string[],
  ) {}
  cork(cb: () => void): this {
    this.corks++;
    this.corked = this.corks;
    cb();
    this.corked = 0;
    return this;
  }
  note(from: number, count: number, more: boolean): void {
    this.log.push(`${this.id}:${from}+${count}${more ? 'M' : ''} cork ${this.corked}`);
  }
}

/** Events for clients `ids` in ring order, each a command's head unless `tail` marks it. */
function events(ids: number[], tail: (i: number) => boolean = () => false): RecordBuffer {
  const records = RecordBuffer.allocate(ids.length, eventSizeBytes);
  ids.forEach((id, i) => {
    records.u32[i * EventWord.size + EventWord.clientId] = id;
    records.u32[i * EventWord.size + EventWord.flagsTifStp] = tail(i) ? 0 : EventFlag.Head;
  });
  return records;
}

function setup(capacity: number, ids: number[]) {
  const log: string[] = [];
  const sockets = new Map(ids.map((id) => [id, new FakeSocket(id, log)]));
  const runs = new DeliveryRuns<FakeSocket>(
    capacity,
    (id) => sockets.get(id),
    (ws, _records, from, count, more) => ws.note(from, count, more),
  );
  return { log, sockets, runs };
}

test("a delivery's interleaved runs go out session by session, each corked once, in order", () => {
  const { log, sockets, runs } = setup(16, [7, 9]);
  // 7 7 9 9 9 7 9 7: runs 7@0+2, 9@2+3, 7@5+1, 9@6+1, 7@7+1.
  runs.deliver(events([7, 7, 9, 9, 9, 7, 9, 7]), 0, 8);
  assert.deepEqual(log, [
    '7:0+2 cork 1',
    '7:5+1 cork 1',
    '7:7+1 cork 1',
    '9:2+3 cork 1',
    '9:6+1 cork 1',
  ]);
  assert.equal(sockets.get(7)?.corks, 1, "one write for all of 7's frames");
  assert.equal(sockets.get(9)?.corks, 1);
  assert.equal(runs.length, 0, 'nothing held after the delivery');
});

test('events of no session (client 0, or gone) are skipped; a run is cut at a frame', () => {
  const { log, runs } = setup(16, [7]);
  const n = eventsPerFrameMax + 2;
  const ids = [0, 5, ...Array(n).fill(7)];
  // The event after the frame's cut is not a head: the frame before says More.
  runs.deliver(
    events(ids, (i) => i === 2 + eventsPerFrameMax),
    0,
    ids.length,
  );
  assert.deepEqual(log, [
    `7:2+${eventsPerFrameMax}M cork 1`,
    `7:${2 + eventsPerFrameMax}+2 cork 1`,
  ]);
});

test('past its capacity it sends what it holds and goes on, each session in order', () => {
  const { log, runs } = setup(2, [7, 9]);
  runs.deliver(events([7, 9, 7, 9, 7]), 0, 5);
  // Rounds of two runs: (7@0, 9@1), (7@2, 9@3), (7@4).
  assert.deepEqual(log, [
    '7:0+1 cork 1',
    '9:1+1 cork 1',
    '7:2+1 cork 2',
    '9:3+1 cork 2',
    '7:4+1 cork 3',
  ]);
});

test('a session closed by one of its sends gets no more of them', () => {
  const log: string[] = [];
  const sockets = new Map([[7, new FakeSocket(7, log)]]);
  const runs = new DeliveryRuns<FakeSocket>(
    16,
    (id) => sockets.get(id),
    (ws, _records, from, count, more) => {
      ws.note(from, count, more);
      sockets.delete(ws.id); // too slow: closed (uWS runs the close handler at once)
    },
  );
  runs.deliver(events([7, 9, 7]), 0, 3);
  assert.deepEqual(log, ['7:0+1 cork 1']);
});

test('many clients in one round are each linked to their own runs', () => {
  const ids = Array.from({ length: 600 }, (_, i) => 1 + (i % 300) * 977);
  const { log, runs } = setup(1_024, [...new Set(ids)]);
  runs.deliver(events(ids), 0, ids.length);
  assert.equal(log.length, 600);
  for (let c = 0; c < 300; c++) {
    const id = 1 + c * 977;
    assert.deepEqual(
      log.filter((line) => line.startsWith(`${id}:`)),
      [`${id}:${c}+1 cork 1`, `${id}:${c + 300}+1 cork 1`],
    );
  }
});
