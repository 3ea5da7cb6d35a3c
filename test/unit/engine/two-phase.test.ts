import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { assertConsistent } from '../../harness/fixtures.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';

const USD = 1;

function ledger(): EngineDriver {
  const d = new EngineDriver();
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11, 12]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1_000 });
  return d;
}

function pending(d: EngineDriver, amount: number, timeoutUs = 0, debit = 10): number {
  const events = d.submit({
    kind: CommandKind.TransferPending,
    account: debit,
    target: 11,
    ref: USD,
    quantity: amount,
    aux: timeoutUs,
  });
  const e = events[events.length - 1];
  assert.equal(e.kind, EventKind.PendingCreated);
  return e.id;
}

test('a pending transfer holds the funds on the debit account', () => {
  const d = ledger();
  const id = pending(d, 300, 5_000);
  assert.equal(id, d.sequence, 'its id is its command sequence');
  assert.deepEqual(d.balance(10, USD), { available: 700, held: 300 });
  assert.deepEqual(d.balance(11, USD), { available: 0, held: 0 });
  assertConsistent(d);
});

test('posting the whole amount moves it to the credit account', () => {
  const d = ledger();
  const id = pending(d, 300);
  const [posted] = d.submit({
    kind: CommandKind.TransferPost,
    account: 10,
    target: id,
    quantity: 300,
  });
  assert.equal(posted.kind, EventKind.PendingPosted);
  assert.equal(posted.amount, 300);
  assert.equal(posted.release, 0);
  assert.deepEqual(d.balance(10, USD), { available: 700, held: 0 });
  assert.deepEqual(d.balance(11, USD), { available: 300, held: 0 });
  assertConsistent(d);
});

test('posting part of the amount returns the rest to the debit account', () => {
  const d = ledger();
  const id = pending(d, 300);
  const [posted] = d.submit({
    kind: CommandKind.TransferPost,
    account: 10,
    target: id,
    quantity: 120,
  });
  assert.equal(posted.amount, 120);
  assert.equal(posted.release, 180);
  assert.deepEqual(d.balance(10, USD), { available: 880, held: 0 });
  assert.deepEqual(d.balance(11, USD), { available: 120, held: 0 });
  const again = d.submit({ kind: CommandKind.TransferPost, account: 10, target: id, quantity: 1 });
  assert.equal(again[0].status, Status.LedgerPendingUnknown, 'a pending transfer resolves once');
  assertConsistent(d);
});

test('posting more than the pending amount is refused', () => {
  const d = ledger();
  const id = pending(d, 300);
  const [e] = d.submit({ kind: CommandKind.TransferPost, account: 10, target: id, quantity: 301 });
  assert.equal(e.status, Status.LedgerPendingAmountExceeded);
  assert.deepEqual(d.balance(10, USD), { available: 700, held: 300 });
});

test('voiding releases everything back to the debit account', () => {
  const d = ledger();
  const id = pending(d, 300);
  const [voided] = d.submit({ kind: CommandKind.TransferVoid, account: 10, target: id });
  assert.equal(voided.kind, EventKind.PendingVoided);
  assert.equal(voided.release, 300);
  assert.deepEqual(d.balance(10, USD), { available: 1_000, held: 0 });
  assertConsistent(d);
});

