/**
 * A whole cluster stopped cleanly and started again. Each standby snapshots its state at its
 * stop (its commit limit, stored with it), so that after the restart the member elected takes
 * over from that snapshot instead of replaying every command since its last one: with 1-3M
 * commands to replay, the takeover after a whole-cluster restart took 0.5-4 s. The primary
 * takes none (its state may run past what a majority holds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from '../harness/cluster-driver.js';
import { removeDir } from '../harness/node-driver.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { listSnapshots } from '../../src/journal/snapshot-store.js';
import { Status } from '../../src/protocol/status.js';
import { BourseClient } from '../../src/client/client.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

/** The newest snapshot's sequence in a stopped member's folder (-1: none), its stored commit. */
function stored(dir: string): { snapshot: number; committed: number } {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    const [newest] = listSnapshots(db);
    return {
      snapshot: newest === undefined ? -1 : newest.sequence,
      committed: Number(db.meta.get('committed') ?? '0'),
    };
  } finally {
    closeJournalDb(db);
  }
}

/**
 * No periodic snapshot: the primary's (snapshotIntervalMs, 60 s, after its start) came at the
 * last sequence when the test ran that long (a loaded machine) and read as one at its stop.
 */
const snapshotIntervalMs = 3_600_000;

/**
 * The commands a clean stop's snapshot needs, given smaller than snapshotAtStopSequencesMin
 * (100,000) so that fewer transfers pass it: 101,000 of them took 20 s of this test in CI.
 */
const snapshotAtStopSequencesMin = 5_000;

test('whole-cluster restart: standbys snapshot at a clean stop and restore it', async () => {
  const limits = { snapshotAtStopSequencesMin };
  const none = undefined;
  const first = await TestCluster.start(
    3,
    none,
    [],
    none,
    snapshotIntervalMs,
    none,
    none,
    none,
    limits,
  );
  const dirs = [...first.dirs];
  let second: TestCluster | null = null;
  try {
    const client = await first.setUpClient(31, 5);
    const primary = await first.primary();
    const transfer = { account: 1, target: 2, ref: 1, quantity: 1 };
    const r = await client.transferBatch(
      Array<typeof transfer>(snapshotAtStopSequencesMin + 1_000).fill(transfer),
    );
    assert.equal(r.rejected, 0);
    const last = r.sequence[r.count - 1];
    assert.ok(last - r.sequence[0] >= snapshotAtStopSequencesMin, 'the load passed the minimum');
    await client.close();
    const standbys = first.nodes.filter((n) => n !== primary) as ClusterNode[];
    for (const n of standbys) await first.balancesAt(n.id, last); // applied through `last`
    // All at once. Stopped after the primary, a standby would be elected; stopped before it, one
    // by one on a loaded machine (~0.4-1.6 s each), they left the primary without a majority
    // long enough for it to step down and stop as a standby, snapshotting as one (CI, load 8-12).
    await Promise.all([...standbys, primary].map((n) => n.stop()));
    first.nodes.fill(null);
    for (const n of standbys) {
      const s = stored(dirs[n.id - 1]);
      assert.equal(s.snapshot, last, `member ${n.id} snapshotted its state at its stop`);
      assert.ok(s.committed >= s.snapshot, `member ${n.id} stored its commit with it`);
    }
    assert.ok(stored(dirs[primary.id - 1]).snapshot < last, 'the primary took none');
    // Started again on the same folders: a primary is elected, the history goes on.
    second = await TestCluster.start(3, undefined, dirs);
    const urls = second.urls();
    const elected = await second.primary();
    const again = await BourseClient.connect(urls[elected.id - 1], { clientId: 32, members: urls });
    const [head] = await again.transfer(transfer);
    assert.equal(head.status, Status.Ok);
    assert.ok(head.sequence > last);
    await again.close();
    for (const id of [1, 2, 3]) {
      assert.deepEqual(
        await second.balancesAt(id, head.sequence),
        await second.balancesAt(1, head.sequence),
      );
    }
  } catch (error) {
    console.error([...first.lines, ...(second?.lines ?? [])].join('\n'));
    throw error;
  } finally {
    if (second !== null) await second.stop();
    else for (const n of first.nodes) await n?.stop();
    for (const dir of dirs) removeDir(dir);
  }
});
