import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { assertConsistent, BOOK, BTC, buy, market, sell, USD } from '../../harness/fixtures.js';
import { assertSameAccountLists, listedIds } from '../../harness/account-lists.js';
import { CommandFlag, CommandKind } from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';
import type { EngineConfig } from '../../../src/constants.js';

/** A second book: BTC/USD again, tick 1, lot 1, no fees. */
const BOOK2 = 2;

function twoBooks(config: EngineConfig = smallConfig): EngineDriver {
  const d = market(config);
  const book2 = { ref: BOOK2, target: BTC, aux: USD, price: 1, quantity: 1 };
  const [added] = d.submit({ kind: CommandKind.AddInstrument, ...book2 });
  assert.equal(added.status, Status.Ok);
  return d;
}

function place(d: EngineDriver, account: number, book: number, price: number, q: number) {
  const [head] = d.submit({ kind: CommandKind.PlaceOrder, account, ref: book, price, quantity: q });
  assert.equal(head.status, Status.Ok);
  assert.equal(head.aux, q, 'rests whole');
  return head.id;
}

function cancelAll(d: EngineDriver, account: number, ref = 0, target = 0): EventRecord[] {
  return d.submit({ kind: CommandKind.CancelAll, account, ref, target });
}

const canceledIds = (events: EventRecord[]): number[] =>
  events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id);

test('CancelAll of one instrument cancels only those orders, oldest first, and frees holds', () => {
  const d = twoBooks();
  const a = place(d, 10, BOOK, 495, 20); // holds 990 + fee
  const b = place(d, 10, BOOK2, 7, 3);
  const c = sell(d, 10, 505, 30)[0].id;
  const other = place(d, 11, BOOK, 490, 10);
  const heldUsd = d.balance(10, USD).held;
  const events = cancelAll(d, 10, BOOK);
  const [head] = events;
  assert.equal(head.kind, EventKind.AllCanceled);
  assert.equal(head.status, Status.Ok);
  assert.equal(head.flags, EventFlag.Head | EventFlag.Record);
  assert.equal(head.commandKind, CommandKind.CancelAll);
  assert.equal(head.account, 10);
  assert.equal(head.ref, BOOK);
  assert.equal(head.quantity, 2, 'orders canceled');
  assert.equal(head.otherId, 0, 'none remain');
  assert.deepEqual(canceledIds(events), [a, c]);
  for (const e of events.slice(1)) {
    assert.equal(e.status, Status.Ok);
    assert.equal(e.commandKind, CommandKind.CancelAll);
    assert.equal(e.flags & EventFlag.Head, 0);
  }
  const [, cancelA, cancelC] = events;
  assert.equal(cancelA.release, heldUsd - d.balance(10, USD).held, 'the buy hold comes back');
  assert.equal(cancelC.release, 30);
  assert.equal(cancelC.flags, EventFlag.Sell);
  assert.equal(d.balance(10, USD).held, 7 * 3, "book 2's bid keeps its hold");
  assert.deepEqual(d.balance(10, BTC), { available: 10_000, held: 0 });
  assert.deepEqual(listedIds(d.engine, d.engine.accounts.slotOf(10)), [b]);
  assert.equal(d.engine.levels.best(BOOK * 2 + 1), -1, 'the ask level is gone');
  const bid = d.engine.levels.best(BOOK * 2);
  assert.equal(d.engine.levels.price(bid), 490, "the other account's bid stays");
  assert.equal(d.engine.orders.slotOf(other) !== -1, true);
  assertConsistent(d);
});

test('CancelAll of every instrument leaves the account nothing held', () => {
  const d = twoBooks();
  const ids = [place(d, 10, BOOK, 495, 20), place(d, 10, BOOK2, 7, 3), sell(d, 10, 505, 30)[0].id];
  place(d, 11, BOOK2, 6, 5);
  const before11 = [d.balance(11, USD), d.balance(11, BTC)];
  const events = cancelAll(d, 10);
  assert.equal(events[0].quantity, 3);
  assert.equal(events[0].ref, 0);
  assert.deepEqual(canceledIds(events), ids);
  assert.deepEqual(d.balance(10, USD), { available: 1_000_000, held: 0 });
  assert.deepEqual(d.balance(10, BTC), { available: 10_000, held: 0 });
  assert.deepEqual([d.balance(11, USD), d.balance(11, BTC)], before11, 'others untouched');
  assert.deepEqual(listedIds(d.engine, d.engine.accounts.slotOf(10)), []);
  assert.equal(d.engine.levels.sideCount[BOOK2 * 2], 1, "account 11's level only");
  const again = cancelAll(d, 10);
  assert.deepEqual(
    again.map((e) => [e.kind, e.status, e.quantity, e.otherId]),
    [[EventKind.AllCanceled, Status.Ok, 0, 0]],
    'nothing to cancel is not an error',
  );
  assertConsistent(d);
});

