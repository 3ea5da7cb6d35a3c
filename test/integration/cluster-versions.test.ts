/**
 * A member of another transport version (a rolling upgrade under way): its datagrams are
 * dropped, and the members that hear it say so at warn once per change, and name it in /health
 * and on /metrics until they hear it on their own version again. Before, the line was at info
 * and /health showed a plain standby that knew no primary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { otherVersionDatagramsMin } from '../../src/constants.js';
import type { ClusterMember } from '../../src/pipeline/cluster-node.js';
import { datagramHeaderBytes, DatagramType, writeHeader } from '../../src/replication/datagram.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';

/**
 * Datagrams as member `from` of transport version 1 sends them (no checksum then), from its
 * address and port (`from` is stopped: it comes back on the other version).
 */
async function sendVersion1(from: ClusterMember, to: ClusterMember): Promise<void> {
  const raw = createSocket('udp4');
  await new Promise<void>((resolve) => raw.bind(from.replicationPort, from.host, resolve));
  for (let i = 0; i < otherVersionDatagramsMin; i++) {
    const datagram = Buffer.alloc(datagramHeaderBytes + 24);
    writeHeader(datagram, DatagramType.Fragment, from.id, i + 1, 0, 1, 0);
    datagram.writeUInt8(1, 1);
    await new Promise((resolve) => raw.send(datagram, to.replicationPort, to.host, resolve));
  }
  raw.close();
}

async function otherVersionsOf(m: ClusterMember): Promise<readonly unknown[] | undefined> {
  const health = (await (await fetch(`http://${m.host}:${m.port}/health`)).json()) as {
    otherVersions?: readonly unknown[];
  };
  return health.otherVersions;
}

test('cluster: a member of another transport version is named in /health and warned of', () =>
  TestCluster.with(3, async (cluster) => {
    await cluster.primary();
    await cluster.nodes[2]!.stop(); // member 3 goes to be upgraded...
    cluster.nodes[2] = null;
    const [one, , three] = cluster.members;
    await sendVersion1(three, one); // ...and comes back on the other version
    const said = 'member 1: member 3 speaks transport version 1';
    await until('member 1 says so', () => cluster.lines.some((l) => l.startsWith(said)));
    const heard = [{ member: 3, layer: 'transport', version: 1 }];
    assert.deepEqual(await otherVersionsOf(one), heard);
    const metrics = await (await fetch(`http://${one.host}:${one.port}/metrics`)).text();
    assert.match(metrics, /bourse_replication_other_version\{member="3",layer="transport"\} 1/);
    await sendVersion1(three, one);
    const told = (): number => cluster.lines.filter((l) => l.startsWith(said)).length;
    assert.equal(told(), 1, 'told once per change, not per datagram');

    cluster.nodes[2] = await cluster.boot(3, false); // heard on this version again
    await until('member 1 forgets it', async () => (await otherVersionsOf(one))?.length === 0);
    await cluster.nodes[2].stop(); // rolled back: a change back is told again
    cluster.nodes[2] = null;
    await sendVersion1(three, one);
    await until('told again', () => told() === 2);
    assert.deepEqual(await otherVersionsOf(one), heard);
  }));
