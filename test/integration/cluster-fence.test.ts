/**
 * A returning old primary is fenced. Under load, the primary is cut off from the others (a
 * partition, both ways): it keeps taking commands for a moment and journals batches no
 * majority will ever hold, while the others elect a new primary, which takes over. When the
 * partition heals, the old primary hears the higher term, stops its node, cuts its journal
 * back to what was committed, and follows the new primary as a hot standby: every member ends
 * with the same hash chain and the same balances, and every acknowledged transfer is applied
 * once. (Before the fix in ClusterNode.followLimit, the old primary applied its own uncommitted
 * tail, which the new primary's entries then replaced on disk: its workers stopped there, and
 * this test failed two runs in three.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../harness/wait.js';
import { Role } from '../../src/replication/messages.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';

test('cluster: a deposed primary is fenced, cut back, and rejoins as a standby', () =>
  TestCluster.with(3, async (cluster) => {
    const first = await cluster.primary();
    const client = await cluster.setUpClient(5, 200);
    const load = new TransferLoad(client);
    await until('load flows', () => load.acked.length >= 500);
    first.silence(); // its clients drop; the SDK finds the new primary and resends
    const second = await cluster.primary(first);
    await until('load flows on the new primary', () => load.acked.length >= 1_500);
    assert.ok(first.consensus.lastIndex >= first.consensus.commit, 'it held a tail');
    first.heal();
    await until('the old primary follows again', () =>
      cluster.lines.some((l) => l.startsWith(`member ${first.id}: following again`)),
    );
    await until('it hears the new primary', () => first.consensus.primary === second.id);
    assert.equal(first.role, Role.Standby);
    assert.equal(await load.stop(), null, 'every transfer answered Ok, across the failover');
    await cluster.assertOneHistory(client, load.acked);
    await client.close();
  }));
