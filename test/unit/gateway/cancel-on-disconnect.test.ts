/**
 * CancelOnDisconnect without a node: which sessions take the flag, which closes are losses, and
 * how a lost client's CancelClientOrders rounds follow their AllCanceled answers (other_id, the
 * first round's sequence, a full ring, a refusal, a second loss while a chain is under way).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelOnDisconnect,
  type CancelFields,
} from '../../../src/gateway/cancel-on-disconnect.js';
import type { CommandSink } from '../../../src/gateway/gateway.js';
import { cancelOnDisconnectPendingMax } from '../../../src/constants.js';
import { CommandKind, CommandWord, SequencedWord } from '../../../src/protocol/command-layout.js';
import { disconnectClientId } from '../../../src/protocol/command-writer.js';
import { EventFlag, EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { HelloFlag } from '../../../src/protocol/frames.js';
import { Status } from '../../../src/protocol/status.js';
import { readU64, RecordBuffer, write64 } from '../../../src/stdx/records.js';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { buy, market } from '../../harness/fixtures.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

/**
 * An input ring's producer side that records what was written; `room` slots are free. The
 * marks (SetCancelOnDisconnect) are set apart in `marks`, [client, on] each: `written` and
 * `command(i)` count the rounds only.
 */
class FakeSink {
  readonly records = RecordBuffer.allocate(64, SequencedWord.size * 4);
  readonly ring = { records: this.records } as unknown as CommandSink['ring'];
  readonly marks: number[][] = [];
  room = 64;
  written = 0;
  published = 0;
  hasRoom(n: number): boolean {
    return n <= this.room;
  }
  claim(): number {
    return this.written * SequencedWord.size;
  }
  commit(): void {
    const u32 = this.records.u32;
    const w = this.written * SequencedWord.size;
    if ((u32[w + CommandWord.bits] & 0xff) === CommandKind.SetCancelOnDisconnect) {
      this.marks.push([u32[w + CommandWord.ref], readU64(u32, w + CommandWord.aux)]);
      return; // the next command takes its slot
    }
    this.written++;
    this.room--;
  }
  publish(): void {
    this.published = this.written;
  }
  /** The i-th command written, a CancelClientOrders: [client, target, aux]. */
  command(i: number): number[] {
    const u32 = this.records.u32;
    const w = i * SequencedWord.size;
    assert.equal(u32[w + CommandWord.clientId], disconnectClientId);
    assert.equal(u32[w + CommandWord.bits] & 0xff, CommandKind.CancelClientOrders);
    assert.equal(readU64(u32, w + CommandWord.account), 0);
    return [
      u32[w + CommandWord.ref],
      ...[CommandWord.target, CommandWord.aux].map((f) => readU64(u32, w + f)),
    ];
  }
  clientSeq(i: number): number {
    return readU64(this.records.u32, i * SequencedWord.size + CommandWord.clientSeq);
  }
}

function setUp(accepting = () => true, seqFloor = () => 0) {
  const sink = new FakeSink();
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
  };
  const cancels = new CancelOnDisconnect(sink as unknown as CommandSink, accepting, log, seqFloor);
  return { sink, lines, cancels };
}

test("rounds go above the engine's last seq for the system client, past a clock behind it", () => {
  // A new primary whose clock is an hour behind the old one's last round.
  const ahead = Math.floor(Date.now() * 1000) + 3_600_000_000;
  const { sink, cancels } = setUp(
    () => true,
    () => ahead,
  );
  cancels.closed(asking(cancels), 7, 1006);
  assert.deepEqual(sink.marks, [[7, 1]], 'the login marked client 7 (seq ahead + 1)');
  assert.equal(sink.clientSeq(0), ahead + 2);
});

/** A logged-in command session that asked to cancel on disconnect. */
function asking(cancels: CancelOnDisconnect): CancelFields {
  const session = {
    cancelOnDisconnect: false,
    helloFlags: HelloFlag.CancelOnDisconnect,
    readOnly: false,
  };
  assert.equal(cancels.opened(session, 7), HelloFlag.CancelOnDisconnect, 'Welcome says it took it');
  return session;
}

/** The head event of the round with `clientSeq`: AllCanceled (or `kind`) at `sequence`. */
function answer(clientSeq: number, sequence: number, canceled: number, otherId: number, kind = 0) {
  const events = RecordBuffer.allocate(2, EventWord.size * 4);
  const u32 = events.u32;
  write64(u32, EventWord.sequence, sequence);
  write64(u32, EventWord.clientSeq, clientSeq);
  u32[EventWord.clientId] = disconnectClientId;
  const status = kind === 0 ? Status.Ok : Status.CommandIdInvalid;
  u32[EventWord.kindStatus] = (kind || EventKind.AllCanceled) | (status << 16);
  u32[EventWord.flagsTifStp] = EventFlag.Head;
  write64(u32, EventWord.quantity, canceled);
  write64(u32, EventWord.otherId, otherId);
  // An OrderCanceled of the round after it (not a head: passed over).
  u32.copyWithin(EventWord.size, 0, EventWord.size);
  u32[EventWord.size + EventWord.kindStatus] = EventKind.OrderCanceled;
  u32[EventWord.size + EventWord.flagsTifStp] = 0;
  return events;
}

