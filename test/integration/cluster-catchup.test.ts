/**
 * Members that come back behind, with log compaction keeping two committed entries in memory
 * (logRetain 2): everything they lack is read back from the primary's journal (the log index
 * maps entries to batches), and a restart loads the log after its own last compacted entry.
 * A member restarted after missing commits, and a member that lost its disk (it rejoins
 * recovering, from the start of the journal), both end with the primary's chain and state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../harness/wait.js';
import { BourseClient } from '../../src/client/client.js';
import { Status } from '../../src/protocol/status.js';
import { setupCommands } from '../harness/generators.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import { openData } from '../../src/cli/open-data.js';
import { closeJournalDb } from '../../src/journal/journal-db.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { metricsCacheMs } from '../../src/constants.js';

const retain = 2;

test('cluster catch-up: a restarted and a wiped member catch up past compaction', () =>
  TestCluster.with(
    3,
    async (cluster) => {
      const primary = await cluster.primary();
      const urls = cluster.urls();
      const client = await BourseClient.connect(urls[primary.id - 1], { clientId: 7 });
      for (const f of setupCommands()) {
        const [head] = await client.submit(f.kind, f);
        assert.equal(head.status, Status.Ok);
      }
      await transfers(client, 20); // one after another: each its own batch, its own entry
      const [restarted, wiped] = cluster.nodes.filter((n) => n !== primary) as ClusterNode[];

      await restarted.stop();
      cluster.nodes[restarted.id - 1] = null;
      await transfers(client, 20); // committed by the primary and the other standby
      const back = await cluster.boot(restarted.id, false);
      cluster.nodes[restarted.id - 1] = back;
      assert.ok(back.consensus.lastIndex >= restarted.consensus.commit, 'its log reloaded');
      await caughtUp(cluster, primary, back);

      const fresh = await cluster.wipe(wiped);
      const said = `member ${wiped.id}: recovering (no data)`;
      assert.ok(
        cluster.lines.some((l) => l.startsWith(said)),
        'without its data, it may not vote',
      );
      const [last] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      assert.equal(last.status, Status.Ok);
      await caughtUp(cluster, primary, fresh);
      await until('the wiped member votes again', () => !fresh.consensus.recovering);

      const expected = await cluster.balancesAt(primary.id, last.sequence);
      for (const n of [back, fresh]) {
        assert.deepEqual(await cluster.balancesAt(n.id, last.sequence), expected, 'same state');
      }
      for (const n of cluster.nodes as ClusterNode[]) {
        const c = n.consensus;
        const unsettled = c.lastIndex - Math.min(c.commit, c.durableIndex);
        assert.ok(c.entriesInMemory < 2 * retain + unsettled, `member ${n.id}: log compacted`);
      }
      await client.close();
    },
    retain,
  ));

async function transfers(client: BourseClient, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const [head] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    assert.equal(head.status, Status.Ok);
  }
}

/** `member` holds the primary's whole committed chain (compacted entries read from disk). */
async function caughtUp(cluster: TestCluster, primary: ClusterNode, member: ClusterNode) {
  await until(`member ${member.id} catches up`, () => {
    const c = member.consensus;
    return c.commit >= primary.consensus.commit && c.durableIndex >= primary.consensus.commit;
  });
  assert.ok(primary.consensus.entriesInMemory < primary.consensus.commit, 'it was compacted');
  for (let i = 1; i <= primary.consensus.commit; i++) {
    assert.equal(member.consensus.hashAt(i), primary.consensus.hashAt(i), `entry ${i}`);
  }
}

/**
 * A member that lost its disk and is started again with the command line that formed the
 * cluster (--bootstrap: compose's BOURSE_BOOTSTRAP=1 default) acted as a new member and could
 * vote at once. It asks the others first: their journals hold events, so it comes back
 * recovering.
 */
test('cluster: a wiped member started with --bootstrap comes back recovering', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await cluster.setUpClient(8, 20);
    const wiped = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    const fresh = await cluster.wipe(wiped, true); // --bootstrap, by mistake
    // (It may have caught up already: the journal is short.)
    const said = `member ${wiped.id}: recovering (no data): will not vote until caught up`;
    assert.ok(cluster.lines.includes(said), 'it may not vote before it catches up');
    assert.ok(
      cluster.lines.some((l) => /--bootstrap, but member \d's journal is at sequence/.test(l)),
      'it says why',
    );
    await transfers(client, 3);
    await until('it catches up and votes again', () => !fresh.consensus.recovering);
    await client.close();
  }));

