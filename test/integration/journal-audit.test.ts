/**
 * Damage and tampering that an auditor found the journal tools passing or misreporting: a walk
 * that a damaged LMDB page ends early, a damaged batch key, an unanchored chain's tail, the time
 * index, a snapshot's contents, the stored engine config and events that do not apply. Each is
 * made on a copy of one folder written by a real node.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { runBourse, type CliRun } from '../harness/bourse-cli.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import {
  closeJournalDb,
  openEnv,
  openJournalDb,
  sequenceKey,
  snapshotFile,
  type JournalDb,
} from '../../src/journal/journal-db.js';
import { checkedBatch, readBatches } from '../../src/journal/journal-reader.js';
import { checkChain } from '../../src/journal/chain-check.js';
import {
  BatchEncoder,
  decodeBatch,
  genesisHash,
  type BatchView,
} from '../../src/journal/journal-codec.js';
import { StorageError } from '../../src/journal/journal-errors.js';
import { snapshotPageSizeBytes, stateLayoutVersion } from '../../src/constants.js';
import { snapshotDigest, type SnapshotHeader } from '../../src/journal/snapshot-store.js';

function bourse(...args: string[]): CliRun {
  return runBourse(args);
}

let made = '';

/** A folder with 1,200 commands in several batches and snapshots taken along the way. */
before(async () => {
  made = await journaledFolder({ count: 1_200, chunk: 100, snapshotEvents: 300, pauseMs: 30 });
});

after(() => removeDir(made));

/** A fresh copy of the folder (removed by `done`). */
function copy(): string {
  const dir = tempDataDir();
  cpSync(made, dir, { recursive: true });
  return dir;
}

interface KeyOptions {
  start?: Buffer;
  reverse?: boolean;
  limit?: number;
}

/** `db` whose journal's getKeys gives what `edit` makes of the stored keys (copies). */
function withKeys(db: JournalDb, edit: (keys: Buffer[], o: KeyOptions) => Buffer[]): JournalDb {
  const journal = new Proxy(db.journal, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop !== 'getKeys') {
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      }
      return (o: KeyOptions = {}) =>
        edit(
          [...target.getKeys(o)].map((k) => Buffer.from(k)),
          o,
        );
    },
  });
  return { ...db, journal };
}

/**
 * `db` as a damaged page shows it: the cursor's walk ends before the `keep`-th key. With
 * `reverseToo`, a reverse read ends there as well (a damaged branch page that lost its last
 * child); LMDB's own entry count is left as it is.
 */
function cutWalk(db: JournalDb, keep: number, reverseToo: boolean): JournalDb {
  const all = [...db.journal.getKeys()].map((k) => Buffer.from(k));
  const before = all.filter((k) => Buffer.compare(k, all[keep]) < 0);
  return withKeys(db, (keys, o) => {
    if (o.reverse !== true) return keys.filter((k) => Buffer.compare(k, all[keep]) < 0);
    return reverseToo ? [...before].reverse().slice(0, o.limit) : keys;
  });
}

function walkAll(db: JournalDb): number {
  let batches = 0;
  readBatches(db, sequenceKey(0), genesisHash, () => ++batches > 0);
  return batches;
}

test('a walk that a damaged page ends early is refused, naming the file and where', async () => {
  const db = openJournalDb(made, { create: false, readOnly: true });
  try {
    const total = walkAll(db);
    assert.ok(total > 6, `several batches (${total})`);
    const cut = cutWalk(db, 5, false);
    assert.throws(
      () => walkAll(cut),
      (e: unknown) =>
        e instanceof StorageError &&
        e.code === 'JOURNAL_CORRUPT' &&
        /journal\.mdb is damaged: reading the journal stopped after the batch at sequence/.test(
          e.message,
        ) &&
        /but its last batch is at sequence/.test(e.message),
    );
    // A lost last child: the reverse read ends there too; LMDB's entry count does not.
    assert.throws(() => walkAll(cutWalk(db, 5, true)), /LMDB counts \d+ batches, the walk saw 5/);
    const chain = await checkChain(made, cutWalk(db, 5, true), sequenceKey(0), genesisHash);
    assert.match(chain.problem?.message ?? 'passed', /the walk saw 5/);
  } finally {
    closeJournalDb(db);
  }
});

