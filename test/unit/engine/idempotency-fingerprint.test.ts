/**
 * A seq reused by a different command (a payments integrator's audit): it was answered as a
 * Duplicate of the first command, with its Ok, and nothing moved. It is refused now
 * (IdempotencySeqReused), while a true repeat keeps its Duplicate answer; replicas and replay,
 * which learn the fingerprint from the head event, answer the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { assertConsistent, market } from '../../harness/fixtures.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { EventFlag, EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { fingerprintWord } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import type { CommandFields } from '../../../src/protocol/command-writer.js';
import type { EngineConfig } from '../../../src/constants.js';

const USD = 1;
type Fields = Omit<CommandFields, 'clientId' | 'clientSeq'>;

function ledger(config: EngineConfig = smallConfig): EngineDriver {
  const d = new EngineDriver(config);
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11, 12]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 10_000 });
  return d;
}

const transfer: Fields = { kind: CommandKind.Transfer, account: 10, target: 11, ref: USD };

test('the same seq with another amount is refused, not answered with the first Ok', () => {
  const d = ledger();
  const [first] = d.submit({ ...transfer, quantity: 100 });
  assert.equal(first.status, Status.Ok);
  const checksum = d.engine.checksum.hex();
  const [reused] = d.submit({ ...transfer, quantity: 5_000, clientSeq: first.clientSeq });
  assert.deepEqual(
    [reused.kind, reused.status, reused.flags, reused.quantity, reused.id],
    [EventKind.Rejected, Status.IdempotencySeqReused, EventFlag.Head, 5_000, 0],
    'a rejection that copies what was refused, not recorded',
  );
  assert.equal(d.engine.checksum.hex(), checksum, 'nothing applied, nothing recorded');
  assert.deepEqual(d.balance(11, USD), { available: 100, held: 0 });
  const [same] = d.submit({ ...transfer, quantity: 100, clientSeq: first.clientSeq });
  assert.deepEqual(
    [same.kind, same.status, same.id, same.otherId],
    [EventKind.Duplicate, Status.Ok, first.sequence, first.sequence],
    'a true repeat keeps its answer: the original outcome and id',
  );
  const [again] = d.submit({ ...transfer, quantity: 5_000, clientSeq: first.clientSeq });
  assert.equal(again.status, Status.IdempotencySeqReused, 'the refusal recorded nothing');
  assert.deepEqual(d.balance(11, USD), { available: 100, held: 0 });
  assertConsistent(d);
});

test('every field of the command counts; the client id, seq and stamp do not', () => {
  const d = market();
  const order: Fields = { kind: CommandKind.PlaceOrder, account: 10, ref: 1, price: 100 };
  const base: Fields = { ...order, quantity: 10, tif: 1 };
  const [first] = d.submit(base);
  const changes: Fields[] = [
    { ...base, kind: CommandKind.AmendOrder },
    { ...base, flags: 2 },
    { ...base, tif: 0 },
    { ...base, stp: 1 },
    { ...base, account: 11 },
    { ...base, target: 1 },
    { ...base, ref: 2 },
    { ...base, makerFeeBps: 1 },
    { ...base, takerFeeBps: 1 },
    { ...base, price: 105 },
    { ...base, quantity: 20 },
    { ...base, quantity: 10 + 2 ** 32 },
    { ...base, aux: -1 },
  ];
  for (const changed of changes) {
    const [answer] = d.submit({ ...changed, clientSeq: first.clientSeq });
    assert.equal(answer.status, Status.IdempotencySeqReused, JSON.stringify(changed));
  }
  d.advance(60_000_000); // a resend much later is stamped anew: still the same command
  const [repeat] = d.submit({ ...base, clientSeq: first.clientSeq });
  assert.deepEqual([repeat.kind, repeat.id], [EventKind.Duplicate, first.id]);
  const [other] = d.submit({ ...base, clientId: 2, clientSeq: first.clientSeq });
  assert.equal(other.kind, EventKind.OrderAccepted, "another client's seq 1 is its own");
});

test('the window still bounds what is remembered, repeats and reuses alike', () => {
  const d = ledger({ ...smallConfig, idempotencyWindow: 4 });
  const send = { ...transfer, clientId: 5 };
  for (let seq = 1; seq <= 6; seq++) d.submit({ ...send, quantity: seq, clientSeq: seq });
  for (const quantity of [1, 99]) {
    const [old] = d.submit({ ...send, quantity, clientSeq: 1 });
    assert.equal(old.status, Status.IdempotencySeqTooOld, 'forgotten: neither is known');
  }
  const [kept] = d.submit({ ...send, quantity: 3, clientSeq: 3 });
  assert.equal(kept.kind, EventKind.Duplicate);
  const [reused] = d.submit({ ...send, quantity: 99, clientSeq: 3 });
  assert.equal(reused.status, Status.IdempotencySeqReused);
  assert.deepEqual(d.balance(11, USD), { available: 21, held: 0 });
  assertConsistent(d);
});

test('AddInstrument keeps its fingerprint in release (its other_id is the quote asset)', () => {
  const d = market();
  const add: Fields = {
    kind: CommandKind.AddInstrument,
    ref: 7,
    target: 2,
    aux: USD,
    price: 1,
    quantity: 1,
  };
  const [added] = d.submit(add);
  assert.deepEqual([added.kind, added.otherId], [EventKind.InstrumentAdded, USD]);
  assert.notEqual(added.release, 0);
  const [same] = d.submit({ ...add, clientSeq: added.clientSeq });
  assert.equal(same.kind, EventKind.Duplicate);
  const [changed] = d.submit({ ...add, price: 5, clientSeq: added.clientSeq });
  assert.equal(changed.status, Status.IdempotencySeqReused);
  assertConsistent(d);
});

/** A replica built from `d`'s journal (apply only), ready to decide after it. */
function replicaOf(d: EngineDriver, journal: Uint32Array[] = d.journal): EngineDriver {
  const r = new EngineDriver(d.engine.config);
  for (const words of journal) r.engine.applyAt(words, 0);
  r.engine.takeOver();
  r.sequence = d.sequence;
  r.timestamp = d.timestamp;
  r.clientSeq = d.clientSeq;
  return r;
}

