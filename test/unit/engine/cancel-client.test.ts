/**
 * Orders by the client id that placed them: each order keeps its client (orders.ts), each
 * client's orders form a list in the order they were placed, and CancelClientOrders cancels
 * along it: one client's orders, whatever their account, and no other client's, even on a
 * shared account (cancel on disconnect sends it for a lost session's client id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { assertConsistent, BTC, buy, market, sell, USD } from '../../harness/fixtures.js';
import { assertSameAccountLists, clientListedIds } from '../../harness/account-lists.js';
import { CommandFlag, CommandKind, TimeInForce } from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

/** Client ids: two traders sharing account 10, and an admin placing on 10 and 11. */
const ALICE = 21;
const BOB = 22;
const ADMIN = 23;

/** Places a bid on account `account` as client `client` that rests whole; its order id. */
function bid(d: EngineDriver, client: number, account: number, price: number, q = 10): number {
  d.clientId = client;
  const [head] = buy(d, account, price, q);
  assert.equal(head.status, Status.Ok);
  assert.equal(head.aux, q, 'rests whole');
  return head.id;
}

/** The ids along `client`'s list (empty when the table has no slot for it). */
function listed(d: EngineDriver, client: number): number[] {
  const slot = d.engine.clients.slotOf(client);
  return slot === -1 ? [] : clientListedIds(d.engine, slot);
}

function cancelClient(d: EngineDriver, client: number, more = {}): EventRecord[] {
  d.clientId = ADMIN;
  return d.submit({ kind: CommandKind.CancelClientOrders, ref: client, ...more });
}

const canceledIds = (events: EventRecord[]): number[] =>
  events.filter((e) => e.kind === EventKind.OrderCanceled).map((e) => e.id);

test("an order joins its client's list when it rests, and leaves it however it goes", () => {
  const d = market();
  const a1 = bid(d, ALICE, 10, 480);
  const b1 = bid(d, BOB, 11, 485);
  const a2 = bid(d, ALICE, 11, 470); // another account: the same client's list
  const a3 = bid(d, ALICE, 10, 490, 30);
  assert.deepEqual(listed(d, ALICE), [a1, a2, a3], 'in the order placed, across accounts');
  assert.deepEqual(listed(d, BOB), [b1]);
  assert.equal(d.engine.clients.ids[d.engine.orders.client(d.engine.orders.slotOf(b1))], BOB);

  d.clientId = ADMIN;
  const amend = { kind: CommandKind.AmendOrder, account: 10, target: a1, price: 475, quantity: 10 };
  assert.equal(d.submit(amend)[0].status, Status.Ok);
  assert.deepEqual(listed(d, ALICE), [a1, a2, a3], 'an amendment keeps its place and client');
  assert.deepEqual(listed(d, ADMIN), [], 'the amending client does not take the order');

  sell(d, 12, 490, 10); // a partial fill of a3: it stays
  assert.deepEqual(listed(d, ALICE), [a1, a2, a3]);
  sell(d, 12, 490, 20); // a3 filled whole
  assert.deepEqual(listed(d, ALICE), [a1, a2]);
  d.clientId = BOB;
  const cancel = d.submit({ kind: CommandKind.CancelOrder, account: 11, target: a2 });
  assert.equal(cancel[0].status, Status.Ok, "an account's order, canceled by another client");
  assert.deepEqual(listed(d, ALICE), [a1]);
  // Bob sells 20 on account 10, which he shares with Alice: it fills his own bid on account 11,
  // then meets Alice's bid on account 10, which self-trade prevention cancels; 10 rest.
  const stp = sell(d, 10, 475, 20);
  assert.ok(stp.some((e) => e.kind === EventKind.Trade && e.otherId === b1));
  assert.ok(stp.some((e) => e.kind === EventKind.OrderCanceled && e.id === a1));
  assert.deepEqual(listed(d, ALICE), []);
  assert.deepEqual(listed(d, BOB), [stp[0].id], 'his filled bid left, his ask joined');
  // An IOC bid that finds nothing to take expires without resting: it joins no list.
  const ioc = buy(d, 11, 470, 10, { tif: TimeInForce.Ioc });
  assert.equal(ioc.at(-1)!.kind, EventKind.OrderExpired);
  assert.deepEqual(listed(d, BOB), [stp[0].id]);
  assertConsistent(d);
});

test("a new client's first order rests under the same slot on the primary and a replica", () => {
  // On the primary the order rests before its command's outcome is recorded (which gives a
  // new client its slot); a replica records the head first. Both must give the same slots.
  const d = market();
  const first = bid(d, 40, 10, 480);
  const second = bid(d, 41, 11, 485);
  const again = bid(d, 40, 12, 490);
  assert.deepEqual(listed(d, 40), [first, again]);
  assert.deepEqual(listed(d, 41), [second]);
  const replica = d.replay();
  assertSameAccountLists(d.engine, replica, 'replica = primary');
  assertConsistent(d);
});

