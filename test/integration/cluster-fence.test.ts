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
import { BourseClient } from '../../src/client/client.js';
import { Role } from '../../src/replication/messages.js';
import { setupCommands } from '../harness/generators.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

test('cluster: a deposed primary is fenced, cut back, and rejoins as a standby', () =>
  TestCluster.with(3, async (cluster) => {
    const first = await cluster.primary();
    const urls = cluster.urls();
    const client = await BourseClient.connect(urls[first.id - 1], {
      clientId: 5,
      members: urls,
      reconnectAttempts: 200,
    });
    for (const f of setupCommands()) assert.equal((await client.submit(f.kind, f))[0].status, 0);
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
    const [last] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
    const members = cluster.nodes as ClusterNode[];
    await until('every member holds the whole chain', () =>
      members.every((n) => n.consensus.durableIndex >= second.consensus.commit),
    );
    for (let i = 1; i <= second.consensus.commit; i++) {
      assert.equal(first.consensus.hashAt(i), second.consensus.hashAt(i), `entry ${i}`);
    }
    const expected = await cluster.balancesAt(second.id, last.sequence);
    assert.deepEqual(await cluster.balancesAt(first.id, last.sequence), expected, 'same state');
    const acked = load.acked;
    assert.equal(new Set(acked).size, acked.length, 'each acknowledged transfer once');
    await client.close();
  }));
