/**
 * The snapshotter's copy is the snapshot's body (src/journal/snapshot-body.ts): encoded straight
 * from the state into its buffer, it writes there only the bytes a snapshot stores, not every
 * used byte of the state (795 MB at 16M accounts and 4M orders, when 20.6 MB were stored), and
 * a body taken between two commands stays that state's image while the engine goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfigDefault } from '../../../src/constants.js';
import { bodyBytesMax, encodeBody } from '../../../src/journal/snapshot-body.js';
import { RunsSource } from '../../../src/journal/snapshot-runs.js';
import {
  listSnapshots,
  writeSnapshotBody,
  type SnapshotFields,
} from '../../../src/journal/snapshot-store.js';
import { Replica } from '../../../src/pipeline/replay.js';
import { basesOf, ImageBase, type StateImage } from '../../../src/stdx/state-image.js';
import { CommandFlag, CommandKind } from '../../../src/protocol/command-layout.js';
import { EngineDriver } from '../../harness/engine-driver.js';
import { withDb } from '../../harness/fresh-db.js';

const sentinel = 0x5a;

/** A driver at the default capacities with a few funded accounts and resting orders. */
function inUse(): EngineDriver {
  const d = new EngineDriver(engineConfigDefault);
  d.submit({ kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  d.submit({ kind: CommandKind.AddAsset, ref: 2, aux: 2 });
  d.submit({ kind: CommandKind.AddInstrument, ref: 1, target: 2, aux: 1, price: 1, quantity: 1 });
  for (let a = 1; a <= 40; a++) {
    const id = a % 2 === 0 ? a : 1_000_000_007 * a; // half through the accounts' hash map
    d.submit({ kind: CommandKind.CreateAccount, account: id });
    d.submit({ kind: CommandKind.Deposit, account: id, ref: 1, quantity: 1e9 });
    d.submit({ kind: CommandKind.Deposit, account: id, ref: 2, quantity: 1e9 });
    place(d, id, a);
  }
  return d;
}

function place(d: EngineDriver, account: number, i: number): void {
  const sell = (i & 1) === 1;
  d.submit({
    kind: CommandKind.PlaceOrder,
    account,
    ref: 1,
    flags: sell ? CommandFlag.Sell : 0,
    price: sell ? 5001 + (i % 50) : 4999 - (i % 50),
    quantity: 1,
  });
}

/** The first index of `bytes` from `from` on that is not the sentinel, or -1. */
function touchedAfter(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.byteLength; i++) if (bytes[i] !== sentinel) return i;
  return -1;
}

test("the snapshotter's buffer takes the stored body, not the state's used bytes", () => {
  const image = inUse().engine.image();
  const target = new Uint8Array(bodyBytesMax(image)).fill(sentinel);
  const { arrays, bodyBytes } = encodeBody(target, image);
  assert.equal(touchedAfter(target, bodyBytes), -1, 'nothing written past the body');
  // The default capacities' hash tables are used whole: 40 accounts store a sliver of them.
  assert.ok(bodyBytes * 100 < bodyBytesMax(image), `${bodyBytes} of ${bodyBytesMax(image)}`);
  let at = 0;
  const parts = arrays.map(([, stored]) => target.subarray(at, (at += stored)));
  const source = new RunsSource(
    parts,
    arrays.map(([, , runs]) => runs),
    basesOf(image),
  );
  for (let i = 0; i < image.arrays.length; i++) {
    const a = image.arrays[i];
    const got = new Uint8Array(a.byteLength).fill(sentinel);
    source.write(i, got, got.byteLength);
    const want = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    assert.ok(Buffer.from(got).equals(want), `array ${i} decodes bit for bit`);
  }
});

test('a dense array is stored as its used bytes, and nothing past them is written', () => {
  const dense = new Int32Array(64).map((_, i) => i * 2 + 1); // every word off its base
  const sparse = new Int32Array(64);
  sparse[9] = 3;
  const image: StateImage = { arrays: [dense, sparse], counters: [], used: [128, 256] };
  const target = new Uint8Array(bodyBytesMax(image) + 64).fill(sentinel);
  const { arrays, bodyBytes } = encodeBody(target, image);
  assert.deepEqual(arrays, [
    [256, 128, -1],
    [256, 12, 1],
  ]);
  assert.equal(bodyBytes, 140);
  assert.ok(Buffer.from(target.subarray(0, 128)).equals(Buffer.from(dense.buffer, 0, 128)));
  assert.equal(touchedAfter(target, bodyBytes), -1, 'nothing written past the body');
  assert.deepEqual(basesOf(image), [ImageBase.Zeros, ImageBase.Zeros]);
});

test('a body encoded between two commands loads as that state while the engine went on', () =>
  withDb((db) => {
    const d = inUse();
    const image = d.engine.image();
    // Shared, as the snapshotter's buffer is (lmdb-js stores no such view's bytes as they are).
    const target = new Uint8Array(new SharedArrayBuffer(bodyBytesMax(image)));
    const encoded = encodeBody(target, image);
    const fields: SnapshotFields = {
      sequence: d.sequence,
      timestamp: 0,
      batchHash: '00',
      config: d.engine.config,
      stateChecksum: d.engine.checksum.hex(),
    };
    const counters = [...image.counters];
    const taken = d.engine.checksum.hex();
    // The replica goes on applying while the pool writes: orders, accounts, a cancel.
    for (let i = 0; i < 30; i++) place(d, 2 * (i + 1), 100 + i);
    d.submit({ kind: CommandKind.CreateAccount, account: 9_999 });
    assert.notEqual(d.engine.checksum.hex(), taken, 'the engine moved on');
    const body = { ...encoded, bytes: target, counters, bases: basesOf(image) };
    const header = writeSnapshotBody(db, fields, body, 1);
    assert.ok(header !== null);
    assert.deepEqual(
      listSnapshots(db).map((h) => h.sequence),
      [fields.sequence],
    );
    const replica = new Replica(engineConfigDefault);
    assert.equal(replica.tryLoad(db, header), null, 'the snapshot loads and checks out');
    assert.equal(replica.engine.checksum.hex(), taken, "the state at the body's sequence");
  }));

test('a buffer of exactly 4 GiB takes the body as a small one does', () => {
  const image = inUse().engine.image();
  const small = new Uint8Array(bodyBytesMax(image));
  const expected = encodeBody(small, image);
  // 2^32 bytes is the longest Uint8Array V8 makes here; the buffer's pages are lazy, so only
  // what the body writes is allocated. Its word view was `byteLength >>> 2` words: 0, and the
  // word writes were dropped silently (the byte writes and copies landed).
  const huge = new Uint8Array(new SharedArrayBuffer(2 ** 32));
  const encoded = encodeBody(huge, image);
  assert.equal(encoded.bodyBytes, expected.bodyBytes);
  assert.deepEqual(encoded.arrays, expected.arrays);
  assert.ok(
    Buffer.from(huge.buffer, 0, expected.bodyBytes).equals(small.subarray(0, expected.bodyBytes)),
    'the same body bytes',
  );
});
