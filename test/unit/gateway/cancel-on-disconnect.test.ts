/**
 * CancelOnDisconnect without a node: the accounts a session notes (bounded), which closes are
 * losses, and how rounds follow their AllCanceled answers (other_id, the first round's
 * sequence, a full ring, a refusal, a second loss while a chain is under way).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelOnDisconnect,
  type CancelFields,
} from '../../../src/gateway/cancel-on-disconnect.js';
import type { CommandSink } from '../../../src/gateway/gateway.js';
import {
  cancelOnDisconnectAccountsMax,
  cancelOnDisconnectPendingMax,
} from '../../../src/constants.js';
import { CommandKind, CommandWord, SequencedWord } from '../../../src/protocol/command-layout.js';
import { disconnectClientId, writeCommand } from '../../../src/protocol/command-writer.js';
import { EventFlag, EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { BatchFault, HelloFlag, type BatchSpan } from '../../../src/protocol/frames.js';
import { Status } from '../../../src/protocol/status.js';
import { readU64, RecordBuffer, write64 } from '../../../src/stdx/records.js';
import { smallConfig } from '../../harness/engine-driver.js';
import { buy, market } from '../../harness/fixtures.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

/** An input ring's producer side that records what was written; `room` slots are free. */
class FakeSink {
  readonly records = RecordBuffer.allocate(64, SequencedWord.size * 4);
  readonly ring = { records: this.records } as unknown as CommandSink['ring'];
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
    this.written++;
    this.room--;
  }
  publish(): void {
    this.published = this.written;
  }
  /** The i-th command written: [account, target, ref, client seq]. */
  command(i: number): number[] {
    const u32 = this.records.u32;
    const w = i * SequencedWord.size;
    assert.equal(u32[w + CommandWord.clientId], disconnectClientId);
    assert.equal(u32[w + CommandWord.bits] & 0xff, CommandKind.CancelAll);
    return [CommandWord.account, CommandWord.target].map((f) => readU64(u32, w + f));
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
  const lost = asking(cancels);
  cancels.note(lost, ...frame([CommandKind.PlaceOrder, 1]));
  cancels.closed(lost, 7, 1006);
  assert.equal(sink.clientSeq(0), ahead + 1);
});

/** An admin key's grant (as every session's on a node without keys). */
const adminGrant = { admin: true, accounts: new Set<number>() };

/** A logged-in session that asked to cancel on disconnect (an admin key's by default). */
function asking(cancels: CancelOnDisconnect, grant = adminGrant): CancelFields {
  const session = {
    cancelAccounts: null,
    cancelGranted: null,
    helloFlags: HelloFlag.CancelOnDisconnect,
    readOnly: false,
    grant,
  };
  assert.equal(cancels.opened(session), HelloFlag.CancelOnDisconnect, 'Welcome says it took it');
  return session;
}

/** A frame body of commands (kind, account) (the span starts at byte 0). */
function frame(...commands: [number, number][]): [DataView, BatchSpan] {
  const u32 = new Uint32Array(commands.length * 16);
  commands.forEach(([kind, account], i) => {
    writeCommand(u32, i * 16, { kind, clientId: 9, clientSeq: i + 1, account });
  });
  return [new DataView(u32.buffer), { fault: BatchFault.None, start: 0, count: commands.length }];
}

