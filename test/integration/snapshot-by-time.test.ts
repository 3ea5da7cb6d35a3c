/**
 * A snapshot falls due by time only once enough commands came since the last
 * (snapshotTimeSequencesMin): one command a minute wrote a whole snapshot a minute, and at 4M
 * accounts and 16M orders a snapshot is hundreds of MB whatever the use (the maps' entries and
 * the free lists fill it). A few commands, each after the interval, now take none; with the
 * minimum at 1 (as other tests set it) they do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';
import { smallConfig } from '../harness/engine-driver.js';
import { workload } from '../harness/workload.js';
import { openJournalDb, closeJournalDb } from '../../src/journal/journal-db.js';
import { listSnapshots } from '../../src/journal/snapshot-store.js';
import { Replica } from '../../src/pipeline/replay.js';

/** Snapshots stored after a node took `rounds` commands, each 120 ms after the last. */
async function snapshotsAfter(rounds: number, timeSequencesMin?: number): Promise<number> {
  const dir = tempDataDir();
  try {
    const driver = await NodeDriver.start({
      dataDir: dir,
      config: smallConfig,
      snapshotIntervalEvents: 1_000_000,
      snapshotIntervalMs: 50,
      snapshotTimeSequencesMin: timeSequencesMin,
    });
    const commands = workload(1, rounds, 1);
    for (let i = 0; i < rounds; i++) {
      await new Promise((resolve) => setTimeout(resolve, 120)); // past the interval
      await driver.submit(commands.slice(i, i + 1));
      await driver.untilDurable(i + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // a snapshot due is written
    await driver.stop();
    const db = openJournalDb(dir, { create: false, readOnly: true });
    const headers = listSnapshots(db);
    // Each loads and checks out: the pool wrote the body the snapshotter encoded into its
    // shared buffer (lmdb-js stores garbage for a view of one, when given it as it is).
    for (const header of headers) assert.equal(new Replica(smallConfig).tryLoad(db, header), null);
    closeJournalDb(db);
    return headers.length;
  } finally {
    removeDir(dir);
  }
}

test('a few commands, each past the interval, take no snapshot by time', async () => {
  assert.equal(await snapshotsAfter(4), 0);
});

test('with the minimum at 1, the same commands take snapshots by time', async () => {
  assert.ok((await snapshotsAfter(4, 1)) >= 1);
});
