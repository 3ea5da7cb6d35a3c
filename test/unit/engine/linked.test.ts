import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver } from '../../harness/engine-driver.js';
import { assertConsistent } from '../../harness/fixtures.js';
import { CommandFlag, CommandKind } from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { CommandFields } from '../../../src/protocol/command-writer.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

const USD = 1;
const Linked = CommandFlag.Linked;
type Fields = Omit<CommandFields, 'clientId' | 'clientSeq'>;

function ledger(): EngineDriver {
  const d = new EngineDriver(); // smallConfig: chains of at most 8
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11, 12]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 100 });
  return d;
}

const transfer = (from: number, to: number, quantity: number, flags: number = Linked): Fields => ({
  kind: CommandKind.Transfer,
  account: from,
  target: to,
  ref: USD,
  quantity,
  flags,
});

/** Submits the members (the last one closes the chain); returns the closing call's events. */
function chain(d: EngineDriver, members: Fields[]): EventRecord[] {
  let events: EventRecord[] = [];
  for (const m of members) {
    events = d.submit(m);
    if (m !== members[members.length - 1]) assert.equal(events.length, 0, 'an open chain waits');
  }
  return events;
}

test('a chain whose members all succeed applies together, later members see earlier ones', () => {
  const d = ledger();
  // 11 starts with nothing: the second transfer only works after the first.
  const events = chain(d, [transfer(10, 11, 60), transfer(11, 12, 50), transfer(12, 10, 5, 0)]);
  assert.deepEqual(
    events.map((e) => e.kind),
    [EventKind.Transferred, EventKind.Transferred, EventKind.Transferred],
  );
  for (const e of events) assert.equal(e.flags & EventFlag.Record, EventFlag.Record);
  assert.deepEqual(d.balance(10, USD), { available: 45, held: 0 });
  assert.deepEqual(d.balance(11, USD), { available: 10, held: 0 });
  assert.deepEqual(d.balance(12, USD), { available: 45, held: 0 });
  assertConsistent(d);
});

test('a failing member carries its reason, the others LinkedEventFailed; nothing moves', () => {
  const d = ledger();
  const before = d.balance(10, USD);
  const events = chain(d, [transfer(10, 11, 60), transfer(11, 12, 70), transfer(12, 10, 5, 0)]);
  assert.deepEqual(
    events.map((e) => e.status),
    [
      Status.LedgerLinkedEventFailed,
      Status.LedgerInsufficientFunds,
      Status.LedgerLinkedEventFailed,
    ],
  );
  assert.ok(events.every((e) => e.kind === EventKind.Rejected));
  assert.deepEqual(d.balance(10, USD), before);
  assert.deepEqual(d.balance(11, USD), { available: 0, held: 0 });
  assertConsistent(d);
});

test('a pending transfer can be created and posted inside one chain', () => {
  const d = ledger();
  d.submit({
    kind: CommandKind.TransferPending,
    account: 10,
    target: 11,
    ref: USD,
    quantity: 40,
    flags: Linked,
  });
  const pendingId = d.sequence;
  const events = d.submit({
    kind: CommandKind.TransferPost,
    account: 10,
    target: pendingId,
    quantity: 30,
  });
  assert.deepEqual(
    events.map((e) => e.kind),
    [EventKind.PendingCreated, EventKind.PendingPosted],
  );
  assert.deepEqual(d.balance(10, USD), { available: 70, held: 0 });
  assert.deepEqual(d.balance(11, USD), { available: 30, held: 0 });
  assertConsistent(d);
});

test('a chain interrupted by another client is rejected with LedgerLinkedChainOpen', () => {
  const d = ledger();
  d.submit(transfer(10, 11, 10));
  d.submit(transfer(10, 11, 10));
  const events = d.submit({ kind: CommandKind.Tick, clientId: 2, clientSeq: 1 });
  assert.deepEqual(
    events.map((e) => [e.kind, e.status]),
    [
      [EventKind.Rejected, Status.LedgerLinkedChainOpen],
      [EventKind.Rejected, Status.LedgerLinkedChainOpen],
      [EventKind.Ticked, Status.Ok],
    ],
  );
  assert.deepEqual(d.balance(11, USD), { available: 0, held: 0 });
  assertConsistent(d);
});

test('a chain with a non-ledger member is rejected with LedgerLinkedKindInvalid', () => {
  const d = ledger();
  const events = chain(d, [transfer(10, 11, 10), { kind: CommandKind.Tick }]);
  assert.deepEqual(
    events.map((e) => e.status),
    [Status.LedgerLinkedEventFailed, Status.LedgerLinkedKindInvalid],
  );
});

