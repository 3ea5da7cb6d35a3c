import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver } from '../../harness/engine-driver.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import { EventKind, EventWord } from '../../../src/protocol/event-layout.js';
import { Engine } from '../../../src/engine/engine.js';
import { RecordBuffer } from '../../../src/stdx/records.js';
import { Status } from '../../../src/protocol/status.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';

function funded(): EngineDriver {
  const d = new EngineDriver();
  d.submit({ kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  for (const account of [10, 11]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: 1, quantity: 1_000 });
  return d;
}

test('a transfer moves funds and emits one Transferred event', () => {
  const d = funded();
  const events = d.submit({
    kind: CommandKind.Transfer,
    account: 10,
    target: 11,
    ref: 1,
    quantity: 300,
  });
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, EventKind.Transferred);
  assert.equal(events[0].status, Status.Ok);
  assert.equal(events[0].id, events[0].sequence);
  assert.deepEqual(d.balance(10, 1), { available: 700, held: 0 });
  assert.deepEqual(d.balance(11, 1), { available: 300, held: 0 });
});

test('a transfer beyond the available balance is rejected and changes nothing', () => {
  const d = funded();
  const before = d.engine.checksum.hex();
  const events = d.submit({
    kind: CommandKind.Transfer,
    account: 10,
    target: 11,
    ref: 1,
    quantity: 1_001,
  });
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, EventKind.Rejected);
  assert.equal(events[0].status, Status.LedgerInsufficientFunds);
  assert.deepEqual(d.balance(10, 1), { available: 1_000, held: 0 });
  // Only the idempotency record changed: the checksum moves, balances do not.
  assert.notEqual(d.engine.checksum.hex(), before);
  assert.equal(scanChecksum(d.engine).hex(), d.engine.checksum.hex());
});

test('a replica that applies the journal reaches the same state', () => {
  const d = funded();
  d.submit({ kind: CommandKind.Transfer, account: 10, target: 11, ref: 1, quantity: 5 });
  d.submit({ kind: CommandKind.Transfer, account: 11, target: 10, ref: 1, quantity: 2 });
  const replica = d.replay();
  assert.equal(replica.checksum.hex(), d.engine.checksum.hex());
  assert.equal(scanChecksum(replica).hex(), replica.checksum.hex());
});

test('a replica refuses an event that skips a sequence (lost, or read a ring lap ahead)', () => {
  const d = funded();
  d.submit({ kind: CommandKind.Transfer, account: 10, target: 11, ref: 1, quantity: 5 });
  d.submit({ kind: CommandKind.Transfer, account: 11, target: 10, ref: 1, quantity: 2 });
  const replica = new Engine(d.engine.config);
  const one = RecordBuffer.allocate(1, EventWord.size * 4);
  const journal = d.journal;
  for (let i = 0; i < journal.length - 2; i++) {
    one.u32.set(journal[i]);
    replica.apply(one, 0);
  }
  one.u32.set(journal[journal.length - 1]); // the last command's event; the one before skipped
  assert.throws(() => replica.apply(one, 0), /events follow without a gap/);
  one.u32.set(journal[journal.length - 2]);
  replica.apply(one, 0); // the right next event is still taken
});

test('ids past the direct table go through the map, in decisions, replay and restore', () => {
  const d = new EngineDriver(); // 256 accounts: ids below 256 are found by index
  d.submit({ kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  const ids = [5, 255, 256, 1_000, 2 ** 53 - 1];
  for (const account of ids) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 2 ** 53 - 1, ref: 1, quantity: 1_000 });
  for (let i = 1; i < ids.length; i++) {
    const [account, target] = [ids[ids.length - i], ids[ids.length - i - 1]];
    const events = d.submit({ kind: CommandKind.Transfer, account, target, ref: 1, quantity: 100 });
    assert.equal(events[0].kind, EventKind.Transferred, `${account} -> ${target}`);
  }
  const again = d.submit({ kind: CommandKind.CreateAccount, account: 1_000 });
  assert.equal(again[0].status, Status.LedgerAccountExists);
  for (const unknown of [0, 6, 257, 2 ** 52]) assert.equal(d.engine.accounts.slotOf(unknown), -1);
  assert.deepEqual(d.balance(5, 1), { available: 100, held: 0 });
  assert.deepEqual(d.balance(2 ** 53 - 1, 1), { available: 900, held: 0 });
  const replica = d.replay();
  assert.equal(replica.checksum.hex(), d.engine.checksum.hex());
  const image = d.engine.image();
  const twin = new Engine(d.engine.config);
  twin.restore(
    image.arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice()),
    [...image.counters],
    image.arrays.map((a) => a.byteLength),
  );
  for (const id of ids) assert.equal(twin.accounts.slotOf(id), d.engine.accounts.slotOf(id));
  assert.equal(scanChecksum(twin).hex(), d.engine.checksum.hex());
});
