/**
 * Datagrams forged by a process on the members' host, as an audit sent them to `bourse
 * cluster` (docs/ROLES.md, "Who may speak on the replication port"): a status "from a standby"
 * with the term one above the primary's deposed it, and one with the term 2^53 - 1 to each
 * member left the cluster without a primary for good (a candidate's next term could not be
 * encoded; the term is stored). Each is well-formed, names a member, carries the cluster id,
 * the member list and a good checksum; it only comes from another socket than the member's.
 * Every member now refuses them and counts them, and the cluster goes on as if none came: from
 * another socket (the source is not the member's), or from the member's own port while it is
 * down (the MAC is not the cluster secret's). A member started with another secret is refused,
 * and said to be; with the right one it rejoins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { encodeMessage } from '../../src/replication/codec.js';
import { randomBytes } from 'node:crypto';
import { datagramHeaderBytes, datagramMac, DatagramType } from '../../src/replication/datagram.js';
import { seal, writeHeader } from '../../src/replication/datagram.js';
import { secretBytes } from '../../src/replication/datagram-mac.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';
import { seriesValue } from '../harness/metrics-text.js';

/**
 * A status "from member `from`" to `to` in term `term`, as member `from` would send it, its MAC
 * under `secret` (default: the cluster's own, as if the forger held it).
 */
function forgedStatus(to: ClusterNode, from: number, term: number, secret: Uint8Array): Buffer {
  const c = to.consensus;
  const body = encodeMessage({
    kind: 'status',
    cluster: c.clusterId,
    members: c.membersMask,
    term,
    from,
    ok: true,
    match: 0,
    durable: 0,
    nak: 0,
    recovering: false,
    life: 1,
  });
  const datagram = Buffer.concat([Buffer.alloc(datagramHeaderBytes), body]);
  writeHeader(datagram, DatagramType.Fragment, from, (0x5eed_0000 + term) >>> 0, 0, 1, 1);
  seal(datagram, datagramMac(secret));
  return datagram;
}

async function send(raw: Socket, datagram: Buffer, port: number): Promise<void> {
  await new Promise((resolve) => raw.send(datagram, port, '127.0.0.1', resolve));
}

/** Datagrams member `n` refused for `reason` (0 before there was a count). */
function refusedBy(n: ClusterNode, reason: 'address' | 'mac' = 'address'): number {
  return n.transportStats.refused?.[reason] ?? 0;
}

async function boundSocket(port = 0): Promise<Socket> {
  const raw = createSocket('udp4');
  await new Promise<void>((resolve) => raw.bind(port, '127.0.0.1', resolve));
  return raw;
}

test('cluster: forged datagrams from another socket on the host are refused', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const term = primary.consensus.term;
    const standby = cluster.nodes.find((n) => n !== null && n !== primary)!;
    const raw = await boundSocket();
    try {
      const port = (n: ClusterNode): number => cluster.members[n.id - 1].replicationPort;
      // One status with the term one up: it deposed the primary.
      const secret = cluster.secret; // the worst case: even made with the secret
      await send(raw, forgedStatus(primary, standby.id, term + 1, secret), port(primary));
      await until('the primary refused it (or took it)', () => {
        return refusedBy(primary) === 1 || primary.consensus.term !== term;
      });
      assert.equal(primary.consensus.term, term, 'the forged term is not taken');
      assert.ok(primary.accepting, 'still the primary');
      // The term 2^53 - 1, one to each member "from" another: no election could follow.
      const members = cluster.nodes as ClusterNode[];
      for (const n of members) {
        const other = members.find((m) => m !== n)!;
        const forged = forgedStatus(n, other.id, Number.MAX_SAFE_INTEGER, secret);
        await send(raw, forged, port(n));
      }
      await until('every member refused it (or took it)', () =>
        members.every((n) => refusedBy(n) >= 1 || n.consensus.term !== term),
      );
      for (const n of members) assert.equal(n.consensus.term, term, `member ${n.id}'s term`);
      const m = cluster.members[primary.id - 1];
      const metrics = await (await fetch(`http://${m.host}:${m.port}/metrics`)).text();
      const refused = 'bourse_replication_refused_total{reason="address"}';
      assert.equal(seriesValue(metrics, refused), 2);
      const said =
        `member ${primary.id}: refused 1 replication datagram(s); the last named ` +
        `member ${standby.id} and came from 127.0.0.1:${raw.address().port}`;
      assert.ok(
        cluster.lines.some((l) => l.startsWith(said)),
        'told in the log',
      );
      // The cluster still elects: the primary stops, another takes over.
      await primary.stop();
      cluster.nodes[primary.id - 1] = null;
      const next = await cluster.primary();
      assert.ok(next.consensus.term > term && next.consensus.term < 1_000);
    } finally {
      raw.close();
    }
  }));

test("cluster: from a member's own port, without the secret, a datagram is refused", () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const term = primary.consensus.term;
    const standby = cluster.nodes.find((n) => n !== null && n !== primary)!;
    const id = standby.id;
    const at = cluster.members[id - 1];
    await standby.stop(); // its port is free: another process takes it
    cluster.nodes[id - 1] = null;
    const raw = await boundSocket(at.replicationPort);
    try {
      const port = cluster.members[primary.id - 1].replicationPort;
      const guess = randomBytes(secretBytes);
      await send(raw, forgedStatus(primary, id, term + 1, guess), port);
      await until('the primary refused it (or took it)', () => {
        return refusedBy(primary, 'mac') === 1 || primary.consensus.term !== term;
      });
      assert.equal(primary.consensus.term, term, 'the forged term is not taken');
      assert.ok(primary.accepting, 'still the primary');
    } finally {
      raw.close();
    }
    // The member back with another secret: refused both ways, and said to be.
    cluster.secrets.set(id, randomBytes(secretBytes));
    cluster.nodes[id - 1] = await cluster.boot(id, false);
    const mac = "its MAC does not match this member's replication secret";
    const refusing = (by: number, of: number): boolean =>
      cluster.lines.some(
        (l) =>
          l.startsWith(`member ${by}: refused `) &&
          l.includes(mac) &&
          l.includes(`named member ${of} `),
      );
    await until(
      'each side refuses the other',
      () => refusing(primary.id, id) && refusing(id, primary.id),
    );
    assert.equal(primary.consensus.term, term, 'no election came of it');
    assert.ok(primary.accepting);
    // With the cluster's secret it rejoins and catches up.
    await cluster.nodes[id - 1]!.stop();
    cluster.secrets.delete(id);
    const back = await cluster.boot(id, false);
    cluster.nodes[id - 1] = back;
    await until('it follows the primary', () => back.consensus.primary === primary.id);
    await until('and holds its log', () => back.consensus.durableIndex >= primary.consensus.commit);
  }));