test('past its bound a CancelAll names where to go on, and sending it again finishes', () => {
  const d = twoBooks({ ...smallConfig, fillsPerCommandMax: 4 });
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(place(d, 10, BOOK, 400 + 5 * i, 10));
  const first = cancelAll(d, 10);
  assert.equal(first.length, 5, 'head and four cancels');
  assert.equal(first[0].quantity, 4);
  assert.equal(first[0].otherId, ids[4], 'the first order not canceled');
  assert.deepEqual(canceledIds(first), ids.slice(0, 4));
  const second = cancelAll(d, 10, 0, first[0].otherId);
  assert.deepEqual(canceledIds(second), ids.slice(4, 8));
  // Without the target it starts from the oldest left, which is the same here.
  const third = cancelAll(d, 10);
  assert.deepEqual(canceledIds(third), ids.slice(8));
  assert.equal(third[0].otherId, 0);
  assert.equal(d.engine.levels.sideCount[BOOK * 2], 0);
  assert.deepEqual(d.balance(10, USD), { available: 1_000_000, held: 0 });
  assertConsistent(d);
});

test('a bounded CancelAll cancels only older orders, whatever target it is sent with', () => {
  // A target at or past the bound stopped it at once (other_id 0, the older orders resting):
  // such a target now starts from the oldest, as one that no longer rests does.
  for (const pick of ['none', 'the bound', 'a newer order'] as const) {
    const d = twoBooks({ ...smallConfig, fillsPerCommandMax: 4 });
    const old = [place(d, 10, BOOK, 400, 10), place(d, 10, BOOK2, 405, 10)];
    const bound = place(d, 10, BOOK, 410, 10); // placed once the bound was taken: it stays
    const newer = place(d, 10, BOOK2, 415, 10);
    const target = pick === 'none' ? 0 : pick === 'the bound' ? bound : newer;
    const events = d.submit({ kind: CommandKind.CancelAll, account: 10, target, aux: bound });
    assert.deepEqual(canceledIds(events), old, `target: ${pick}`);
    assert.equal(events[0].otherId, 0, `target: ${pick}: none left before the bound`);
    assert.deepEqual(canceledIds(cancelAll(d, 10)), [bound, newer], `target: ${pick}`);
    assertConsistent(d);
  }
  const d = twoBooks();
  const negative = d.submit({ kind: CommandKind.CancelAll, account: 10, aux: -1 });
  assert.equal(negative[0].status, Status.CommandIdInvalid, 'a bound that is no id');
});

test("a CancelAll that passes over other instruments' orders goes on from where it stopped", () => {
  // Two cancels and eight looks per command.
  const d = twoBooks({ ...smallConfig, fillsPerCommandMax: 2 });
  const skipped: number[] = [];
  for (let i = 0; i < 10; i++) skipped.push(place(d, 10, BOOK2, 10 + i, 1));
  const wanted = [place(d, 10, BOOK, 450, 10), place(d, 10, BOOK, 455, 10)];
  wanted.push(place(d, 10, BOOK, 460, 10));
  const first = cancelAll(d, 10, BOOK);
  assert.equal(first[0].quantity, 0, 'eight looks, all at book 2');
  assert.equal(first[0].otherId, skipped[8]);
  const second = cancelAll(d, 10, BOOK, first[0].otherId);
  assert.deepEqual(canceledIds(second), wanted.slice(0, 2));
  assert.equal(second[0].otherId, wanted[2]);
  const third = cancelAll(d, 10, BOOK, second[0].otherId);
  assert.deepEqual(canceledIds(third), wanted.slice(2));
  assert.equal(third[0].otherId, 0);
  assert.deepEqual(listedIds(d.engine, d.engine.accounts.slotOf(10)), skipped);
  // A target that no longer rests, or is another account's, starts from the oldest.
  const theirs = place(d, 11, BOOK2, 5, 1);
  for (const target of [wanted[0], theirs]) {
    const again = cancelAll(d, 10, BOOK2, target);
    assert.deepEqual(canceledIds(again), skipped.splice(0, 2));
  }
  assertConsistent(d);
});

