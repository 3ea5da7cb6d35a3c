/**
 * A cluster primary's journal writer with the journal log on (src/pipeline/journal-log.ts):
 * its batches go through the member's standby log, the same file it writes as a standby. The
 * log's mark moves while it leads; demoted, it follows on in that log (its next record after
 * LMDB's mark); and its batches only the log holds when it dies (LMDB put back to an earlier
 * mark: journal-log-folder.ts) are back at its start. Each test fails on the code before the
 * journal log: a primary never wrote the log, so its mark stood still and there was nothing to
 * rewind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient } from '../../src/client/client.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import type { ReplicaStore } from '../../src/replication/replica-store.js';
import { StandbyLog } from '../../src/replication/standby-log.js';
import { TestCluster, transfers } from '../harness/cluster-driver.js';
import { journal, rewind } from '../harness/journal-log-folder.js';

/** Three members, each with its standby log and the journal log on. */
function logged(): Promise<TestCluster> {
  return TestCluster.start(3, undefined, [], undefined, undefined, undefined, true, true);
}

function markOf(node: ClusterNode): number {
  return (node as unknown as { store: ReplicaStore }).store.logMark().record;
}

/** Stops every member (no handover: the primary stays the last to lead), folders kept. */
async function stopAll(cluster: TestCluster): Promise<void> {
  for (let i = 0; i < cluster.nodes.length; i++) {
    await cluster.nodes[i]?.stop({ handOver: false });
    cluster.nodes[i] = null;
  }
}

test('cluster: the primary journals through its log; demoted, it follows on in it', async () => {
  const cluster = await logged();
  try {
    const client = await cluster.setUpClient(1, 50);
    const first = await cluster.primary();
    const before = markOf(first);
    await transfers(client, 100);
    assert.ok(markOf(first) > before + 50, "the primary's batches went through its log");
    first.silence(); // it steps down: demoted, it follows on
    await cluster.primary(first, 20_000);
    first.heal();
    const demoted = markOf(first);
    await transfers(client, 100);
    await cluster.assertOneHistory(client, []);
    assert.ok(markOf(first) > demoted, 'as a standby, it goes on writing the log');
    await client.close();
    await stopAll(cluster);
    for (const dir of cluster.dirs) {
      assert.equal(StandbyLog.recordsPast(dir, journal(dir).mark), 0, `${dir}: all in LMDB`);
    }
  } finally {
    await cluster.stop();
  }
});

test("cluster: a primary's batches only its log holds are back at its start", async () => {
  const cluster = await logged();
  try {
    const client = await cluster.setUpClient(1, 50);
    const primary = await cluster.primary();
    await transfers(client, 150);
    await client.close();
    await stopAll(cluster);
    const dir = cluster.dirs[primary.id - 1];
    const whole = journal(dir).firsts;
    const { first } = rewind(dir, 40); // its last 40 batches: LMDB never took them
    assert.ok(
      journal(dir).firsts.every((f) => f < first),
      'LMDB lacks them',
    );
    for (let id = 1; id <= 3; id++) cluster.nodes[id - 1] = await cluster.boot(id, false);
    await cluster.primary();
    const again = await BourseClient.connect(cluster.urls()[0], {
      clientId: 2,
      members: cluster.urls(),
      reconnectAttempts: 50,
    });
    await transfers(again, 20);
    await cluster.assertOneHistory(again, []);
    await again.close();
    await stopAll(cluster);
    assert.deepEqual(journal(dir).firsts.slice(0, whole.length), whole, 'its batches are back');
  } finally {
    await cluster.stop();
  }
});