test('a replica rebuilt from events answers a reused seq as the primary does', () => {
  const d = ledger();
  const [first] = d.submit({ ...transfer, quantity: 100 });
  const r = replicaOf(d);
  assert.equal(r.engine.checksum.hex(), d.engine.checksum.hex());
  assert.equal(scanChecksum(r.engine).hex(), r.engine.checksum.hex());
  const answers = [];
  for (const quantity of [5_000, 100]) {
    const fields = { ...transfer, quantity, clientSeq: first.clientSeq };
    const [onReplica] = r.submit(fields);
    assert.deepEqual([onReplica], d.submit(fields), 'the same events');
    answers.push([onReplica.kind, onReplica.status]);
  }
  assert.deepEqual(answers, [
    [EventKind.Rejected, Status.IdempotencySeqReused],
    [EventKind.Duplicate, Status.Ok],
  ]);
  assert.equal(r.engine.checksum.hex(), d.engine.checksum.hex());
});

test('the checksum covers the fingerprints: a replica that kept another one differs', () => {
  const d = ledger();
  d.submit({ ...transfer, quantity: 100 });
  const head = d.journal.length - 1;
  const forged = d.journal.map((words) => words.slice());
  forged[head][fingerprintWord(EventKind.Transferred)] ^= 1;
  assert.equal(forged[head][EventWord.kindStatus] & 0xff, EventKind.Transferred);
  const r = replicaOf(d, forged);
  assert.notEqual(r.engine.checksum.hex(), d.engine.checksum.hex());
  assert.equal(scanChecksum(r.engine).hex(), r.engine.checksum.hex(), 'rescan agrees');
});

test('an outcome journaled before fingerprints were kept accepts any repeat, as before', () => {
  const d = ledger();
  const [first] = d.submit({ ...transfer, quantity: 100 });
  const [deposit] = d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1 });
  // Events of the old layout: recorded heads had nothing where the fingerprint goes.
  const old = d.journal.map((words) => {
    const copy = words.slice();
    if ((copy[EventWord.flagsTifStp] & EventFlag.Record) !== 0) {
      copy[fingerprintWord(copy[EventWord.kindStatus] & 0xff)] = 0;
    }
    return copy;
  });
  const r = replicaOf(d, old);
  const [repeat] = r.submit({ ...transfer, quantity: 5_000, clientSeq: first.clientSeq });
  assert.deepEqual(
    [repeat.kind, repeat.status, repeat.id],
    [EventKind.Duplicate, Status.Ok, first.sequence],
  );
  const [asOrder] = r.submit({
    kind: CommandKind.Transfer,
    account: 10,
    target: 12,
    ref: USD,
    quantity: 1,
    clientSeq: deposit.clientSeq,
  });
  assert.deepEqual(
    [asOrder.kind, asOrder.id],
    [EventKind.Duplicate, 0],
    'the original (a deposit) made no transfer: no id is named',
  );
  const [next] = r.submit({ ...transfer, quantity: 1 });
  assert.equal(next.status, Status.Ok, 'new commands record fingerprints again');
  const [reused] = r.submit({ ...transfer, quantity: 2, clientSeq: next.clientSeq });
  assert.equal(reused.status, Status.IdempotencySeqReused);
  assert.equal(scanChecksum(r.engine).hex(), r.engine.checksum.hex());
});