test('a command session takes the flag; a read-only one, or one without it, does not', () => {
  const { sink, cancels } = setUp();
  const off = { cancelOnDisconnect: false, helloFlags: 0, readOnly: false };
  assert.equal(cancels.opened(off, 7), 0, 'not asked');
  assert.equal(off.cancelOnDisconnect, false);
  cancels.closed(off, 7, 1006);
  const reader = { ...off, helloFlags: HelloFlag.CancelOnDisconnect, readOnly: true };
  assert.equal(cancels.opened(reader, 7), 0, 'a read-only session does not take it');
  cancels.closed(reader, 7, 1006);
  assert.equal(sink.written, 0, 'neither cancels anything');
});

test("a loss sends a round for the session's client; a clean close, stop or standby none", () => {
  const { sink, lines, cancels } = setUp();
  cancels.closed(asking(cancels), 7, 1000);
  assert.equal(sink.written, 0, "the client's own close(1000) cancels nothing");

  const lost = asking(cancels);
  cancels.closed(lost, 7, 4008); // closed by the server for reading slowly: a loss
  assert.deepEqual(sink.command(0), [7, 0, 0], 'every order of client 7, from its oldest');
  assert.equal(lost.cancelOnDisconnect, false, 'a session is lost once');
  cancels.closed(lost, 7, 1006);
  assert.equal(sink.written, 1);
  assert.equal(sink.published, 1, 'published');
  assert.ok(sink.clientSeq(0) >= Math.floor(Date.now() * 1000) - 10_000_000, 'from the clock');
  assert.match(lines[0], /client 7: session lost \(close 4008\); canceling the resting orders/);
  assert.equal(cancels.counts.sessions, 1);
  cancels.closed(asking(cancels), 8, 1006);
  assert.deepEqual(sink.command(1), [8, 0, 0], "another client's chain beside it");
  assert.ok(sink.clientSeq(1) > sink.clientSeq(0), 'seqs rise');

  let primary = false;
  const standby = setUp(() => primary);
  standby.cancels.closed(asking(standby.cancels), 8, 1006);
  assert.equal(standby.sink.written, 0, 'a node that does not take commands sends none');
  assert.equal(standby.cancels.counts.dropped, 1);
  assert.match(standby.lines[0], /client 8: session lost; its orders not canceled/);
  primary = true;
  const stopping = asking(standby.cancels);
  standby.cancels.stop();
  standby.cancels.closed(stopping, 8, 1001);
  assert.equal(standby.sink.written, 0, 'the node stopping cancels nothing');
});

test('clients past the chains that may be under way are counted and said', () => {
  const { sink, lines, cancels } = setUp();
  sink.room = 0; // nothing leaves: every chain stays under way
  for (let client = 1; client <= cancelOnDisconnectPendingMax + 2; client++) {
    cancels.closed(asking(cancels), client, 1006);
  }
  assert.equal(cancels.pendingCount(), cancelOnDisconnectPendingMax);
  assert.equal(cancels.counts.dropped, 2);
  assert.match(lines.at(-1)!, /client 65538: not canceled: 65536 clients' cancels are under way/);
  cancels.stop();
});

test('rounds follow other_id until 0, and stop at orders placed after the first round', () => {
  const { sink, cancels } = setUp();
  cancels.closed(asking(cancels), 7, 1006);
  cancels.closed(asking(cancels), 8, 1006);
  const [seq1, seq2] = [sink.clientSeq(0), sink.clientSeq(1)];
  // Client 7: 64 canceled, go on from order 500 (before the round's sequence, 900).
  cancels.deliver(answer(seq1, 900, 64, 500), 0, 2);
  assert.deepEqual(sink.command(2), [7, 500, 900], 'the next round goes on from other_id');
  // Client 8: go on from 950, an order placed after the first round (900): a re-quote.
  cancels.deliver(answer(seq2, 901, 3, 950), 0, 2);
  assert.equal(sink.written, 3, 'orders after the loss stay');
  cancels.deliver(answer(sink.clientSeq(2), 960, 10, 955), 0, 2);
  assert.equal(sink.written, 3, "past the first round's sequence: done");
  assert.equal(cancels.pendingCount(), 0);
  assert.deepEqual([cancels.counts.rounds, cancels.counts.orders], [3, 77]);
  cancels.deliver(answer(seq1, 900, 64, 500), 0, 2);
  assert.equal(sink.written, 3, 'an answer not awaited is passed over');
});

/** The engine decides round `i` as written to the ring; its answer goes back. */
function decide(d: EngineDriver, sink: FakeSink, cancels: CancelOnDisconnect, i: number) {
  const events = d.executeRaw(sink.records.u32, i * SequencedWord.size);
  cancels.deliver(d.out, 0, events.length);
  return events;
}

const canceledIds = (events: EventRecord[]): number[] =>
  events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id);