test('verify and replay pass the undamaged folder', () => {
  const dir = copy();
  try {
    const verified = bourse('verify', '--data', dir);
    assert.equal(verified.code, 0, verified.out + verified.err);
    assert.match(verified.out, /^verify: ok: /m);
    const replayed = bourse('replay', '--data', dir);
    assert.equal(replayed.code, 0, replayed.err);
  } finally {
    removeDir(dir);
  }
});

/** `db` with the `at`-th key read as `damage` makes it (the cursor gives it; a get finds none). */
function damagedKey(db: JournalDb, at: number, damage: (key: Buffer) => void): JournalDb {
  return withKeys(db, (keys, o) => {
    if (o.reverse !== true && keys.length > at) damage(keys[at]);
    return keys;
  });
}

test('a damaged batch key is named by its neighbours, never as a sequence past 2^53', () => {
  const db = openJournalDb(made, { create: false, readOnly: true });
  try {
    const ends: number[] = [];
    readBatches(db, sequenceKey(0), genesisHash, (view) => ends.push(view.firstSequence) > 0);
    for (const byte of [0, 3]) {
      const damaged = damagedKey(db, 2, (key) => (key[byte] ^= 1));
      assert.throws(
        () => walkAll(damaged),
        (e: unknown) => {
          assert.ok(e instanceof StorageError);
          assert.match(e.message, /journal\.mdb is damaged: the key after the batch ending at /);
          assert.match(e.message, new RegExp(`before the key of sequence ${ends[3]} reads `));
          assert.equal(e.sequence, ends[2]);
          for (const n of e.message.match(/\d{6,}/g) ?? []) {
            assert.ok(Number(n) <= Number.MAX_SAFE_INTEGER, `no made-up sequence: ${n}`);
          }
          return true;
        },
      );
    }
    // A key that still sorts in place (LMDB finds it) but is not its batch's own.
    const key = sequenceKey(ends[2]);
    key[0] = 1;
    const value = db.journal.getBinary(sequenceKey(ends[2])) as Buffer;
    assert.throws(
      () => checkedBatch(key, value),
      new RegExp(`batch at sequence ${ends[2]} is stored under a damaged key \\(01`),
    );
  } finally {
    closeJournalDb(db);
  }
});

/**
 * Rewrites the batches from the `from`-th on (counted from the end when negative), re-hashing
 * each so that the chain still holds: `edit` changes the first one's events in place.
 */
function rewriteBatches(dir: string, from: number, edit: (events: Buffer) => void): void {
  const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
  try {
    const stored = [...db.journal.getRange()].map(({ key, value }) => ({
      key: Buffer.from(key),
      view: decodeBatch(Buffer.from(value)) as BatchView,
    }));
    const first = from < 0 ? stored.length + from : from;
    const encoder = new BatchEncoder(1_024);
    let prev = first === 0 ? genesisHash : stored[first - 1].view.hash;
    db.journal.transactionSync(() => {
      for (const { key, view } of stored.slice(first)) {
        const events = Buffer.from(view.events);
        if (key.equals(stored[first].key)) edit(events);
        const hash = new Uint8Array(32);
        const bytes = encoder.encode(
          view.term,
          view.firstSequence,
          view.timestamp,
          events,
          prev,
          hash,
        );
        db.journal.putSync(key, Buffer.from(bytes));
        prev = hash;
      }
    });
  } finally {
    closeJournalDb(db);
  }
}

test('a re-hashed tail whose events do not apply: exit 65 naming the sequence, no stack', () => {
  const dir = copy();
  try {
    // The first command of the second-last batch claims a client seq 1,000 higher: the
    // commands after it go down (the engine's idempotency assert).
    rewriteBatches(dir, -2, (events) =>
      events.writeBigUInt64LE(events.readBigUInt64LE(16) + 1000n, 16),
    );
    // Without snapshots (derived data) every tool reads the rewritten batches from the journal.
    rmSync(snapshotFile(dir));
    for (const tool of ['verify', 'replay', 'start'] as const) {
      const r = bourse(tool, '--data', dir, ...(tool === 'start' ? ['--port', '0'] : []));
      assert.equal(r.code, 65, `${tool}: exit ${r.code} ${r.out} ${r.err}`);
      assert.match(
        r.out + r.err,
        /journal\.mdb: the events at sequence \d+ do not apply \(idempotency: [^)]+\)/,
        tool,
      );
      assert.doesNotMatch(r.err, /internal error|    at /, tool);
    }
  } finally {
    removeDir(dir);
  }
});