test('CancelAll is refused for a bad account or instrument, and allowed on a halted book', () => {
  const d = twoBooks();
  place(d, 10, BOOK, 495, 20);
  const refused = (events: EventRecord[]): number[] => [events[0].kind, events[0].status];
  assert.deepEqual(refused(cancelAll(d, 77)), [EventKind.Rejected, Status.LedgerAccountUnknown]);
  assert.deepEqual(refused(cancelAll(d, 0)), [EventKind.Rejected, Status.CommandIdInvalid]);
  assert.deepEqual(refused(cancelAll(d, 10, 9)), [
    EventKind.Rejected,
    Status.MatchingInstrumentUnknown,
  ]);
  assert.deepEqual(refused(cancelAll(d, 10, 0, -1)), [EventKind.Rejected, Status.CommandIdInvalid]);
  const flagged = d.submit({ kind: CommandKind.CancelAll, account: 10, flags: CommandFlag.Sell });
  assert.deepEqual(refused(flagged), [EventKind.Rejected, Status.CommandFlagsInvalid]);
  const linked = d.submit({ kind: CommandKind.CancelAll, account: 10, flags: CommandFlag.Linked });
  assert.equal(linked.length, 0, 'a chain member waits for its chain');
  const closing = d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1 });
  assert.deepEqual(refused(closing), [EventKind.Rejected, Status.LedgerLinkedKindInvalid]);
  assert.equal(d.engine.orders.pool.used(), 1, 'nothing canceled by a refusal');
  d.submit({ kind: CommandKind.HaltInstrument, ref: BOOK });
  const halted = cancelAll(d, 10, BOOK);
  assert.equal(halted[0].status, Status.Ok);
  assert.equal(halted[0].quantity, 1);
  assertConsistent(d);
});

test('a CancelAll sent again is a duplicate that cancels nothing more', () => {
  const d = twoBooks();
  place(d, 10, BOOK, 495, 20);
  const seq = d.clientSeq + 1;
  const first = d.submit({ kind: CommandKind.CancelAll, account: 10, clientSeq: seq });
  assert.equal(first[0].quantity, 1);
  d.clientSeq = seq;
  const later = place(d, 10, BOOK, 490, 10);
  const checksum = d.engine.checksum.hex();
  const retry = d.submit({ kind: CommandKind.CancelAll, account: 10, clientSeq: seq });
  assert.deepEqual(
    retry.map((e) => [e.kind, e.status, e.otherId]),
    [[EventKind.Duplicate, Status.Ok, first[0].sequence]],
  );
  assert.equal(d.engine.checksum.hex(), checksum, 'nothing changed');
  assert.deepEqual(listedIds(d.engine, d.engine.accounts.slotOf(10)), [later]);
  assertConsistent(d);
});

test('orders keep their place in the account list through fills and amendments', () => {
  const d = twoBooks();
  const a = place(d, 10, BOOK, 495, 20);
  const b = sell(d, 10, 510, 20)[0].id;
  const c = place(d, 10, BOOK2, 7, 3);
  const slot = d.engine.accounts.slotOf(10);
  d.submit({ kind: CommandKind.AmendOrder, account: 10, target: a, price: 490, quantity: 30 });
  assert.deepEqual(listedIds(d.engine, slot), [a, b, c], 'a re-rested order keeps its place');
  buy(d, 11, 510, 20); // fills b whole
  assert.deepEqual(listedIds(d.engine, slot), [a, c]);
  sell(d, 12, 7, 1, { ref: BOOK2 }); // fills c in part
  assert.deepEqual(listedIds(d.engine, slot), [a, c]);
  sell(d, 11, 490, 30); // fills a whole
  assert.deepEqual(listedIds(d.engine, slot), [c]);
  assertConsistent(d);
});

test('a restored engine rebuilds the account lists and cancels as the original does', () => {
  const d = twoBooks();
  for (let i = 0; i < 6; i++) place(d, 10 + (i % 3), i % 2 === 0 ? BOOK : BOOK2, 450 + 5 * i, 10);
  const twin = twoBooks();
  place(twin, 12, BOOK2, 3, 1); // its own state first, which restore must clear
  place(twin, 10, BOOK, 400, 10);
  const image = d.engine.image();
  const bytes = image.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  twin.engine.restore(
    bytes,
    image.counters,
    bytes.map((b) => b.byteLength),
  );
  assertSameAccountLists(twin.engine, d.engine);
  for (const account of [10, 11, 12]) {
    const command = { kind: CommandKind.CancelAll, account, clientId: 5, clientSeq: account };
    const want = d.submit(command);
    assert.equal(want[0].quantity, 2);
    assert.deepEqual(twin.submitAt(command, d.sequence, d.timestamp), want);
  }
});
