import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { assertConsistent, buy, market } from '../../harness/fixtures.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import { clientSlotCacheSize } from '../../../src/constants.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';

const USD = 1;

function ledger(config = smallConfig): EngineDriver {
  const d = new EngineDriver(config); // smallConfig: a window of 16 outcomes per client
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 100 });
  return d;
}

const transfer = { kind: CommandKind.Transfer, account: 10, target: 11, ref: USD, quantity: 30 };

test('a retried command returns its original outcome and changes nothing', () => {
  const d = ledger();
  const [original] = d.submit(transfer);
  const checksum = d.engine.checksum.hex();
  const retry = d.submit({ ...transfer, clientSeq: original.clientSeq });
  assert.equal(retry.length, 1);
  assert.equal(retry[0].kind, EventKind.Duplicate);
  assert.equal(retry[0].status, Status.Ok);
  assert.equal(retry[0].otherId, original.sequence, 'points at the original events');
  assert.equal(retry[0].flags, EventFlag.Head, 'not recorded again');
  assert.deepEqual(d.balance(10, USD), { available: 70, held: 0 });
  assert.equal(d.engine.checksum.hex(), checksum);
  assertConsistent(d);
});

test('a retried rejection returns the same rejection', () => {
  const d = ledger();
  const [rejected] = d.submit({ ...transfer, quantity: 1_000 });
  assert.equal(rejected.status, Status.LedgerInsufficientFunds);
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 5_000 });
  const [retry] = d.submit({ ...transfer, quantity: 1_000, clientSeq: rejected.clientSeq });
  assert.equal(retry.kind, EventKind.Duplicate);
  assert.equal(retry.status, Status.LedgerInsufficientFunds, 'the outcome, not a new decision');
});

test('a seq skipped earlier and sent late is refused as out of order', () => {
  const d = ledger();
  d.submit({ ...transfer, clientSeq: 10 });
  d.submit({ ...transfer, clientSeq: 12 });
  const [late] = d.submit({ ...transfer, clientSeq: 11 });
  assert.equal(late.status, Status.IdempotencySeqOutOfOrder);
  assert.equal(late.flags & EventFlag.Record, 0, 'not recorded: a retry of 11 must not see this');
  assert.deepEqual(d.balance(11, USD), { available: 60, held: 0 });
});

test('a seq below every command the window holds is refused as too old', () => {
  const d = ledger({ ...smallConfig, idempotencyWindow: 4 });
  for (const clientSeq of [100, 200, 300, 400, 500])
    d.submit({ ...transfer, quantity: 1, clientSeq });
  const [old] = d.submit({ ...transfer, quantity: 1, clientSeq: 150 });
  assert.equal(old.status, Status.IdempotencySeqTooOld, '100 was forgotten, 150 may have been');
  const [late] = d.submit({ ...transfer, quantity: 1, clientSeq: 250 });
  assert.equal(late.status, Status.IdempotencySeqOutOfOrder, 'between 200 and 500: never sent');
  assert.deepEqual(d.balance(11, USD), { available: 5, held: 0 });
});

test('the window holds the last commands however far apart their seqs (PROTOCOL.md)', () => {
  const d = ledger(); // a window of 16: seqs 2 and 18 would share a slot if it were seq % 16
  const send = { ...transfer, quantity: 1, clientId: 9 };
  const [first] = d.submit({ ...send, clientSeq: 2 });
  d.submit({ ...send, clientSeq: 18 });
  d.submit({ ...send, clientSeq: 1_000_002 });
  const [again] = d.submit({ ...send, clientSeq: 2 });
  assert.equal(again.kind, EventKind.Duplicate);
  assert.equal(again.otherId, first.sequence);
  const [never] = d.submit({ ...send, clientSeq: 3 });
  assert.equal(never.status, Status.IdempotencySeqOutOfOrder);
  assert.deepEqual(d.balance(11, USD), { available: 3, held: 0 });
});

test('client id 0 and client seq 0 are refused without being recorded', () => {
  const d = ledger();
  const [noClient] = d.submit({ ...transfer, clientId: 0 });
  assert.equal(noClient.status, Status.CommandClientInvalid);
  assert.equal(noClient.flags, EventFlag.Head);
  const [noSeq] = d.submit({ ...transfer, clientSeq: 0 });
  assert.equal(noSeq.status, Status.CommandClientSeqInvalid);
  assert.deepEqual(d.balance(11, USD), { available: 0, held: 0 });
});

test('a new client is refused when the client table is full, known clients go on', () => {
  const d = ledger({ ...smallConfig, clientCountMax: 2 });
  d.submit({ kind: CommandKind.Tick, clientId: 2, clientSeq: 1 });
  const [third] = d.submit({ kind: CommandKind.Tick, clientId: 3, clientSeq: 1 });
  assert.equal(third.status, Status.IdempotencyClientTableFull);
  const [known] = d.submit({ kind: CommandKind.Tick, clientId: 2, clientSeq: 2 });
  assert.equal(known.kind, EventKind.Ticked);
});