/**
 * Changes the newest snapshot's state (every stored word of array `index`: the balances are
 * array 3; layout 8 stores an array as runs, each an 8-byte head and its words, or runs -1, as
 * it is) and re-hashes its header, as a forger would (snapshotDigest). Returns its sequence.
 */
function forgeNewestSnapshot(dir: string, index: number): number {
  const root = openEnv(snapshotFile(dir), false, snapshotPageSizeBytes);
  try {
    const snapshots = root.openDB<Buffer, Buffer>('snapshots', binary);
    const keys = [...snapshots.getKeys()].map((k) => Buffer.from(k));
    const headerKey = keys.filter((k) => k.readUInt32BE(8) === 0).at(-1) as Buffer;
    const header = JSON.parse(String(snapshots.get(headerKey))) as SnapshotHeader;
    assert.equal(header.layout, stateLayoutVersion);
    const part = (n: number): Buffer => Buffer.concat([headerKey.subarray(0, 8), u32BE(n)]);
    const chunks = Array.from({ length: header.chunks }, (_, i) =>
      Buffer.from(snapshots.get(part(i + 1)) as Buffer),
    );
    const state = Buffer.concat(chunks);
    let at = header.arrays.slice(0, index).reduce((sum, [, stored]) => sum + stored, 0);
    const [, stored, runs = 0] = header.arrays[index];
    assert.ok(runs !== 0, 'the array holds something');
    if (runs === -1) for (let end = at + stored; at < end; at++) state[at] ^= 0x01; // as it is
    for (let r = 0; r < runs; r++) {
      const words = state.readUInt32LE(at + 4);
      at += 8;
      for (let end = at + words * 4; at < end; at++) state[at] ^= 0x01;
    }
    for (let i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) {
      state.copy(chunks[i], 0, at, at + chunks[i].length);
    }
    const forged = { ...header, sha256: snapshotDigest(header, chunks) };
    snapshots.transactionSync(() => {
      chunks.forEach((chunk, i) => snapshots.putSync(part(i + 1), chunk));
      snapshots.putSync(headerKey, Buffer.from(JSON.stringify(forged)));
    });
    return Number(headerKey.readBigUInt64BE(0));
  } finally {
    root.close();
  }
}

