/**
 * A member folder of another cluster: copied from one, or left from an earlier forming of this
 * one. Its log was longer, of a higher term, so by Raft's vote rule alone it won the votes, and
 * its first appends cut this cluster's committed history to its own. A member that knows its
 * cluster's id (its first committed entry's) drops the other's messages; the others go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { TestCluster, transfers } from '../harness/cluster-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { until } from '../harness/wait.js';
import { freePort } from '../../src/cli/ports.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';

test('cluster: a member folder of another cluster is refused, and cuts nothing', async () => {
  const copy = tempDataDir();
  let cluster: TestCluster | null = null;
  try {
    const otherId = await otherClustersMember2(copy);
    cluster = await TestCluster.start(3);
    const client = await cluster.setUpClient(8, 0);
    const last = await transfers(client, 5);
    await client.close();
    const primary = await cluster.primary();
    const ours = primary.consensus.clusterId;
    assert.notEqual(ours, otherId, 'each forming has its own id');
    const expected = await cluster.balancesAt(primary.id, last);
    await until('every member knows the id', () =>
      cluster!.nodes.every((n) => n!.consensus.clusterId === ours),
    );
    for (let id = 1; id <= 3; id++) await stopMember(cluster, id);
    removeDir(cluster.dirs[1]);
    cluster.dirs[1] = copy; // member 2's folder, from the other cluster
    // Copied, it would be refused as one (cluster-member-copy.test.ts); left from an earlier
    // forming of this cluster (a volume not emptied), it is the same file.
    cluster.foldersMoved.add(2);

    const one = (cluster.nodes[0] = await cluster.boot(1, false));
    const foreign = (cluster.nodes[1] = await cluster.boot(2, false));
    const said = "member 1: member 2 holds another cluster's journal";
    await until('member 1 says why', () => cluster!.lines.some((l) => l.startsWith(said)));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // elections time out meanwhile
    assert.equal(one.accepting || foreign.accepting, false, 'no majority of one history');

    cluster.nodes[2] = await cluster.boot(3, false);
    const serving = await cluster.primary();
    assert.notEqual(serving, foreign);
    assert.equal(serving.consensus.clusterId, ours);
    assert.deepEqual(await cluster.balancesAt(serving.id, last), expected, 'history intact');
    assert.equal(foreign.consensus.clusterId, otherId, 'the foreign folder is left alone');
    assert.ok(foreign.consensus.stats.foreignMessages > 0);
  } finally {
    await cluster?.stop();
    removeDir(copy);
  }
});

/**
 * Forms a cluster, serves transfers over two terms (a longer log, of a higher term, than the
 * test's cluster will hold), and copies member 2's folder to `copy`. Returns its cluster id.
 */
async function otherClustersMember2(copy: string): Promise<number> {
  const other = await TestCluster.start(3);
  try {
    const client = await other.setUpClient(7, 20);
    await transfers(client, 30);
    const first = (await other.primary()).id;
    await stopMember(other, first); // a new term
    const second = await other.primary();
    // Member 2's folder is the one copied: back up if it was the primary stopped.
    if (first === 2) other.nodes[1] = await other.boot(2, false);
    await transfers(client, 30);
    await client.close();
    const member2 = other.nodes[1] as ClusterNode;
    await until('member 2 knows the id', () => member2.consensus.clusterId !== 0);
    const c = member2.consensus;
    await until('member 2 holds the whole log', () => c.durableIndex >= second.consensus.commit);
    const id = member2.consensus.clusterId;
    for (let m = 1; m <= 3; m++) await stopMember(other, m);
    cpSync(other.dirs[1], copy, { recursive: true });
    return id;
  } finally {
    await other.stop();
  }
}

/**
 * A member started with a cluster file that lists other members (a fourth, here) counts its
 * majorities among another set: members of two sets could each elect a primary in one term.
 * The others drop its messages, and both sides say why; with the right file it rejoins.
 */
test('cluster: a member whose cluster file lists other members is refused', () =>
  TestCluster.with(3, async (cluster) => {
    const client = await cluster.setUpClient(9, 20);
    await transfers(client, 3);
    const primary = await cluster.primary();
    const odd = cluster.nodes.find((n) => n !== primary) as ClusterNode;
    await stopMember(cluster, odd.id);
    const fourth = {
      id: 4,
      host: '127.0.0.1',
      port: await freePort('tcp'),
      replicationPort: await freePort('udp'),
    };
    const wrong = await cluster.boot(odd.id, false, [...cluster.members, fourth]);
    cluster.nodes[odd.id - 1] = wrong;
    const lines = cluster.lines;
    const theirs = `member ${odd.id}'s cluster file lists members 1,2,3,4, this member's 1,2,3`;
    await until('the others say why', () => lines.some((l) => l.includes(theirs)));
    const its = `cluster file lists members 1,2,3, this member's 1,2,3,4: its messages are dropped`;
    await until('it says why', () =>
      lines.some((l) => l.startsWith(`member ${odd.id}: `) && l.includes(its)),
    );
    const last = await transfers(client, 3); // the other two serve
    assert.equal(wrong.consensus.primary, -1, 'it follows no one');
    assert.ok(wrong.consensus.lastSequence() < last, 'it got none of that');
    await stopMember(cluster, odd.id);
    const right = (cluster.nodes[odd.id - 1] = await cluster.boot(odd.id, false));
    await until('with the right file it catches up', () => right.consensus.lastSequence() >= last);
    await client.close();
  }));

async function stopMember(cluster: TestCluster, id: number): Promise<void> {
  await cluster.nodes[id - 1]?.stop();
  cluster.nodes[id - 1] = null;
}