test('either side may post or void, no other account; unknown ids are refused', () => {
  const d = ledger(); // pending transfers from 10 (payer) to 11 (payee)
  const id = pending(d, 300);
  const stranger = d.submit({
    kind: CommandKind.TransferPost,
    account: 12,
    target: id,
    quantity: 1,
  });
  assert.equal(stranger[0].status, Status.LedgerPendingAccountMismatch);
  const voided = d.submit({ kind: CommandKind.TransferVoid, account: 12, target: id });
  assert.equal(voided[0].status, Status.LedgerPendingAccountMismatch);
  // The payee captures part of what was authorised to it, as a merchant does.
  const [captured] = d.submit({
    kind: CommandKind.TransferPost,
    account: 11,
    target: id,
    quantity: 100,
  });
  assert.deepEqual(
    [captured.kind, captured.account, captured.counterparty],
    [EventKind.PendingPosted, 10, 11],
  );
  assert.deepEqual(d.balance(10, USD), { available: 900, held: 0 });
  assert.deepEqual(d.balance(11, USD), { available: 100, held: 0 });
  const released = pending(d, 50);
  const [gone] = d.submit({ kind: CommandKind.TransferVoid, account: 11, target: released });
  assert.equal(gone.kind, EventKind.PendingVoided, 'the payee may release a hold too');
  assert.deepEqual(d.balance(10, USD), { available: 900, held: 0 });
  const unknown = d.submit({ kind: CommandKind.TransferVoid, account: 10, target: 9_999 });
  assert.equal(unknown[0].status, Status.LedgerPendingUnknown);
  assertConsistent(d);
});

test('a pending transfer expires when logical time passes its timeout', () => {
  const d = ledger();
  const id = pending(d, 300, 2_500);
  d.advance(5_000);
  const events = d.submit({ kind: CommandKind.Tick });
  assert.deepEqual(
    events.map((e) => e.kind),
    [EventKind.PendingExpired, EventKind.Ticked],
  );
  assert.equal(events[0].id, id);
  assert.equal(events[0].clientId, 0, 'the engine expires it, not a client');
  assert.equal(events[0].release, 300);
  assert.deepEqual(d.balance(10, USD), { available: 1_000, held: 0 });
  const late = d.submit({ kind: CommandKind.TransferPost, account: 10, target: id, quantity: 1 });
  assert.equal(late[0].status, Status.LedgerPendingExpired);
  const voided = d.submit({ kind: CommandKind.TransferVoid, account: 10, target: id });
  assert.equal(voided[0].status, Status.LedgerPendingExpired);
  assertConsistent(d);
});

test('a post after the timeout is told Expired, not Unknown, by the first command too', () => {
  const d = ledger();
  const id = pending(d, 300, 2_500);
  d.advance(5_000); // the post itself finds the transfer due: it expires first, then the post
  const events = d.submit({ kind: CommandKind.TransferPost, account: 10, target: id, quantity: 1 });
  assert.deepEqual(
    events.map((e) => [e.kind, e.status]),
    [
      [EventKind.PendingExpired, Status.Ok],
      [EventKind.Rejected, Status.LedgerPendingExpired],
    ],
  );
  assert.deepEqual(d.balance(10, USD), { available: 1_000, held: 0 });
});

test('expirations run in (expiry, id) order, at most expiriesPerCommandMax per command', () => {
  const d = ledger(); // smallConfig: 4 expirations per command
  // Each command is stamped 1,000 us after the previous one, so the expiries come out as
  // ids[1] < ids[2] < the three 12,000 us ones < ids[0].
  const ids = [pending(d, 10, 20_000), pending(d, 10, 10_000), pending(d, 10, 10_000)];
  for (let i = 0; i < 3; i++) pending(d, 10, 12_000);
  d.advance(30_000);
  const first = d
    .submit({ kind: CommandKind.Tick })
    .filter((e) => e.kind === EventKind.PendingExpired);
  assert.equal(first.length, 4);
  assert.deepEqual(
    first.slice(0, 2).map((e) => e.id),
    [ids[1], ids[2]],
  );
  const second = d
    .submit({ kind: CommandKind.Tick })
    .filter((e) => e.kind === EventKind.PendingExpired);
  assert.equal(second.length, 2);
  assert.equal(second[1].id, ids[0], 'the longest timeout expires last');
  assertConsistent(d);
});

test('a due pending transfer not yet expired cannot be posted', () => {
  const d = ledger(); // 4 expirations per command: the fifth due one waits for the next command
  const ids: number[] = [];
  for (let i = 0; i < 6; i++) ids.push(pending(d, 10, 10_000));
  d.advance(20_000);
  const [, , , , post] = d.submit({
    kind: CommandKind.TransferPost,
    account: 10,
    target: ids[5],
    quantity: 5,
  });
  assert.equal(post.status, Status.LedgerPendingExpired);
  assertConsistent(d);
});

