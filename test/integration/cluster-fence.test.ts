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
import { Status } from '../../src/protocol/status.js';
import { Role } from '../../src/replication/messages.js';
import { setupCommands } from '../harness/generators.js';
import { TestCluster } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

test('cluster: a deposed primary is fenced, cut back, and rejoins as a standby', async () => {
  const cluster = await TestCluster.start(3);
  try {
    const first = await cluster.primary();
    const urls = cluster.urls();
    const client = await BourseClient.connect(urls[first.id - 1], {
      clientId: 5,
      members: urls,
      reconnectAttempts: 200,
    });
    for (const f of setupCommands()) assert.equal((await client.submit(f.kind, f))[0].status, 0);
    const acked: number[] = [];
    let running = true;
    let failure: unknown = null;
    const load = (async () => {
      while (running && failure === null) {
        const batch = Array.from({ length: 50 }, () =>
          client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 }),
        );
        for (const [head] of await Promise.all(batch)) {
          assert.equal(head.status, Status.Ok);
          acked.push(head.sequence);
        }
      }
    })().catch((error: unknown) => (failure = error));
    await until('load flows', () => acked.length >= 500);
    first.silence(); // its clients drop; the SDK finds the new primary and resends
    const second = await cluster.primary(first);
    await until('load flows on the new primary', () => acked.length >= 1_500);
    assert.ok(first.consensus.lastIndex >= first.consensus.commit, 'it held a tail');
    first.heal();
    await until('the old primary follows again', () =>
      cluster.lines.some((l) => l.startsWith(`member ${first.id}: following again`)),
    );
    await until('it hears the new primary', () => first.consensus.primary === second.id);
    assert.equal(first.role, Role.Standby);
    running = false;
    await load;
    assert.equal(failure, null, 'every transfer answered Ok, across the failover');
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
    assert.equal(new Set(acked).size, acked.length, 'each acknowledged transfer once');
    await client.close();
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});
