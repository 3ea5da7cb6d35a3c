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
import { Agent, get } from 'node:http';
import { until } from '../harness/wait.js';
import { Role } from '../../src/replication/messages.js';
import { TestCluster, TransferLoad } from '../harness/cluster-driver.js';

test('cluster: a deposed primary is fenced, cut back, and rejoins as a standby', () =>
  TestCluster.with(3, async (cluster) => {
    const first = await cluster.primary();
    const client = await cluster.setUpClient(5, 200);
    const load = new TransferLoad(client);
    await until('load flows', () => load.acked.length >= 500);
    const commandsBefore = await commandsTotal(cluster, first.id);
    assert.ok(commandsBefore > 0, 'its processor counted commands');
    const rings = [first.node?.inputRing.buffer, first.node?.outputRing.buffer];
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
    // Its new node's counters go on from the old one's (Prometheus would read a fall as a restart).
    assert.ok((await commandsTotal(cluster, first.id)) >= commandsBefore, 'counters go on');
    // And on the rings its first node allocated (node-rings.ts), not new ones each time.
    assert.equal(first.node?.inputRing.buffer, rings[0], 'the same input ring');
    assert.equal(first.node?.outputRing.buffer, rings[1], 'the same output ring');
    assert.equal(await load.stop(), null, 'every transfer answered Ok, across the failover');
    await cluster.assertOneHistory(client, load.acked);
    await client.close();
  }));

/** bourse_commands_total on member `id`'s /metrics. */
async function commandsTotal(cluster: TestCluster, id: number): Promise<number> {
  const m = cluster.members[id - 1];
  const text = await (await fetch(`http://${m.host}:${m.port}/metrics`)).text();
  const line = /^bourse_commands_total (\d+)$/m.exec(text);
  assert.ok(line !== null, 'bourse_commands_total is shown');
  return Number(line[1]);
}

/**
 * A member that steps down stops its node and starts a new one on the same port. The old
 * node's gateway closed its listening socket and its sessions, but kept-alive HTTP connections
 * went on being served by it: /health and every read there answered from the stopped node
 * (its durable sequence frozen where its term ended; `drill partition`'s convergence check,
 * which reads /health through fetch's kept-alive pool, waited on it forever).
 */
test('cluster: after stepping down, a kept-alive HTTP connection reads the new node', () =>
  TestCluster.with(3, async (cluster) => {
    const first = await cluster.primary();
    const client = await cluster.setUpClient(6, 200);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const m = cluster.members[first.id - 1];
    const durable = (): Promise<number> =>
      new Promise((resolve) => {
        const request = get({ host: m.host, port: m.port, path: '/health', agent }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () =>
            resolve((JSON.parse(body) as { durableSequence: number }).durableSequence),
          );
        });
        request.on('error', () => resolve(-1)); // closed under it: the next one reconnects
      });
    try {
      assert.ok((await durable()) > 0, 'the connection is open, and kept');
      first.partition(); // its clients keep their sessions; it steps down
      await until('it follows again', () =>
        cluster.lines.some((l) => l.startsWith(`member ${first.id}: following again`)),
      );
      first.heal();
      const [head] = await client.transfer({ account: 1, target: 2, ref: 1, quantity: 1 });
      assert.equal(head.status, 0);
      await until(
        'its port answers from the new node',
        async () => (await durable()) >= head.sequence,
      );
      await client.close();
    } finally {
      agent.destroy();
    }
  }));
