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
import { until } from '../harness/wait.js';
import { BourseClient } from '../../src/client/client.js';
import { Rng } from '../../src/stdx/rng.js';
import { setupCommands } from '../harness/generators.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

const seed = Number(process.env.BOURSE_PARTITION_SEED ?? '1');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(`cluster: twelve partitions under load keep one history (seed ${seed})`, () =>
  TestCluster.with(3, async (cluster) => {
    const rng = new Rng(seed);
    const urls = cluster.urls();
    const first = await cluster.primary();
    const client = await BourseClient.connect(urls[first.id - 1], {
      clientId: 5,
      members: urls,
      reconnectAttempts: 400,
    });
    for (const f of setupCommands()) assert.equal((await client.submit(f.kind, f))[0].status, 0);
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
    const primary = await cluster.primary();
    const [last] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    const members = cluster.nodes as ClusterNode[];
    await until('every member holds the whole chain', () =>
      members.every((n) => n.consensus.durableIndex >= primary.consensus.commit),
    );
    for (let i = 1; i <= primary.consensus.commit; i++) {
      for (const n of members) assert.equal(n.consensus.hashAt(i), primary.consensus.hashAt(i));
    }
    const expected = await cluster.balancesAt(primary.id, last.sequence);
    for (const n of members) {
      assert.deepEqual(await cluster.balancesAt(n.id, last.sequence), expected, `member ${n.id}`);
    }
    assert.equal(new Set(acked).size, acked.length, 'each acknowledged transfer once');
    const failed = cluster.lines.filter((l) => / failed|cannot store/.test(l));
    assert.deepEqual(failed, [], 'no member failed');
    await client.close();
  }));