test("a lost client's orders go, another client's on the same account stay", () => {
  const d = market();
  const { sink, cancels } = setUp();
  const session = asking(cancels);
  d.clientId = 31;
  const mine = [buy(d, 10, 490, 10)[0].id, buy(d, 11, 485, 10)[0].id];
  d.clientId = 32; // another trader on account 10, and an admin's quote there
  const theirs = [buy(d, 10, 480, 10)[0].id];
  d.clientId = 33;
  theirs.push(buy(d, 10, 475, 10)[0].id);
  cancels.closed(session, 31, 1006);
  assert.deepEqual(canceledIds(decide(d, sink, cancels, 0)), mine, 'on either account');
  for (const id of theirs) assert.notEqual(d.engine.orders.slotOf(id), -1, 'others rest');
  assert.equal(sink.written, 1);
  assert.equal(cancels.pendingCount(), 0);
});

test('a later round leaves the orders placed after the first round (a re-quote)', () => {
  // Two cancels a round: the three orders before the loss take two rounds.
  const d = market({ ...smallConfig, fillsPerCommandMax: 2 });
  const { sink, cancels } = setUp();
  const session = asking(cancels);
  const old = [490, 485, 480].map((price) => buy(d, 10, price, 10)[0].id);
  cancels.closed(session, d.clientId, 1006);
  assert.deepEqual(canceledIds(decide(d, sink, cancels, 0)), old.slice(0, 2));
  // The client came back and quoted again before the second round was sequenced.
  const requote = buy(d, 10, 495, 10)[0].id;
  assert.equal(sink.written, 2, 'a second round, from the third order');
  const second = decide(d, sink, cancels, 1);
  assert.deepEqual(canceledIds(second), [old[2]], 'only the orders from before the loss');
  assert.equal(second[0].otherId, 0, 'none remain from before the first round');
  assert.notEqual(d.engine.orders.slotOf(requote), -1, 'the re-quote rests');
  assert.equal(sink.written, 2);
  assert.equal(cancels.pendingCount(), 0);
});

test('a full ring waits, a refusal ends a chain, a second loss starts a new one', async () => {
  const { sink, lines, cancels } = setUp();
  sink.room = 0;
  cancels.closed(asking(cancels), 7, 1006);
  assert.equal(sink.written, 0, 'no room');
  sink.room = 8;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sink.written, 1, 'sent once the ring had room');

  cancels.closed(asking(cancels), 7, 1006);
  assert.equal(sink.written, 1, 'one round of a client in the ring at a time');
  cancels.deliver(answer(sink.clientSeq(0), 100, 2, 0), 0, 2);
  assert.deepEqual(sink.command(1), [7, 0, 0], "the second loss's chain, from the oldest");
  const refusal = answer(sink.clientSeq(1), 200, 0, 0, EventKind.Rejected);
  cancels.deliver(refusal, 0, 2);
  assert.equal(cancels.pendingCount(), 0);
  assert.match(lines.at(-1)!, /client 7: refused \(CommandIdInvalid\)/);
  cancels.stop();
});

test('a loss cancels every order of a client, however many rounds that takes', () => {
  // 1,100 full rounds (1,024 each), then the last: a client holding more than a million
  // orders (--orders-max 2M). At most 1,024 rounds were sent, and the rest stayed resting.
  const { sink, lines, cancels } = setUp();
  const session = asking(cancels);
  cancels.closed(session, 7, 1006);
  const bound = 5_000_000; // the first round's sequence
  let sent = 1;
  for (let round = 0; round < 1_100 && sink.written === 1; round++, sent++) {
    const seq = sink.clientSeq(0);
    [sink.written, sink.room] = [0, 64]; // the ring took the round
    cancels.deliver(answer(seq, bound + round, 1_024, 1 + (round + 1) * 1_024), 0, 2);
  }
  assert.equal(sent, 1_101, 'a round after each answer naming orders left');
  assert.deepEqual(sink.command(0), [7, 1 + 1_100 * 1_024, bound]);
  cancels.deliver(answer(sink.clientSeq(0), bound + 1_100, 5, 0), 0, 2);
  assert.equal(cancels.pendingCount(), 0);
  assert.deepEqual([cancels.counts.rounds, cancels.counts.orders], [1_101, 1_100 * 1_024 + 5]);
  assert.ok(!lines.some((line) => line.includes('stopped')), lines.join('\n'));
});

test('a round that canceled nothing yet names orders left ends the chain, logged', () => {
  const { sink, lines, cancels } = setUp();
  const session = asking(cancels);
  cancels.closed(session, 7, 1006);
  cancels.deliver(answer(sink.clientSeq(0), 900, 0, 500), 0, 2);
  assert.equal(sink.written, 1, 'no further round');
  assert.equal(cancels.pendingCount(), 0);
  assert.match(
    lines.at(-1)!,
    /client 7: stopped \(a round canceled none, orders remain from 500\)/,
  );
});
