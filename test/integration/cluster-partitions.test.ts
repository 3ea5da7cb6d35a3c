/**
 * Partitions under load, with real members in one process: twelve times, a member chosen by
 * a seeded generator is cut off from the others both ways (its clients keep their sessions,
 * as in a network partition) for 0.2 to 1.7 s, then healed. Primaries are deposed, fenced and
 * follow again; standbys fall behind and catch up; the SDK follows whoever serves. At the end
 * every member holds the same hash chain and the same balances, every transfer was answered
 * Ok, each acknowledged one has its own sequence, and no member's node failed.
 * BOURSE_PARTITION_SEED=N replays another schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/stdx/rng.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';

const seed = Number(process.env.BOURSE_PARTITION_SEED ?? '1');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(`cluster: twelve partitions under load keep one history (seed ${seed})`, () =>
  TestCluster.with(3, async (cluster) => {
    const rng = new Rng(seed);
    const client = await cluster.setUpClient(5, 400);
    const load = new TransferLoad(client);
    for (let round = 0; round < 12; round++) {
      await sleep(300 + rng.int(700));
      const victim = cluster.nodes[rng.int(3)]!;
      victim.partition();
      await sleep(200 + rng.int(1_500));
      victim.heal();
    }
    await sleep(1_000);
    assert.equal(await load.stop(), null, 'every transfer answered Ok, across every failover');
    const acked = load.acked;
    assert.ok(acked.length > 1_000, 'the load went on');
    await cluster.assertOneHistory(client, acked);
    await client.close();
  }));