test('a full pending table refuses new pending transfers', () => {
  const d = new EngineDriver({ ...smallConfig, pendingCountMax: 2 });
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1_000 });
  pending(d, 1);
  pending(d, 1);
  const [full] = d.submit({
    kind: CommandKind.TransferPending,
    account: 10,
    target: 11,
    ref: USD,
    quantity: 1,
  });
  assert.equal(full.status, Status.LedgerPendingTableFull);
});

test('a timeout that is negative or overflows logical time is refused', () => {
  const d = ledger();
  const negative = d.submit({
    kind: CommandKind.TransferPending,
    account: 10,
    target: 11,
    ref: USD,
    quantity: 1,
    aux: -1,
  });
  assert.equal(negative[0].status, Status.LedgerTimeoutInvalid);
  const huge = d.submit({
    kind: CommandKind.TransferPending,
    account: 10,
    target: 11,
    ref: USD,
    quantity: 1,
    aux: 2 ** 53 - 1,
  });
  assert.equal(huge[0].status, Status.LedgerTimeoutInvalid);
});

test('the last 4,096 expired ids are told Expired, older ones Unknown, after a restore too', () => {
  const d = ledger();
  const ids: number[] = [];
  for (let i = 0; i < 4_100; i++) {
    ids.push(pending(d, 1, 1));
    d.submit({ kind: CommandKind.Tick }); // expires it (1 µs timeout)
    d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1 });
  }
  const post = (driver: EngineDriver, id: number): number =>
    driver.submitAt(
      {
        kind: CommandKind.TransferPost,
        account: 10,
        target: id,
        quantity: 1,
        clientId: 2,
        clientSeq: driver.sequence + 1,
      },
      driver.sequence + 1,
      driver.timestamp + 1_000,
    )[0].status;
  const told = (driver: EngineDriver): number[] =>
    [ids[0], ids[3], ids[4], ids[4_099], d.sequence + 10].map((id) => post(driver, id));
  const expected = [
    Status.LedgerPendingUnknown, // pushed out of the ring by later expiries
    Status.LedgerPendingUnknown,
    Status.LedgerPendingExpired,
    Status.LedgerPendingExpired,
    Status.LedgerPendingUnknown, // never a pending transfer
  ];
  const image = d.engine.image();
  const twin = new EngineDriver();
  twin.engine.restore(
    image.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice()),
    [...image.counters],
    image.arrays.map((a) => a.byteLength),
  );
  [twin.sequence, twin.timestamp] = [d.sequence, d.timestamp];
  assert.deepEqual(told(d), expected);
  assert.deepEqual(told(twin), expected, 'the same from a restored image');
});

test('a void of an id no transfer had is one look-up, whatever the id', () => {
  // 300 expired ids are remembered. Ids 16,384 k past one of them passed the filter in front
  // of the ring (id % 16,384 counters), and each such void scanned the ring: ~10x a command.
  const d = ledger();
  const ids: number[] = [];
  for (let i = 0; i < 300; i++) ids.push(pending(d, 1, 1)); // the next command expires it
  d.submit({ kind: CommandKind.Tick });
  assert.equal(d.engine.pendings.expiredCount, 300);
  const pendings = d.engine.pendings;
  let reads = 0;
  const ring = new Proxy(pendings.expiredIds, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  Object.defineProperty(pendings, 'expiredIds', { value: ring });
  for (let k = 1; k <= 20; k++) {
    const [voided] = d.submit({
      kind: CommandKind.TransferVoid,
      account: 10,
      target: ids[k] + 16_384 * k,
    });
    assert.equal(voided.status, Status.LedgerPendingUnknown);
  }
  const [expired] = d.submit({ kind: CommandKind.TransferVoid, account: 10, target: ids[7] });
  assert.equal(expired.status, Status.LedgerPendingExpired);
  assert.equal(reads, 0, 'ring entries read by 21 voids');
});
