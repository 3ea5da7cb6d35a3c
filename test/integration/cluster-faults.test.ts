/**
 * Mixed faults under load, with real members in one process and log compaction at work (four
 * committed entries kept in memory): ten times, a member chosen by a seeded generator is
 * partitioned for 0.2 to 1.7 s, or stopped and started again on its data, or stopped and
 * started on an empty folder (a lost disk; only while no other member is recovering, which
 * is the one failure a cluster of three tolerates). At the end every member holds the same
 * hash chain and the same balances, every transfer was answered Ok, each acknowledged one has
 * its own sequence, and no member's node failed. BOURSE_FAULTS_SEED=N replays another one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/stdx/rng.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

const seed = Number(process.env.BOURSE_FAULTS_SEED ?? '3');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(`cluster: partitions, restarts and lost disks under load (seed ${seed})`, () =>
  TestCluster.with(
    3,
    async (cluster) => {
      const rng = new Rng(seed);
      const client = await cluster.setUpClient(5, 400);
      const load = new TransferLoad(client);
      const done: string[] = [];
      for (let round = 0; round < 10; round++) {
        await sleep(300 + rng.int(700));
        done.push(await fault(cluster, rng));
      }
      await sleep(1_000);
      assert.equal(await load.stop(), null, 'every transfer answered Ok, across every fault');
      const kinds = ['partition', 'restart', 'wipe'];
      assert.ok(
        kinds.every((k) => done.includes(k)),
        `every kind of fault: ${done.join(',')}`,
      );
      await cluster.assertOneHistory(client, load.acked);
      await client.close();
    },
    4,
  ));

/** One fault on a member the generator picks; returns which. */
async function fault(cluster: TestCluster, rng: Rng): Promise<string> {
  const i = rng.int(3);
  const victim = cluster.nodes[i]!;
  const kind = rng.int(3);
  if (kind === 0) {
    victim.partition();
    await sleep(200 + rng.int(1_500));
    victim.heal();
    return 'partition';
  }
  const others = cluster.nodes.filter((n) => n !== victim) as ClusterNode[];
  const wipe = kind === 2 && others.every((n) => !n.consensus.recovering);
  await victim.stop();
  cluster.nodes[i] = null;
  if (wipe) {
    removeDir(cluster.dirs[i]);
    cluster.dirs[i] = tempDataDir();
  }
  await sleep(200 + rng.int(1_500));
  cluster.nodes[i] = await cluster.boot(i + 1, false);
  return wipe ? 'wipe' : 'restart';
}