function u32BE(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;

test('a snapshot whose state was changed and its header re-hashed: verify says so (65)', () => {
  const dir = copy();
  try {
    const sequence = forgeNewestSnapshot(dir, 3);
    const r = bourse('verify', '--data', dir);
    assert.equal(r.code, 65, r.out + r.err);
    const why = `snapshot at sequence ${sequence} does not match its state checksum`;
    assert.match(r.out, new RegExp(`CORRUPT at sequence ${sequence}: ${why}`));
  } finally {
    removeDir(dir);
  }
});

/** Rewrites journal.mdb's meta entries: `edit` gets them and returns those to write. */
function editMeta(dir: string, edit: (meta: Map<string, string>) => void): void {
  const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
  try {
    const meta = new Map([...db.meta.getRange()].map(({ key, value }) => [key, value]));
    edit(meta);
    db.meta.transactionSync(() => {
      for (const key of db.meta.getKeys()) if (!meta.has(key)) db.meta.removeSync(key);
      for (const [key, value] of meta) db.meta.putSync(key, value);
    });
  } finally {
    closeJournalDb(db);
  }
}

test('a damaged stored engine config: exit 65 naming journal.mdb, for every tool', () => {
  const damages: [string, (meta: Map<string, string>) => void, RegExp][] = [
    [
      'a capacity changed',
      (m) => m.set('engine-config', String(m.get('engine-config')).replace(/(\d)(,)/, '$10$2')),
      /its stored engine config does not match its SHA-256/,
    ],
    [
      'no checksum (an older journal) and not JSON',
      (m) => {
        m.delete('engine-config-sha256');
        m.set('engine-config', String(m.get('engine-config')).slice(0, 20));
      },
      /its stored engine config is not JSON/,
    ],
  ];
  for (const [what, damage, why] of damages) {
    const dir = copy();
    try {
      editMeta(dir, damage);
      for (const tool of ['verify', 'replay', 'start'] as const) {
        const r = bourse(tool, '--data', dir, ...(tool === 'start' ? ['--port', '0'] : []));
        assert.equal(r.code, 65, `${what}, ${tool}: exit ${r.code} ${r.out} ${r.err}`);
        assert.match(r.err, /journal\.mdb is damaged: /, `${what}, ${tool}`);
        assert.match(r.err, why, `${what}, ${tool}`);
      }
    } finally {
      removeDir(dir);
    }
  }
});

test('verify prints the head; --head refuses a journal cut or rewritten before it', () => {
  const dir = copy();
  try {
    const first = bourse('verify', '--data', dir);
    const head = /^verify: head (\d+):([0-9a-f]{64})$/m.exec(first.out);
    assert.ok(head !== null, first.out);
    assert.equal(bourse('verify', '--data', dir, '--head', head[0].slice(13)).code, 0);
    // The last batch deleted: the chain still holds; the head kept does not.
    const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
    const last = [...db.journal.getKeys({ reverse: true, limit: 1 })][0];
    db.journal.transactionSync(() => db.journal.removeSync(Buffer.from(last)));
    closeJournalDb(db);
    rmSync(snapshotFile(dir)); // the newest snapshot named the batch deleted
    const cut = bourse('verify', '--data', dir, '--head', `${head[1]}:${head[2]}`);
    assert.equal(cut.code, 65, cut.out + cut.err);
    assert.match(cut.out, new RegExp(`no batch of the journal ends at sequence ${head[1]}`));
    assert.equal(bourse('verify', '--data', dir, '--head', '12:zz').code, 64);
  } finally {
    removeDir(dir);
  }
});

/** Rewrites the time index: `edit` maps each entry's key to its new key, or null to drop it. */
function editTimeIndex(dir: string, edit: (key: Buffer) => Buffer | null): void {
  const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
  try {
    const keys = [...db.timeIndex.getKeys()].map((k) => Buffer.from(k));
    db.timeIndex.transactionSync(() => {
      for (const key of keys) db.timeIndex.removeSync(key);
      for (const key of keys.map(edit))
        if (key !== null) db.timeIndex.putSync(key, Buffer.alloc(0));
    });
  } finally {
    closeJournalDb(db);
  }
}

test('a time index deleted or shifted: verify and replay --to-time refuse (65)', () => {
  const hourUs = 3_600_000_000n;
  const edits: [string, (key: Buffer) => Buffer | null, RegExp][] = [
    ['deleted', () => null, /its time index lacks the entry for the batch at sequence \d+/],
    [
      'an hour later',
      (key) => {
        key.writeBigUInt64BE(key.readBigUInt64BE(0) + hourUs, 0);
        return key;
      },
      /its time index has an entry for sequence \d+ at \d+ µs, but that batch is at \d+/,
    ],
  ];
  for (const [what, edit, why] of edits) {
    const dir = copy();
    try {
      const before = bourse('replay', '--data', dir, '--to-time', '2099-01-01T00:00:00Z');
      editTimeIndex(dir, edit);
      const verified = bourse('verify', '--data', dir);
      assert.equal(verified.code, 65, `${what}: ${verified.out}`);
      assert.match(verified.out, why, what);
      const replayed = bourse('replay', '--data', dir, '--to-time', '2099-01-01T00:00:00Z');
      assert.equal(replayed.code, 65, `${what}: ${replayed.out} ${replayed.err}`);
      assert.match(replayed.err, /journal\.mdb is damaged: its time index /, what);
      assert.match(before.out, /^state at sequence \d+ /, 'the index as written serves');
    } finally {
      removeDir(dir);
    }
  }
});