test('the window is bounded: memory per client does not grow with commands', () => {
  const d = ledger({ ...smallConfig, idempotencyWindow: 4 });
  const entries = d.engine.clients.entries.length;
  for (let i = 0; i < 50; i++) d.submit({ kind: CommandKind.Tick });
  assert.equal(d.engine.clients.entries.length, entries);
  const [gone] = d.submit({ kind: CommandKind.Tick, clientSeq: d.clientSeq - 10 });
  assert.equal(gone.status, Status.IdempotencySeqTooOld);
  const [kept] = d.submit({ kind: CommandKind.Tick, clientSeq: d.clientSeq - 2 });
  assert.equal(kept.kind, EventKind.Duplicate);
});

test('a resent order or transfer is answered with the id of what the original made', () => {
  const d = market();
  const [order] = buy(d, 10, 100, 10);
  assert.equal(order.kind, EventKind.OrderAccepted);
  const [again] = buy(d, 10, 100, 10, { clientSeq: order.clientSeq });
  assert.deepEqual(
    [again.kind, again.status, again.id],
    [EventKind.Duplicate, Status.Ok, order.id],
  );
  const [cancelled] = d.submit({ kind: CommandKind.CancelOrder, account: 10, target: again.id });
  assert.equal(cancelled.status, Status.Ok, 'the id a resend got cancels the order');
  const move = { kind: CommandKind.Transfer, account: 10, target: 11, ref: USD, quantity: 5 };
  const [moved] = d.submit(move);
  const [repeat] = d.submit({ ...move, clientSeq: moved.clientSeq });
  assert.equal(repeat.id, moved.id);
  const [refused] = d.submit({ ...move, quantity: 1e15 });
  const [refusedAgain] = d.submit({ ...move, quantity: 1e15, clientSeq: refused.clientSeq });
  assert.equal(refusedAgain.id, 0, 'a rejection made nothing');
  // A seq reused for another kind is refused (it was answered as a Duplicate naming the
  // deposit's sequence); recordedKind still keeps an outcome recorded without a fingerprint
  // from naming a deposit as an order (the replay test in idempotency-fingerprint.test.ts).
  const [deposit] = d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1 });
  const [reused] = buy(d, 10, 100, 10, { clientSeq: deposit.clientSeq });
  assert.deepEqual(
    [reused.kind, reused.status, reused.id],
    [EventKind.Rejected, Status.IdempotencySeqReused, 0],
  );
});

test('a restored ring forgets its oldest outcomes with the checksum terms they added', () => {
  // A full ring's oldest entry leaves the checksum with terms cached when it was recorded
  // (Clients.terms): a restored state must bring its own, not keep the twin's.
  const config = { ...smallConfig, idempotencyWindow: 4 };
  const d = ledger(config);
  for (let i = 0; i < 6; i++) d.submit({ ...transfer, quantity: 1 });
  const image = d.engine.image();
  const arrays = image.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const twin = ledger(config);
  for (let i = 0; i < 9; i++) twin.submit({ ...transfer, quantity: 2 }); // other fingerprints
  twin.engine.restore(
    arrays.map((a) => a.slice()),
    [...image.counters],
    arrays.map((a) => a.byteLength),
  );
  twin.sequence = d.sequence;
  twin.timestamp = d.timestamp;
  twin.clientSeq = d.clientSeq;
  for (let i = 0; i < 6; i++) {
    assert.deepEqual(
      twin.submit({ ...transfer, quantity: 3 }),
      d.submit({ ...transfer, quantity: 3 }),
    );
  }
  assert.equal(twin.engine.checksum.hex(), d.engine.checksum.hex());
  assert.equal(scanChecksum(twin.engine).hex(), twin.engine.checksum.hex());
  assertConsistent(d);
});

test('clients sharing a recent-client entry, and a restored state, find their own slots', () => {
  const tick = (d: EngineDriver, clientId: number, clientSeq: number): EventRecord =>
    d.submit({ kind: CommandKind.Tick, clientId, clientSeq })[0];
  const a = new EngineDriver();
  // 3 and 3 + clientSlotCacheSize share an entry of the table's cache of recent clients.
  const clients = [3, 3 + clientSlotCacheSize, 4];
  const firsts = clients.map((clientId) => tick(a, clientId, 1).sequence);
  for (const clientId of clients) tick(a, clientId, 2);
  clients.forEach((clientId, i) => {
    const again = tick(a, clientId, 1);
    assert.equal(again.kind, EventKind.Duplicate, `client ${clientId}`);
    assert.equal(again.otherId, firsts[i], `client ${clientId}'s own first command`);
  });
  // The same ids in other slots: 4 takes slot 0, where `a` keeps 3.
  const b = new EngineDriver();
  tick(b, 4, 10);
  const twenty = tick(b, 3, 20).sequence;
  const image = b.engine.image();
  a.engine.restore(
    image.arrays.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice()),
    image.counters,
    image.arrays.map((v) => v.byteLength),
  );
  a.sequence = b.sequence;
  a.timestamp = b.timestamp;
  const again = tick(a, 3, 20);
  assert.equal(again.kind, EventKind.Duplicate, "3's seq 20, in the restored state's slot");
  assert.equal(again.otherId, twenty);
  assert.equal(tick(a, 4, 11).kind, EventKind.Ticked);
  assert.equal(tick(a, 3 + clientSlotCacheSize, 1).kind, EventKind.Ticked, 'unknown there');
  assert.equal(a.engine.checksum.hex(), scanChecksum(a.engine).hex());
});
