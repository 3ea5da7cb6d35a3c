/**
 * `bourse verify` on snapshots that `bourse start` cannot use: taken under a smaller capacity
 * than the folder's now (raised on a later start). Verify passed them as checked, with the
 * others, while start skipped them ("taken with another engine config") and replayed the
 * journal: it now names them apart, still with exit 0 (they are not damage). And a snapshot
 * taken inside a journal batch (a header moved, its SHA-256 redone): verify named it, then
 * said the sound journal's next batch "does not link" (its replay went on from the next batch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { smallConfig } from '../harness/engine-driver.js';
import { journaledFolder } from '../harness/journaled-folder.js';
import { NodeDriver, removeDir } from '../harness/node-driver.js';
import {
  closeJournalDb,
  openJournalDb,
  sequenceKey,
  type JournalDb,
} from '../../src/journal/journal-db.js';
import { lastSequenceOf, readBatches } from '../../src/journal/journal-reader.js';
import {
  listSnapshots,
  snapshotDigest,
  type SnapshotHeader,
} from '../../src/journal/snapshot-store.js';
import { Replica } from '../../src/pipeline/replay.js';

const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));

test('verify names the snapshots start skips for another engine config', async () => {
  const dir = await journaledFolder({ count: 900, chunk: 100, snapshotEvents: 300, pauseMs: 30 });
  try {
    const skipped: string[] = [];
    const raised = { ...smallConfig, accountCountMax: smallConfig.accountCountMax * 2 };
    const log = (line: string): void => void skipped.push(line);
    const driver = await NodeDriver.start({ dataDir: dir, config: raised, log });
    await driver.stop();
    const said = skipped.filter((l) => /taken with another engine config/.test(l)).length;
    assert.ok(said > 0, skipped.join('\n'));

    const r = spawnSync(process.execPath, [main, 'verify', '--data', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const line = /^verify: ok: .*$/m.exec(r.stdout)?.[0] ?? r.stdout;
    const them = said === 1 ? 'it' : 'them';
    const expected =
      `, ${said} snapshots (0 usable by start; ${said} of another engine config: ` +
      `start skips ${them} and replays from the journal)`;
    assert.ok(line.endsWith(expected), line);
  } finally {
    removeDir(dir);
  }
});

/** Batches of the folder's journal, as [first sequence, last sequence]. */
function batchRanges(dir: string): [number, number][] {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  const ranges: [number, number][] = [];
  readBatches(db, sequenceKey(0), null, (view) => {
    ranges.push([view.firstSequence, lastSequenceOf(view)]);
    return true;
  });
  void closeJournalDb(db);
  return ranges;
}

test('a replay resumed inside a batch goes on inside it, as one replay to there', async () => {
  const dir = await journaledFolder({ count: 900, chunk: 100, snapshotEvents: 300, pauseMs: 30 });
  try {
    const inside = batchRanges(dir).filter(([first, last]) => last - first >= 4);
    assert.ok(inside.length >= 2, 'batches of several commands');
    const limits = inside.flatMap(([first, last]) => [first + 1, first + 3, last]);
    const db = openJournalDb(dir, { create: false, readOnly: true });
    const stepped = new Replica(smallConfig);
    try {
      for (const limit of limits) {
        stepped.replay(db, limit); // it went on from the next batch: "does not link"
        const once = new Replica(smallConfig);
        once.replay(db, limit);
        assert.equal(stepped.sequence, limit);
        assert.equal(stepped.engine.checksum.hex(), once.engine.checksum.hex(), `at ${limit}`);
        assert.equal(stepped.eventsApplied, once.eventsApplied);
      }
    } finally {
      void closeJournalDb(db);
    }
  } finally {
    removeDir(dir);
  }
});

test('verify names a snapshot inside a batch, and nothing of the sound journal', async () => {
  const dir = await journaledFolder({ count: 900, chunk: 100, snapshotEvents: 300, pauseMs: 30 });
  try {
    const ranges = batchRanges(dir);
    const end = ranges.at(-1)?.[1] ?? 0;
    // One with batches after it (its replay went on), in a batch of several commands.
    const inBatch = (sequence: number): boolean =>
      ranges.some(([first, last]) => last === sequence && last > first);
    const db = openJournalDb(dir, { create: false, readOnly: false });
    const chosen = listSnapshots(db).find((h) => h.sequence < end && inBatch(h.sequence));
    assert.ok(chosen !== undefined, 'a snapshot before the end, in a batch of several');
    moveSnapshot(db, chosen, chosen.sequence - 1); // its SHA-256 redone: the header holds
    await closeJournalDb(db);
    const r = spawnSync(process.execPath, [main, 'verify', '--data', dir], { encoding: 'utf8' });
    assert.equal(r.status, 65, r.stdout + r.stderr);
    const problems = r.stdout.split('\n').filter((line) => line.startsWith('verify: CORRUPT'));
    assert.deepEqual(problems, [
      `verify: CORRUPT at sequence ${chosen.sequence - 1}: snapshot at sequence ` +
        `${chosen.sequence - 1} is not at a batch end of the journal`,
    ]);
  } finally {
    removeDir(dir);
  }
});

/** Stores `header`'s snapshot again at `sequence`, with a SHA-256 of its own, and drops it. */
function moveSnapshot(db: JournalDb, header: SnapshotHeader, sequence: number): void {
  const store = db.snapshots;
  assert.ok(store !== null);
  const key = (at: number, part: number): Buffer => {
    const k = Buffer.alloc(12);
    k.writeBigUInt64BE(BigInt(at));
    k.writeUInt32BE(part, 8);
    return k;
  };
  const parts: Buffer[] = [];
  for (let p = 1; p <= header.chunks; p++) {
    parts.push(Buffer.from(store.getBinary(key(header.sequence, p)) ?? []));
  }
  const moved = { ...header, sequence, sha256: '' };
  moved.sha256 = snapshotDigest(moved, parts);
  store.transactionSync(() => {
    for (let p = 0; p <= header.chunks; p++) store.removeSync(key(header.sequence, p));
    parts.forEach((part, i) => store.putSync(key(sequence, i + 1), part));
    store.putSync(key(sequence, 0), Buffer.from(JSON.stringify(moved)));
  });
}
