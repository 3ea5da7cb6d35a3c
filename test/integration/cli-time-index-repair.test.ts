/**
 * A cluster member's folder journaled before its cuts took their time index entries with them
 * (commit 42bab23) keeps stale entries: one for a batch cut and replaced by another primary's
 * at another time, one for a batch cut off the end. verify calls the folder damaged (65) and
 * `replay --to-time` refuses the times near them (65), though the journal is sound; nothing
 * repaired them. `bourse verify --repair-time-index` rebuilds the index from the journal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBourse, type CliRun } from '../harness/bourse-cli.js';
import { removeDir } from '../harness/node-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import {
  closeJournalDb,
  openJournalDb,
  sequenceKey,
  writeU64BE,
} from '../../src/journal/journal-db.js';
import { lastSequenceOf, readBatches } from '../../src/journal/journal-reader.js';
import { isoTimeUs } from '../../src/protocol/time-us.js';

function bourse(...args: string[]): CliRun {
  return runBourse(args);
}

function timeKey(timeUs: number, sequence: number): Buffer {
  const key = Buffer.alloc(16);
  writeU64BE(key, timeUs, 0);
  sequenceKey(sequence).copy(key, 8);
  return key;
}

/** The index's entries and the journal's last sequence. */
function indexOf(dir: string): { index: Buffer[]; last: number; lastAt: number } {
  const db = openJournalDb(dir, { create: false, readOnly: true, snapshots: false });
  try {
    const index = [...db.timeIndex.getKeys()].map((k) => Buffer.from(k));
    let [last, lastAt] = [0, 0];
    readBatches(db, sequenceKey(0), null, (view) => {
      [last, lastAt] = [lastSequenceOf(view), view.timestamp];
      return true;
    });
    return { index, last, lastAt };
  } finally {
    closeJournalDb(db);
  }
}

/** Marks the folder a member's and writes `keys` into its index, as old members' cuts did. */
function staleMemberFolder(dir: string, keys: Buffer[]): void {
  const db = openJournalDb(dir, { create: false, readOnly: false, snapshots: false });
  try {
    db.meta.putSync('member', '1');
    for (const key of keys) db.timeIndex.putSync(key, Buffer.alloc(0));
  } finally {
    closeJournalDb(db);
  }
}

test('verify --repair-time-index rebuilds a stale member index from the journal', async () => {
  const shape = { count: 3_000, chunk: 500, snapshotEvents: 1_000, pauseMs: 150 };
  const dir = await journaledFolder(shape);
  try {
    const { index, last, lastAt } = indexOf(dir);
    assert.ok(index.length >= 3, `${index.length} entries`);
    // An indexed batch (the next entry is 100 ms or more later): a deposed primary's batch
    // there, 50 ms later, that this one replaced; and one after the journal's end, cut.
    const [at, sequence] = [index[1].readBigUInt64BE(0), index[1].readBigUInt64BE(8)];
    const stale = [
      timeKey(Number(at) + 50_000, Number(sequence)),
      timeKey(lastAt + 200_000, last + 1),
    ];
    const near = isoTimeUs(Number(at) + 60_000); // just after the stale entry's time
    const sound = bourse('replay', '--data', dir, '--to-time', near, '--balances');
    assert.equal(sound.code, 0, sound.err);
    staleMemberFolder(dir, stale);
    const verified = bourse('verify', '--data', dir);
    assert.equal(verified.code, 65, verified.out);
    assert.match(verified.out, /its time index has an entry for sequence \d+ at \d+ µs, but /);
    assert.match(verified.out, /--repair-time-index/, 'verify names the repair');
    const refused = bourse('replay', '--data', dir, '--to-time', near, '--balances');
    assert.equal(refused.code, 65, refused.out + refused.err);
    const repaired = bourse('verify', '--data', dir, '--repair-time-index');
    assert.equal(repaired.code, 0, repaired.out + repaired.err);
    assert.match(repaired.out, /time index rebuilt from the journal: \d+ entries \(of the \d+ it/);
    assert.match(repaired.out, /2 were stale/);
    assert.match(repaired.out, /^verify: ok: /m);
    const rebuilt = indexOf(dir).index.map((k) => k.toString('hex'));
    assert.deepEqual(
      rebuilt,
      index.map((k) => k.toString('hex')),
      "the writer's entries alone",
    );
    const replayed = bourse('replay', '--data', dir, '--to-time', near, '--balances');
    assert.equal(replayed.code, 0, replayed.err);
    assert.equal(replayed.out, sound.out, 'the state at that time, as before');
  } finally {
    removeDir(dir);
  }
});