/**
 * An idle cluster makes no commit for a member that lost its disk to recover at (it votes again
 * only at a commit made after it came: recovery-point.ts): the primary writes an entry of its
 * term for it (ClusterNode's openTerm, asked again by consensus). With that callback a no-op,
 * as it was before (the Tick went only at promote), the member stayed recovering for as long
 * as no client sent anything: one more lost member, and the cluster could elect no one.
 */
test('cluster: a wiped member of an idle cluster votes again with no client traffic', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await cluster.setUpClient(9, 20);
    await client.close();
    const { term, lastIndex } = primary.consensus;
    const wiped = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    const fresh = await cluster.wipe(wiped);
    const said = `member ${wiped.id}: recovering (no data): will not vote until caught up`;
    assert.ok(cluster.lines.includes(said), 'it came back recovering');
    await until('it votes again', () => !fresh.consensus.recovering, 20_000);
    assert.equal(primary.consensus.term, term, 'no election: the same primary');
    assert.ok(primary.consensus.lastIndex > lastIndex, 'an entry written for it');
  }));

/**
 * A standby stopped cleanly stores what it had received: its group commit left entries queued
 * behind the write in flight, and stop() dropped them. Nothing acknowledged was lost (it had
 * not acked them), but its journal was short of what its memory held, and of its commit: after
 * a partition drill's last cut, a caught-up standby stopped 7,040 events short on disk, and
 * the history check found the replicas not identical.
 */
test('cluster: a standby stopped under load stores everything it had received', () =>
  TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(14, 200);
    const load = new TransferLoad(client);
    const primary = await cluster.primary();
    for (let round = 0; round < 3; round++) {
      await until('load flows', () => load.acked.length >= (round + 1) * 2_000);
      const standby = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
      // Cut off for a moment, then stopped while it catches up: appends queue behind a write.
      standby.partition();
      await until('it falls behind', () => load.acked.length >= (round + 1) * 2_000 + 1_500);
      // Stopped at the first append that leaves two entries or more received but not on disk
      // (caught as it happens: polling missed a catch-up that one write covered).
      const c = standby.consensus;
      const receive = c.receive.bind(c);
      let held = -1;
      let stopped: Promise<void> | null = null;
      c.receive = (message) => {
        receive(message);
        if (stopped !== null || c.lastIndex <= c.durableIndex + 1) return;
        held = c.lastSequence(); // received and verified, in memory
        stopped = standby.stop();
      };
      standby.heal();
      await until('stopped while catching up', () => stopped !== null);
      await stopped;
      cluster.nodes[standby.id - 1] = null;
      const { db, tail } = openData(cluster.dirs[standby.id - 1]);
      closeJournalDb(db);
      assert.ok(tail.sequence >= held, `round ${round}: on disk ${tail.sequence}, held ${held}`);
      cluster.nodes[standby.id - 1] = await cluster.boot(standby.id, false);
    }
    assert.equal(await load.stop(), null);
    await cluster.assertOneHistory(client, load.acked);
    await client.close();
  }));

/**
 * A member that lost its disk is shown as `recovering` (docs/ROLES.md draws it as a role of its
 * own) in /health and /metrics, until it has caught up and votes again: both said "standby",
 * and only /ready?for=reads and the logs told it apart.
 */
test('cluster: a recovering member says so in /health and /metrics', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const [wiped, other] = cluster.nodes.filter((n) => n !== primary) as ClusterNode[];
    await wiped.stop();
    removeDir(cluster.dirs[wiped.id - 1]);
    cluster.dirs[wiped.id - 1] = tempDataDir();
    // Cut off from the others, it stays recovering for as long as the checks take.
    primary.partition();
    other.partition();
    const fresh = await cluster.boot(wiped.id, false);
    cluster.nodes[wiped.id - 1] = fresh;
    const m = cluster.members[wiped.id - 1];
    const shown = async (): Promise<{ role: string; metric: string }> => {
      const health = (await (await fetch(`http://${m.host}:${m.port}/health`)).json()) as {
        role: string;
      };
      const text = await (await fetch(`http://${m.host}:${m.port}/metrics`)).text();
      const metric = /^bourse_cluster_role\{role="(\w+)"\} 1$/m.exec(text)?.[1] ?? 'none';
      return { role: health.role, metric };
    };
    assert.equal(fresh.consensus.recovering, true);
    assert.deepEqual(await shown(), { role: 'recovering', metric: 'recovering' });
    assert.deepEqual(fresh.logFields().role, 'recovering', 'its log lines too');
    primary.heal();
    other.heal();
    await until('it catches up and votes again', () => !fresh.consensus.recovering, 20_000);
    // /metrics serves a scrape's text for up to metricsCacheMs: the next computed one says so.
    await new Promise((resolve) => setTimeout(resolve, metricsCacheMs));
    assert.deepEqual(await shown(), { role: 'standby', metric: 'standby' });
  }));