/** The head event of the round with `clientSeq`: AllCanceled (or `kind`) at `sequence`. */
function answer(clientSeq: number, sequence: number, canceled: number, otherId: number, kind = 0) {
  const events = RecordBuffer.allocate(2, EventWord.size * 4);
  const u32 = events.u32;
  write64(u32, EventWord.sequence, sequence);
  write64(u32, EventWord.clientSeq, clientSeq);
  u32[EventWord.clientId] = disconnectClientId;
  const status = kind === 0 ? Status.Ok : Status.LedgerAccountUnknown;
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

test('a session notes the accounts it places or amends orders for, at most the bound', () => {
  const { cancels } = setUp();
  const off = {
    cancelAccounts: null,
    cancelGranted: null,
    helloFlags: 0,
    readOnly: false,
    grant: adminGrant,
  };
  assert.equal(cancels.opened(off), 0, 'not asked');
  assert.equal(cancels.note(off, ...frame([CommandKind.PlaceOrder, 1])), true);
  assert.equal(off.cancelAccounts, null, 'nothing noted without the flag');
  const reader = { ...off, helloFlags: HelloFlag.CancelOnDisconnect, readOnly: true };
  assert.equal(cancels.opened(reader), 0, 'a read-only session does not take it');

  const session = asking(cancels);
  const kinds = frame(
    [CommandKind.PlaceOrder, 1],
    [CommandKind.AmendOrder, 2],
    [CommandKind.CancelOrder, 3],
    [CommandKind.Transfer, 4],
    [CommandKind.CancelAll, 5],
    [CommandKind.PlaceOrder, 0],
    [CommandKind.PlaceOrder, 1],
  );
  assert.equal(cancels.note(session, ...kinds), true);
  assert.deepEqual([...session.cancelAccounts!], [1, 2], 'orders placed or amended only');

  const fill = Array.from({ length: cancelOnDisconnectAccountsMax - 2 }, (_, i) => i + 10);
  assert.equal(
    cancels.note(session, ...frame(...fill.map((a) => [12, a] as [number, number]))),
    true,
  );
  assert.equal(session.cancelAccounts!.size, cancelOnDisconnectAccountsMax);
  assert.equal(cancels.note(session, ...frame([CommandKind.PlaceOrder, 1])), true, 'known');
  assert.equal(cancels.note(session, ...frame([CommandKind.PlaceOrder, 999])), false, 'one more');
  const fresh = asking(cancels);
  const tooMany = fill
    .concat([1, 2, 3])
    .map((a) => [CommandKind.PlaceOrder, a] as [number, number]);
  assert.equal(cancels.note(fresh, ...frame(...tooMany)), false, 'a frame of one too many');
  assert.equal(fresh.cancelAccounts!.size, 0, 'a refused frame notes nothing');
  assert.equal(session.cancelAccounts!.size, cancelOnDisconnectAccountsMax, 'never past it');
});

test('a loss sends a round per account; a clean close, a stop or a standby sends none', () => {
  const { sink, lines, cancels } = setUp();
  const clean = asking(cancels);
  cancels.note(clean, ...frame([CommandKind.PlaceOrder, 1]));
  cancels.closed(clean, 7, 1000);
  assert.equal(sink.written, 0, "the client's own close(1000) cancels nothing");

  const empty = asking(cancels);
  cancels.closed(empty, 7, 1006);
  assert.equal(sink.written, 0, 'a session that placed nothing cancels nothing');

  const lost = asking(cancels);
  cancels.note(lost, ...frame([CommandKind.PlaceOrder, 1], [CommandKind.PlaceOrder, 2]));
  cancels.closed(lost, 7, 4008); // closed by the server for reading slowly: a loss
  assert.deepEqual(
    [sink.command(0), sink.command(1)],
    [
      [1, 0],
      [2, 0],
    ],
  );
  assert.equal(sink.published, 2, 'published');
  assert.ok(sink.clientSeq(1) > sink.clientSeq(0), 'seqs rise');
  assert.ok(sink.clientSeq(0) >= Math.floor(Date.now() * 1000) - 10_000_000, 'from the clock');
  assert.match(lines[0], /client 7: session lost \(close 4008\).* accounts 1, 2/);
  assert.equal(cancels.counts.sessions, 1);

  let primary = false;
  const standby = setUp(() => primary);
  const there = asking(standby.cancels);
  standby.cancels.note(there, ...frame([CommandKind.PlaceOrder, 1]));
  standby.cancels.closed(there, 8, 1006);
  assert.equal(standby.sink.written, 0, 'a node that does not take commands sends none');
  assert.equal(standby.cancels.counts.dropped, 1);
  assert.match(standby.lines[0], /not canceled/);
  primary = true;
  const stopping = asking(standby.cancels);
  standby.cancels.note(stopping, ...frame([CommandKind.PlaceOrder, 1]));
  standby.cancels.stop();
  standby.cancels.closed(stopping, 8, 1001);
  assert.equal(standby.sink.written, 0, 'the node stopping cancels nothing');
});

test("an account key's session covers every account it grants from Welcome", () => {
  const { sink, lines, cancels } = setUp();
  const key = { admin: false, accounts: new Set([3, 1, 2]) };
  // Orders kept through a node restart or a failover: this session names none of them.
  const kept = asking(cancels, key);
  assert.equal(cancels.note(kept, ...frame([CommandKind.Transfer, 4])), true);
  cancels.closed(kept, 7, 1006);
  assert.deepEqual(
    [0, 1, 2].map((i) => sink.command(i)),
    [
      [3, 0],
      [1, 0],
      [2, 0],
    ],
    'a round for each account of the key, none named',
  );
  assert.match(lines[0], /accounts 3, 1, 2 \(cancel on disconnect\)/);

  const quoting = asking(cancels, key);
  assert.equal(cancels.note(quoting, ...frame([CommandKind.PlaceOrder, 1])), true);
  assert.equal(quoting.cancelAccounts!.size, 0, 'nothing to note: its accounts are covered');
  cancels.closed(quoting, 7, 1000);
  assert.equal(sink.written, 3, 'its own close (1000) cancels nothing');

  const many = { admin: false, accounts: new Set(Array.from({ length: 100 }, (_, i) => i + 1)) };
  const broker = asking(cancels, many);
  const more = many.accounts.size - cancelOnDisconnectAccountsMax;
  assert.ok(more > 0, 'a key may grant more accounts than a session may name');
  cancels.closed(broker, 8, 1006);
  assert.equal(cancels.pendingCount(), 100, 'a chain for every one of them');
  assert.equal(sink.written, 64, 'as many rounds as the (fake) ring takes; the rest wait');
  assert.match(lines.at(-1)!, /accounts 1, 2, .*, 16 and 84 more \(cancel on disconnect\)/);
  cancels.stop();
});

test('accounts past the chains that may be under way are said in one line, not one each', () => {
  // A key may grant any number of accounts (a broker's); each loss of its session starts a
  // chain per account, at most cancelOnDisconnectPendingMax under way. The rest were an error
  // line each: 34,464 lines at one loss of a key granting 100,000 accounts.
  const { lines, cancels } = setUp();
  const n = cancelOnDisconnectPendingMax + 1_000;
  const key = { admin: false, accounts: new Set(Array.from({ length: n }, (_, i) => i + 1)) };
  cancels.closed(asking(cancels, key), 9, 1006);
  assert.equal(cancels.pendingCount(), cancelOnDisconnectPendingMax);
  assert.equal(cancels.counts.dropped, 1_000);
  assert.equal(lines.length, 2, 'the loss, and the accounts left');
  const first = cancelOnDisconnectPendingMax + 1;
  assert.ok(
    lines[1].startsWith(`cancel on disconnect: accounts ${first}, ${first + 1}, `),
    lines[1],
  );
  assert.match(lines[1], / and 984 more not canceled: 65536 accounts' cancels are under way$/);
  cancels.stop();
});

test('rounds follow other_id until 0, and stop at orders placed after the first round', () => {
  const { sink, cancels } = setUp();
  const session = asking(cancels);
  cancels.note(session, ...frame([CommandKind.PlaceOrder, 1], [CommandKind.PlaceOrder, 2]));
  cancels.closed(session, 7, 1006);
  const [seq1, seq2] = [sink.clientSeq(0), sink.clientSeq(1)];
  // Account 1: 64 canceled, go on from order 500 (before the round's sequence, 900).
  cancels.deliver(answer(seq1, 900, 64, 500), 0, 2);
  assert.deepEqual(sink.command(2), [1, 500], 'the next round goes on from other_id');
  // Account 2: go on from 950, an order placed after the first round (900): a re-quote.
  cancels.deliver(answer(seq2, 901, 3, 950), 0, 2);
  assert.equal(sink.written, 3, 'orders after the loss stay');
  cancels.deliver(answer(sink.clientSeq(2), 960, 10, 955), 0, 2);
  assert.equal(sink.written, 3, "past the first round's sequence: done");
  assert.equal(cancels.pendingCount(), 0);
  assert.deepEqual([cancels.counts.rounds, cancels.counts.orders], [3, 77]);
  cancels.deliver(answer(seq1, 900, 64, 500), 0, 2);
  assert.equal(sink.written, 3, 'an answer not awaited is passed over');
});

test('a later round leaves the orders placed after the first round (a re-quote)', () => {
  // Two cancels a round: the three orders before the loss take two rounds.
  const d = market({ ...smallConfig, fillsPerCommandMax: 2 });
  const { sink, cancels } = setUp();
  const session = asking(cancels);
  cancels.note(session, ...frame([CommandKind.PlaceOrder, 10]));
  const old = [490, 485, 480].map((price) => buy(d, 10, price, 10)[0].id);
  cancels.closed(session, 7, 1006);
  /** The engine decides round `i` as written to the ring; its answer goes back. */
  const round = (i: number): EventRecord[] => {
    const events = d.executeRaw(sink.records.u32, i * SequencedWord.size);
    cancels.deliver(d.out, 0, events.length);
    return events;
  };
  const canceled = (events: EventRecord[]): number[] =>
    events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id);
  assert.deepEqual(canceled(round(0)), old.slice(0, 2));
  // The client came back and quoted again before the second round was sequenced.
  const requote = buy(d, 10, 495, 10)[0].id;
  assert.equal(sink.written, 2, 'a second round, from the third order');
  const second = round(1);
  assert.deepEqual(canceled(second), [old[2]], 'only the orders from before the loss');
  assert.equal(second[0].otherId, 0, 'none remain from before the first round');
  assert.notEqual(d.engine.orders.slotOf(requote), -1, 'the re-quote rests');
  assert.equal(sink.written, 2);
  assert.equal(cancels.pendingCount(), 0);
});

test('a full ring waits, a refusal ends a chain, a second loss starts a new one', async () => {
  const { sink, lines, cancels } = setUp();
  sink.room = 0;
  const a = asking(cancels);
  cancels.note(a, ...frame([CommandKind.PlaceOrder, 1]));
  cancels.closed(a, 7, 1006);
  assert.equal(sink.written, 0, 'no room');
  sink.room = 8;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sink.written, 1, 'sent once the ring had room');

  const b = asking(cancels);
  cancels.note(b, ...frame([CommandKind.PlaceOrder, 1]));
  cancels.closed(b, 7, 1006);
  assert.equal(sink.written, 1, 'one round of an account in the ring at a time');
  cancels.deliver(answer(sink.clientSeq(0), 100, 2, 0), 0, 2);
  assert.deepEqual(sink.command(1), [1, 0], "the second loss's chain, from the oldest");
  const refusal = answer(sink.clientSeq(1), 200, 0, 0, EventKind.Rejected);
  cancels.deliver(refusal, 0, 2);
  assert.equal(cancels.pendingCount(), 0);
  assert.match(lines.at(-1)!, /account 1: refused \(LedgerAccountUnknown\)/);
  cancels.stop();
});

