/**
 * The node's own client ids (protocol/client-ids.ts: the expiry Ticks, the cancel-on-disconnect
 * rounds, a term's Tick) in the client table. Before, they took slots of the customers'
 * clientCountMax, and once customers had filled it they were refused IdempotencyClientTableFull:
 * a lost session's orders stayed. They now have slots of their own beyond the customers', keep
 * their idempotency, and replicas and snapshots agree on the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { Engine } from '../../../src/engine/engine.js';
import { scanChecksum } from '../../../src/engine/checksum-scan.js';
import { CommandKind } from '../../../src/protocol/command-layout.js';
import {
  clientIdMax,
  disconnectClientId,
  reservedClientId,
  timerClientId,
  type CommandFields,
} from '../../../src/protocol/command-writer.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { Status } from '../../../src/protocol/status.js';
import { usedBytes } from '../../../src/stdx/state-image.js';

const config = { ...smallConfig, clientCountMax: 2 };
/** The node's own ids: the last values of 32 bits. */
const nodeClientIdCount = 0xffff_ffff - clientIdMax;
const USD = 1;

/** A ledger set up by client 1 (a customer), with a resting order of account 10. */
function setUp(): EngineDriver {
  const d = new EngineDriver(config);
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  d.submit({ kind: CommandKind.AddAsset, ref: 2, aux: 0 });
  for (const account of [10, 11]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1_000 });
  const instrument = { ref: 1, target: 2, aux: USD, price: 1, quantity: 1 };
  d.submit({ kind: CommandKind.AddInstrument, ...instrument });
  const order = { account: 10, ref: 1, price: 5, quantity: 3 };
  assert.equal(d.submit({ kind: CommandKind.PlaceOrder, ...order })[0].status, Status.Ok);
  return d;
}

const tick = (clientId: number, clientSeq: number): CommandFields => ({
  kind: CommandKind.Tick,
  clientId,
  clientSeq,
});

const cancelAll = (clientSeq: number): CommandFields => ({
  kind: CommandKind.CancelAll,
  clientId: disconnectClientId,
  clientSeq,
  account: 10,
});

test("customers fill the table: the node's own commands are still decided", () => {
  const d = setUp();
  assert.equal(d.submit(tick(2, 1))[0].status, Status.Ok, 'the second customer');
  const [third] = d.submit(tick(3, 1));
  assert.equal(third.status, Status.IdempotencyClientTableFull, 'customers filled the table');
  const [round] = d.submit(cancelAll(1_000));
  assert.equal(round.kind, EventKind.AllCanceled, 'a cancel-on-disconnect round cancels');
  assert.equal(round.status, Status.Ok);
  assert.equal(round.quantity, 1, 'the resting order');
  const [timer] = d.submit(tick(timerClientId, 5_000));
  assert.equal(timer.kind, EventKind.Ticked, "the expiry timer's Tick");
  const [term] = d.submit(tick(reservedClientId, 7));
  assert.equal(term.kind, EventKind.Ticked, "a term's Tick");
  // Still idempotent: a round resent under its seq (a new primary's) is a repeat.
  const [again] = d.submit(cancelAll(1_000));
  assert.equal(again.kind, EventKind.Duplicate);
  assert.equal(again.otherId, round.sequence);
  const [behind] = d.submit(tick(timerClientId, 4_000));
  assert.equal(behind.status, Status.IdempotencySeqOutOfOrder);
  assert.equal(d.submit(tick(3, 2))[0].status, Status.IdempotencyClientTableFull);
  const clients = d.engine.clients;
  assert.equal(clients.customerCount(), 2);
  assert.equal(clients.nodeCount, nodeClientIdCount);
  assert.equal(clients.count, config.clientCountMax + nodeClientIdCount);
});

test("the node's ids take no customer's slot", () => {
  const d = new EngineDriver(config);
  d.clientId = 5;
  assert.equal(d.submit(tick(timerClientId, 1))[0].status, Status.Ok);
  assert.equal(d.submit(tick(disconnectClientId, 1))[0].status, Status.Ok);
  assert.equal(d.submit(tick(reservedClientId, 1))[0].status, Status.Ok);
  assert.equal(d.submit(tick(5, 1))[0].status, Status.Ok);
  assert.equal(d.submit(tick(6, 1))[0].status, Status.Ok, 'clientCountMax customers');
  assert.equal(d.submit(tick(7, 1))[0].status, Status.IdempotencyClientTableFull);
  assert.equal(d.engine.clients.customerCount(), config.clientCountMax);
});

/** `engine`'s state as a snapshot keeps it: used bytes only, with the full lengths apart. */
function snapshotOf(engine: Engine): {
  arrays: Uint8Array[];
  counters: number[];
  lengths: number[];
} {
  const image = engine.image();
  const arrays = image.arrays.map((a, i) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice(0, usedBytes(image, i)),
  );
  return { arrays, counters: [...image.counters], lengths: image.arrays.map((a) => a.byteLength) };
}

test('a replica of the journal and a restored snapshot: same table, same decisions', () => {
  const d = setUp();
  d.submit(tick(2, 1));
  d.submit(cancelAll(1_000));
  d.submit(tick(timerClientId, 5_000));
  d.submit(tick(3, 1)); // refused: not recorded
  const replica = d.replay();
  assert.equal(replica.checksum.hex(), d.engine.checksum.hex(), 'replica = primary');
  assert.equal(scanChecksum(replica).hex(), replica.checksum.hex());
  for (const field of ['count', 'nodeCount'] as const) {
    assert.equal(replica.clients[field], d.engine.clients[field], field);
  }
  // A snapshot of the replica, restored into an engine with a state of its own first.
  const saved = snapshotOf(replica);
  const twin = new EngineDriver(config);
  for (let seq = 1; seq <= 3; seq++) twin.submit(tick(100 + seq, 1));
  twin.engine.restore(saved.arrays, saved.counters, saved.lengths);
  assert.equal(twin.engine.checksum.hex(), d.engine.checksum.hex(), 'restored = primary');
  assert.equal(twin.engine.clients.customerCount(), 2);
  assert.equal(twin.engine.clients.nodeCount, 2);
  const next: CommandFields[] = [
    tick(4, 1), // a new customer: still refused
    tick(reservedClientId, 3), // the last node id: a slot of its own
    cancelAll(1_000), // a repeat
    cancelAll(1_001),
    tick(2, 2),
  ];
  const heads = next.map((fields) => {
    const want = d.submit(fields);
    const got = twin.submitAt(fields, d.sequence, d.timestamp);
    assert.deepEqual(got, want, JSON.stringify(fields));
    return got[0];
  });
  assert.deepEqual(
    heads.map((h) => h.status),
    [Status.IdempotencyClientTableFull, Status.Ok, Status.Ok, Status.Ok, Status.Ok],
  );
  assert.equal(heads[2].kind, EventKind.Duplicate);
  assert.equal(twin.engine.checksum.hex(), d.engine.checksum.hex());
  const [a, b] = [twin.engine.clients, d.engine.clients];
  assert.deepEqual([a.count, a.nodeCount], [b.count, b.nodeCount]);
  assert.deepEqual(a.ids, b.ids, 'the same ids in the same slots');
  assert.deepEqual(a.entries, b.entries, 'the same windows');
  assert.deepEqual(a.map.entries, b.map.entries);
});