test('a chain longer than chainLengthMax is rejected with LedgerLinkedChainTooLong', () => {
  const d = ledger();
  for (let i = 0; i < 8; i++) assert.equal(d.submit(transfer(10, 11, 1)).length, 0);
  const events = d.submit(transfer(10, 11, 1));
  assert.equal(events.length, 9);
  assert.ok(events.every((e) => e.status === Status.LedgerLinkedChainTooLong));
  assert.deepEqual(d.balance(10, USD), { available: 100, held: 0 });
});

test('the members after the one that overflows a chain are rejected too, up to its close', () => {
  const d = ledger(); // chains of at most 8: members 9 to 11 used to form a chain of their own
  for (let i = 0; i < 8; i++) d.submit(transfer(10, 11, 1));
  assert.equal(d.submit(transfer(10, 11, 1)).length, 9);
  const tail = [d.submit(transfer(10, 11, 1)), d.submit(transfer(10, 11, 1, 0))];
  for (const events of tail) {
    assert.deepEqual(
      events.map((e) => [e.kind, e.status]),
      [[EventKind.Rejected, Status.LedgerLinkedChainTooLong]],
    );
    assert.notEqual(events[0].flags & EventFlag.Record, 0, 'recorded: a resend is a Duplicate');
  }
  assert.deepEqual(d.balance(10, USD), { available: 100, held: 0 });
  const after = d.submit(transfer(10, 11, 1, 0));
  assert.equal(after[0].status, Status.Ok, 'the next command stands alone');
  const [retry] = d.submit({ ...transfer(10, 11, 1, 0), clientSeq: tail[1][0].clientSeq });
  assert.deepEqual(
    [retry.kind, retry.status],
    [EventKind.Duplicate, Status.LedgerLinkedChainTooLong],
  );
  assertConsistent(d);
});

test('a retried chain gets its original outcomes as duplicates', () => {
  const d = ledger();
  const first = chain(d, [transfer(10, 11, 10), transfer(10, 12, 10, 0)]);
  const seqs = first.map((e) => e.clientSeq);
  d.submit({ ...transfer(10, 11, 10), clientSeq: seqs[0] });
  const retry = d.submit({ ...transfer(10, 12, 10, 0), clientSeq: seqs[1] });
  assert.deepEqual(
    retry.map((e) => [e.kind, e.status, e.otherId]),
    [
      [EventKind.Duplicate, Status.Ok, first[0].sequence],
      [EventKind.Duplicate, Status.Ok, first[1].sequence],
    ],
  );
  assert.deepEqual(d.balance(10, USD), { available: 80, held: 0 });
});

test('a chain mixing retried and new commands refuses the new ones', () => {
  const d = ledger();
  const first = chain(d, [transfer(10, 11, 10), transfer(10, 12, 10, 0)]);
  d.submit({ ...transfer(10, 11, 10), clientSeq: first[0].clientSeq });
  const events = d.submit(transfer(10, 12, 10, 0));
  assert.deepEqual(
    events.map((e) => [e.kind, e.status]),
    [
      [EventKind.Duplicate, Status.Ok],
      [EventKind.Rejected, Status.IdempotencyChainMixed],
    ],
  );
  // A command sent alone, resent as a chain's member, is another command: the flag Linked
  // makes it one of a pair that succeeds or fails together, which the original was not.
  const [alone] = d.submit(transfer(10, 11, 10, 0));
  d.submit({ ...transfer(10, 11, 10), clientSeq: alone.clientSeq });
  const relinked = d.submit(transfer(10, 12, 10, 0));
  assert.deepEqual(
    relinked.map((e) => [e.kind, e.status]),
    [
      [EventKind.Rejected, Status.IdempotencySeqReused],
      [EventKind.Rejected, Status.IdempotencyChainMixed],
    ],
  );
  assert.deepEqual(d.balance(10, USD), { available: 70, held: 0 });
});

test('a resent chain with one member changed: that member is refused, nothing is applied', () => {
  const d = ledger();
  const first = chain(d, [transfer(10, 11, 10), transfer(10, 12, 10), transfer(10, 11, 5, 0)]);
  const seqs = first.map((e) => e.clientSeq);
  const checksum = d.engine.checksum.hex();
  d.submit({ ...transfer(10, 11, 10), clientSeq: seqs[0] });
  d.submit({ ...transfer(10, 12, 50), clientSeq: seqs[1] }); // the amount changed
  const resent = d.submit({ ...transfer(10, 11, 5, 0), clientSeq: seqs[2] });
  assert.deepEqual(
    resent.map((e) => [e.kind, e.status, e.flags & EventFlag.Record]),
    [
      [EventKind.Duplicate, Status.Ok, 0],
      [EventKind.Rejected, Status.IdempotencySeqReused, 0],
      [EventKind.Duplicate, Status.Ok, 0],
    ],
  );
  assert.equal(d.engine.checksum.hex(), checksum, 'nothing recorded, nothing moved');
  assert.deepEqual(d.balance(10, USD), { available: 75, held: 0 });
  assertConsistent(d);
});