test("CancelClientOrders cancels one client's orders on every account, and no other's", () => {
  const d = market();
  const a1 = bid(d, ALICE, 10, 480);
  const b1 = bid(d, BOB, 10, 485);
  d.clientId = ALICE;
  const a2 = sell(d, 11, 520, 70)[0].id;
  const x1 = bid(d, ADMIN, 10, 470);
  const heldUsd = d.balance(10, USD).held;
  const events = cancelClient(d, ALICE);
  const [head] = events;
  assert.equal(head.kind, EventKind.AllCanceled);
  assert.equal(head.status, Status.Ok);
  assert.equal(head.flags, EventFlag.Head | EventFlag.Record);
  assert.equal(head.commandKind, CommandKind.CancelClientOrders);
  assert.equal(head.clientId, ADMIN, 'sent by another client');
  assert.equal(head.ref, ALICE, 'the client whose orders went');
  assert.equal(head.account, 0);
  assert.equal(head.quantity, 2);
  assert.equal(head.otherId, 0, 'none remain');
  assert.deepEqual(canceledIds(events), [a1, a2], 'oldest first');
  const [, cancelA1, cancelA2] = events;
  assert.equal(cancelA1.account, 10);
  assert.equal(cancelA1.release, heldUsd - d.balance(10, USD).held, 'the bid hold comes back');
  assert.equal(cancelA2.account, 11);
  assert.equal(cancelA2.release, 70);
  assert.equal(cancelA2.flags, EventFlag.Sell);
  assert.deepEqual(d.balance(11, BTC), { available: 10_000, held: 0 });
  for (const id of [b1, x1]) assert.notEqual(d.engine.orders.slotOf(id), -1, 'others rest');
  assert.deepEqual(listed(d, ALICE), []);
  assert.deepEqual(listed(d, BOB), [b1]);
  const nothing = cancelClient(d, ALICE);
  assert.deepEqual([nothing.length, nothing[0].quantity, nothing[0].otherId], [1, 0, 0]);
  const unknown = cancelClient(d, 999);
  assert.deepEqual([unknown[0].status, unknown[0].quantity], [Status.Ok, 0], 'never seen');
  assertConsistent(d);
});

test('past its bound it names where to go on; a bound in aux leaves later orders', () => {
  const d = market({ ...smallConfig, fillsPerCommandMax: 2 });
  const ids = [480, 475, 470, 465, 460].map((price, i) => bid(d, ALICE, 10 + (i % 2), price));
  const later = bid(d, ALICE, 10, 455);
  const bound = later; // only orders placed before it
  const first = cancelClient(d, ALICE, { aux: bound });
  assert.deepEqual(canceledIds(first), ids.slice(0, 2));
  assert.equal(first[0].otherId, ids[2], 'the first order not canceled');
  // A target that is not the client's order starts from the oldest: nothing missed.
  const stranger = bid(d, BOB, 10, 450);
  const fromStranger = cancelClient(d, ALICE, { aux: bound, target: stranger });
  assert.deepEqual(canceledIds(fromStranger), ids.slice(2, 4));
  const last = cancelClient(d, ALICE, { aux: bound, target: fromStranger[0].otherId });
  assert.deepEqual(canceledIds(last), [ids[4]]);
  assert.equal(last[0].otherId, 0, 'none left before the bound');
  assert.deepEqual(listed(d, ALICE), [later], 'the order at the bound stays');
  const target = cancelClient(d, ALICE, { aux: bound, target: later });
  assert.deepEqual([target[0].quantity, target[0].otherId], [0, 0], 'a target past the bound');
  assert.deepEqual(listed(d, BOB), [stranger]);
  assertConsistent(d);
});

test('it is refused for client 0, bad ids and flags; a resend is a duplicate', () => {
  const d = market();
  const a1 = bid(d, ALICE, 10, 480);
  const refusals: [object, Status][] = [
    [{ ref: 0 }, Status.CommandIdInvalid],
    [{ ref: ALICE, target: -1 }, Status.CommandIdInvalid],
    [{ ref: ALICE, aux: -1 }, Status.CommandIdInvalid],
    [{ ref: ALICE, flags: CommandFlag.Sell }, Status.CommandFlagsInvalid],
  ];
  for (const [fields, status] of refusals) {
    const events = cancelClient(d, ALICE, fields);
    assert.equal(events[0].kind, EventKind.Rejected, JSON.stringify(fields));
    assert.equal(events[0].status, status, JSON.stringify(fields));
  }
  assert.deepEqual(listed(d, ALICE), [a1], 'nothing canceled');
  d.clientId = ADMIN;
  const seq = d.clientSeq + 1;
  const command = { kind: CommandKind.CancelClientOrders, ref: ALICE, clientSeq: seq };
  const once = d.submit(command);
  assert.deepEqual(canceledIds(once), [a1]);
  const later = bid(d, ALICE, 10, 470);
  d.clientId = ADMIN;
  const resent = d.submit(command);
  assert.deepEqual(
    resent.map((e) => [e.kind, e.status]),
    [[EventKind.Duplicate, Status.Ok]],
  );
  assert.deepEqual(listed(d, ALICE), [later], 'a resend cancels nothing more');
  assertConsistent(d);
});

test('a restored engine rebuilds the client lists and cancels as the original does', () => {
  const d = market();
  for (let i = 0; i < 9; i++) bid(d, [ALICE, BOB, ADMIN][i % 3], 10 + (i % 2), 450 + 5 * i);
  const twin = market();
  bid(twin, BOB, 12, 400); // its own state first, which restore must clear
  const image = d.engine.image();
  const bytes = image.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  twin.engine.restore(
    bytes,
    image.counters,
    bytes.map((b) => b.byteLength),
  );
  assertSameAccountLists(twin.engine, d.engine);
  for (const client of [ALICE, BOB, ADMIN]) {
    const command = {
      kind: CommandKind.CancelClientOrders,
      ref: client,
      clientId: 5,
      clientSeq: client,
    };
    const want = d.submit(command);
    assert.equal(want[0].quantity, 3);
    assert.deepEqual(twin.submitAt(command, d.sequence, d.timestamp), want);
  }
  assert.equal(twin.engine.checksum.hex(), d.engine.checksum.hex());
});
