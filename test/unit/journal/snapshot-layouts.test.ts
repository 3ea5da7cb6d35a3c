/**
 * Snapshots in snapshots.mdb across layouts: this build writes layout 8 (sparse: its size follows
 * the state in use, not the capacities) and still loads layout 6, which folders upgraded from
 * an earlier build hold. Either loads bit for bit, as start, a standby and verify load them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JournalDb } from '../../../src/journal/journal-db.js';
import {
  listSnapshots,
  writeSnapshot,
  type SnapshotFields,
  type SnapshotHeader,
} from '../../../src/journal/snapshot-store.js';
import { Replica } from '../../../src/pipeline/replay.js';
import {
  engineConfigDefault,
  stateLayoutVersion,
  type EngineConfig,
} from '../../../src/constants.js';
import { CommandFlag, CommandKind } from '../../../src/protocol/command-layout.js';
import type { Engine } from '../../../src/engine/engine.js';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { opArbitrary } from '../../harness/generators.js';
import { playOps, start } from '../../harness/model-run.js';
import { withDb } from '../../harness/fresh-db.js';
import { layout6Fault, writeLayout6Snapshot } from '../../harness/layout6-snapshot.js';

function fieldsOf(engine: Engine, sequence: number): SnapshotFields {
  return {
    sequence,
    timestamp: 0,
    batchHash: '00',
    config: engine.config,
    stateChecksum: engine.checksum.hex(),
  };
}

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Loads `header` into a fresh replica and checks every array against `want`'s, bit for bit. */
function assertLoadsAs(db: JournalDb, header: SnapshotHeader, want: Engine): void {
  const replica = new Replica(want.config as EngineConfig);
  assert.equal(replica.tryLoad(db, header), null, 'the snapshot loads');
  const got = replica.engine.image().arrays;
  const arrays = want.image().arrays;
  for (let i = 0; i < arrays.length; i++) {
    assert.ok(bytesOf(got[i]).equals(bytesOf(arrays[i])), `array ${i} bit for bit`);
  }
  assert.deepEqual(replica.engine.image().counters, want.image().counters);
  assert.equal(replica.engine.checksum.hex(), want.checksum.hex());
}

/** An engine after a seeded run of every kind of command (orders, cancels, pendings, ...). */
function engineInUse(seed: number): Engine {
  const [ops] = fc.sample(fc.array(opArbitrary, { minLength: 150, maxLength: 150 }), {
    seed,
    numRuns: 1,
  });
  const run = start(smallConfig);
  playOps(run, ops);
  if (run.d.engine.chainOpen() || run.d.engine.position()[0] !== run.d.sequence) {
    run.submit({ kind: CommandKind.Tick, clientId: 9, clientSeq: run.next(9) });
  }
  return run.d.engine;
}

test('a snapshot of layout 6, as earlier builds wrote it, still loads bit for bit', () =>
  withDb((db) => {
    for (const seed of [1, 2, 3]) {
      const engine = engineInUse(seed);
      const sequence = engine.position()[0];
      writeLayout6Snapshot(db, fieldsOf(engine, sequence), engine.image());
      const [header] = listSnapshots(db).filter((h) => h.sequence === sequence);
      assert.equal(header.layout, 6);
      assertLoadsAs(db, header, engine);
    }
  }));

test('this build writes layout 8, and its snapshots load bit for bit', () =>
  withDb((db) => {
    for (const seed of [4, 5, 6]) {
      const engine = engineInUse(seed);
      const header = writeSnapshot(db, fieldsOf(engine, engine.position()[0]), engine.image(), 3);
      assert.ok(header !== null);
      assert.equal(header.layout, stateLayoutVersion);
      assert.equal(stateLayoutVersion, 8);
      assertLoadsAs(db, header, engine);
    }
  }));

test('a build that knows only layout 6 finds a layout 8 snapshot sound, and skips it', () =>
  withDb((db) => {
    // Going back a release: its start skips an 8 for its layout, and replays; its verify first
    // reads every snapshot's parts and hash, and named a sound 7 corrupt when they differed.
    for (const seed of [7, 8]) {
      const engine = engineInUse(seed);
      const header = writeSnapshot(db, fieldsOf(engine, engine.position()[0]), engine.image(), 3);
      assert.ok(header !== null);
      assert.equal(layout6Fault(db, header), null);
    }
  }));

/** A driver on `config` with `accounts` funded accounts and `orders` resting orders. */
function filled(config: EngineConfig, accounts: number, orders: number): EngineDriver {
  const d = new EngineDriver(config);
  d.submit({ kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  d.submit({ kind: CommandKind.AddAsset, ref: 2, aux: 2 });
  d.submit({ kind: CommandKind.AddInstrument, ref: 1, target: 2, aux: 1, price: 1, quantity: 1 });
  const ids: number[] = [];
  for (let a = 1; a <= accounts; a++) {
    const id = a % 2 === 0 ? a : 1_000_000_007 * a; // half through the accounts' hash map
    ids.push(id);
    d.submit({ kind: CommandKind.CreateAccount, account: id });
    d.submit({ kind: CommandKind.Deposit, account: id, ref: 1, quantity: 1e9 });
    d.submit({ kind: CommandKind.Deposit, account: id, ref: 2, quantity: 1e9 });
  }
  for (let i = 0; i < orders; i++) {
    const sell = (i & 1) === 1;
    const price = sell ? 5001 + (i % 100) : 4999 - (i % 100);
    d.submit({
      kind: CommandKind.PlaceOrder,
      account: ids[i % ids.length],
      ref: 1,
      flags: sell ? CommandFlag.Sell : 0,
      price,
      quantity: 1,
    });
  }
  return d;
}

/** Bytes the snapshot of `d`'s engine stores (its body), after checking it loads back. */
function storedBytes(db: JournalDb, d: EngineDriver): number {
  const engine = d.engine;
  // Each at a sequence of its own: a write at a stored one's sequence shares its keys.
  const sequence = d.sequence + listSnapshots(db).length * 1_000_000;
  const header = writeSnapshot(db, fieldsOf(engine, sequence), engine.image(), 1);
  assert.ok(header !== null);
  assertLoadsAs(db, header, engine);
  return header.arrays.reduce((sum, [, stored]) => sum + stored, 0);
}

/** 16 times the default orders and accounts: an empty one's tables take 1.6 GB. */
const largeConfig: EngineConfig = {
  ...engineConfigDefault,
  accountCountMax: 1 << 22,
  orderCountMax: 1 << 22,
  levelCountMax: 1 << 20,
  pendingCountMax: 1 << 20,
};

test("an empty engine's snapshot is small, whatever its capacities", () =>
  withDb((db) => {
    for (const config of [smallConfig, engineConfigDefault, largeConfig]) {
      const stored = storedBytes(db, new EngineDriver(config));
      assert.ok(stored < 256, `an empty engine stores ${stored} bytes`);
    }
  }));

test('a snapshot grows with the state in use, not with the capacities', () =>
  withDb((db) => {
    const accounts = 500;
    const orders = 1_000;
    const atDefault = storedBytes(db, filled(engineConfigDefault, accounts, orders));
    const atLarge = storedBytes(db, filled(largeConfig, accounts, orders));
    // An account's record, its two balances and keys, an order's record, map entries, levels.
    assert.ok(atDefault < 400 * (accounts + orders), `${atDefault} bytes`);
    assert.ok(atLarge < atDefault * 1.25, `${atLarge} bytes at large, ${atDefault} at default`);
  }));
