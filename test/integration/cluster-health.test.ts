/**
 * What GET /health tells an operator before an outage (docs/PROTOCOL.md, "Readiness"):
 * each other member as this one sees it (up or down, heard how long ago, and on the primary its
 * lag), and the free space on the data folder's disk. Before, a member that was down showed
 * nowhere in /health, nor did a disk filling up (only /metrics and the log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';
import type { ClusterMember, ClusterNode } from '../../src/pipeline/cluster-node.js';

interface Peer {
  member: number;
  state: string;
  heardMsAgo: number | null;
  lagEvents: number | null;
  recovering: boolean | null;
}

interface Health {
  role: string;
  member: number;
  peers: Peer[];
  dataFreeBytes: number | null;
}

async function healthOf(m: ClusterMember): Promise<Health> {
  const res = await fetch(`http://${m.host}:${m.port}/health`);
  assert.equal(res.status, 200);
  return (await res.json()) as Health;
}

function peer(h: Health, member: number): Peer {
  const p = h.peers.find((x) => x.member === member);
  assert.ok(p !== undefined, `member ${member} in ${JSON.stringify(h.peers)}`);
  return p;
}

test('/health: a stopped member shows down on the primary, and the disk space', async () => {
  await TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const pm = cluster.members[primary.id - 1];
    const [a, b] = (cluster.nodes as ClusterNode[]).filter((n) => n !== primary);
    await until('both standbys up on the primary', async () => {
      const h = await healthOf(pm);
      return peer(h, a.id).state === 'up' && peer(h, b.id).state === 'up';
    });
    let h = await healthOf(pm);
    assert.equal(h.peers.length, 2, 'every other member, not itself');
    assert.equal(typeof peer(h, a.id).heardMsAgo, 'number');
    assert.equal(typeof peer(h, a.id).lagEvents, 'number', 'the primary knows its lag');
    assert.equal(peer(h, a.id).recovering, false, 'and that it has its disk');
    // Free bytes: the folder's disk, as statfs says (it moves while the machine runs).
    const disk = statfsSync(cluster.dirs[primary.id - 1]);
    assert.equal(typeof h.dataFreeBytes, 'number');
    assert.ok((h.dataFreeBytes as number) > 0);
    assert.ok((h.dataFreeBytes as number) <= disk.blocks * disk.bsize, 'within the disk');
    // A standby sees its primary up; the other standby says nothing to it: unknown or up.
    const fromStandby = await healthOf(cluster.members[a.id - 1]);
    assert.equal(peer(fromStandby, primary.id).state, 'up');
    assert.equal(peer(fromStandby, primary.id).recovering, null, 'known on the primary only');
    assert.notEqual(peer(fromStandby, b.id).state, 'down');
    await b.stop();
    cluster.nodes[b.id - 1] = null;
    await until('the stopped member down on the primary', async () => {
      h = await healthOf(pm);
      return peer(h, b.id).state === 'down';
    });
    assert.ok((peer(h, b.id).heardMsAgo as number) >= 500, 'silent for an election timeout');
    assert.equal(peer(h, a.id).state, 'up', 'the other still up');
    assert.equal(h.role, 'primary');
  });
});