test('a loss cancels every order of an account, however many rounds that takes', () => {
  // 1,100 full rounds (1,024 each), then the last: an account holding more than a million
  // orders (--orders-max 2M). At most 1,024 rounds were sent, and the rest stayed resting.
  const { sink, lines, cancels } = setUp();
  const session = asking(cancels);
  cancels.note(session, ...frame([CommandKind.PlaceOrder, 1]));
  cancels.closed(session, 7, 1006);
  const bound = 5_000_000; // the first round's sequence
  let sent = 1;
  for (let round = 0; round < 1_100 && sink.written === 1; round++, sent++) {
    const seq = sink.clientSeq(0);
    [sink.written, sink.room] = [0, 64]; // the ring took the round
    cancels.deliver(answer(seq, bound + round, 1_024, 1 + (round + 1) * 1_024), 0, 2);
  }
  assert.equal(sent, 1_101, 'a round after each answer naming orders left');
  assert.deepEqual(sink.command(0), [1, 1 + 1_100 * 1_024]);
  cancels.deliver(answer(sink.clientSeq(0), bound + 1_100, 5, 0), 0, 2);
  assert.equal(cancels.pendingCount(), 0);
  assert.deepEqual([cancels.counts.rounds, cancels.counts.orders], [1_101, 1_100 * 1_024 + 5]);
  assert.ok(!lines.some((line) => line.includes('stopped')), lines.join('\n'));
});

test('a round that canceled nothing yet names orders left ends the chain, logged', () => {
  const { sink, lines, cancels } = setUp();
  const session = asking(cancels);
  cancels.note(session, ...frame([CommandKind.PlaceOrder, 1]));
  cancels.closed(session, 7, 1006);
  cancels.deliver(answer(sink.clientSeq(0), 900, 0, 500), 0, 2);
  assert.equal(sink.written, 1, 'no further round');
  assert.equal(cancels.pendingCount(), 0);
  assert.match(lines[1], /account 1: stopped \(a round canceled none, orders remain from 500\)/);
});
