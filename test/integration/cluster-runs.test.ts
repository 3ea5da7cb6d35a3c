/**
 * Members' transport runs across restarts (docs/ROLES.md, "Replayed datagrams"; the transport
 * starts: replay-window.ts, run-renewal.ts), with a member's wall clock set back by the test
 * (TestCluster.clocks), not the machine's.
 *
 * - A member that lost its folder, its clock an hour behind its last run's start, began a run
 *   below the one the others had heard, and they refused every datagram of it as stale until
 *   its clock passed that start: it could not rejoin for an hour. Now they ask it to renew, and
 *   it begins a run above the one they knew, and catches up.
 * - A restarted member remembered no one's run: it took the first start it heard of each, so
 *   datagrams recorded before its restart (a primary's heartbeats: it then refuses the others'
 *   pre-votes) were taken once each. Now it remembers each member's newest start (stored in its
 *   folder), takes none of those runs, and asks their senders to renew.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { until } from '../harness/wait.js';
import { BourseClient } from '../../src/client/client.js';
import { Status } from '../../src/protocol/status.js';
import { setupCommands } from '../harness/generators.js';
import { TestCluster, transfers } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import type { Message } from '../../src/replication/messages.js';
import type { UdpTransport } from '../../src/replication/udp-transport.js';

const hourMs = 3_600_000;

function transportOf(node: ClusterNode): UdpTransport {
  return (node as unknown as { transport: UdpTransport }).transport;
}

/** A client of the primary with the set-up commands applied. */
async function setUp(cluster: TestCluster, primary: ClusterNode): Promise<BourseClient> {
  const client = await BourseClient.connect(cluster.urls()[primary.id - 1], { clientId: 7 });
  for (const f of setupCommands()) {
    const [head] = await client.submit(f.kind, f);
    assert.equal(head.status, Status.Ok);
  }
  return client;
}

/** Member `member` holds the primary's committed log, durably. */
async function caughtUp(primary: ClusterNode, member: ClusterNode): Promise<void> {
  await until(`member ${member.id} catches up`, () => {
    const c = member.consensus;
    return c.commit >= primary.consensus.commit && c.durableIndex >= primary.consensus.commit;
  });
}

test('cluster: a member that lost its folder, its clock an hour behind, rejoins', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await setUp(cluster, primary);
    await transfers(client, 10);
    const wiped = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    const lastStart = transportOf(wiped).start;
    cluster.clocks.set(wiped.id, () => Date.now() - hourMs); // its host's clock: an hour behind
    const fresh = await cluster.wipe(wiped);
    const last = await transfers(client, 10);
    await caughtUp(primary, fresh);
    await until('it votes again', () => !fresh.consensus.recovering);
    assert.ok(transportOf(fresh).start > lastStart, 'asked, it began a run above its last');
    const said = new RegExp(`^member ${wiped.id}: member \\d could not take run (\\d+): began`);
    const line = cluster.lines.find((l) => said.test(l));
    assert.ok(line !== undefined, 'it says why it renewed');
    assert.ok(Number(said.exec(line)![1]) < lastStart - hourMs / 2, 'its first run, an hour back');
    const expected = await cluster.balancesAt(primary.id, last);
    assert.deepEqual(await cluster.balancesAt(fresh.id, last), expected, 'the same state');
    await client.close();
  }));

/** What `node` sends from now on to `port` (copies), and a way to send from its socket. */
function record(node: ClusterNode, port: number) {
  const socket = (transportOf(node) as unknown as { socket: Socket }).socket;
  const sent: Buffer[] = [];
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  socket.send = ((...args: unknown[]) => {
    const [bytes, to] = args;
    if (Buffer.isBuffer(bytes) && bytes.byteLength > 0 && to === port) {
      sent.push(Buffer.from(bytes));
    }
    send(...args);
  }) as typeof socket.send;
  return { sent, sendFrom: (bytes: Buffer) => send(bytes, port, '127.0.0.1') };
}

/** Counts the messages `node`'s transport takes from member `from`. */
function counted(node: ClusterNode, from: number): { taken: number } {
  const transport = transportOf(node);
  const seen = { taken: 0 };
  const receive = transport.onMessage;
  transport.onMessage = (m: Message) => {
    if (m.from === from) seen.taken++;
    receive(m);
  };
  return seen;
}

/**
 * Silences `primary` and sends what `recorded` holds again from its port to `member`, until all
 * arrived: the messages `member` took of them, and its duplicates count before them.
 */
async function replayed(
  recorded: ReturnType<typeof record>,
  primary: ClusterNode,
  member: ClusterNode,
): Promise<{ taken: number; dropped: number }> {
  const seen = counted(member, primary.id);
  primary.silence();
  const before = member.transportStats.datagramsReceived;
  const dropped = member.transportStats.duplicates;
  for (const bytes of recorded.sent) recorded.sendFrom(bytes);
  const all = before + recorded.sent.length;
  await until('the replays arrive', () => member.transportStats.datagramsReceived >= all);
  return { taken: seen.taken, dropped };
}

test("cluster: a restarted member takes none of a member's datagrams sent before it", () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await setUp(cluster, primary);
    const standby = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    const port = cluster.members[standby.id - 1].replicationPort;
    const recorded = record(primary, port);
    await transfers(client, 10); // appends, commits and heartbeats to the standby, recorded
    await until('some recorded', () => recorded.sent.length >= 20);
    await standby.stop();
    cluster.nodes[standby.id - 1] = null;
    const back = await cluster.boot(standby.id, false);
    cluster.nodes[standby.id - 1] = back;
    // The primary, still in the run the standby heard before its restart, is asked to renew.
    const last = await transfers(client, 10);
    await caughtUp(primary, back);
    assert.ok(transportOf(primary).stats.runsRenewed >= 1, 'the primary began a new run');
    assert.equal(back.consensus.primary, primary.id, 'it hears its primary');
    const expected = await cluster.balancesAt(primary.id, last);
    assert.deepEqual(await cluster.balancesAt(back.id, last), expected, 'the same state');
    await client.close();
    // Now what the primary sent before the restart, sent again from its port: none is taken.
    const { taken, dropped } = await replayed(recorded, primary, back);
    assert.equal(taken, 0, 'no message recorded before the restart taken');
    const n = recorded.sent.length;
    assert.ok(back.transportStats.duplicates >= dropped + n, 'each dropped (its earlier run)');
  }));

/**
 * A member that lost its folder remembered no one's run, and took the first it heard of each:
 * the primary's datagrams recorded before the loss, sent again from its port, were taken (a
 * dead primary's appends, from which it could end recovering and vote on a stale log). Now its
 * own start stands for each other member's: the primary, in a run begun before it, is asked to
 * renew. Fails on the old code: no run renewed, and recorded messages taken.
 */
test("cluster: a member that lost its folder takes none of a member's earlier datagrams", () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await setUp(cluster, primary);
    const wiped = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    const recorded = record(primary, cluster.members[wiped.id - 1].replicationPort);
    await transfers(client, 10); // appends, commits and heartbeats to the member, recorded
    await until('some recorded', () => recorded.sent.length >= 20);
    const fresh = await cluster.wipe(wiped);
    const last = await transfers(client, 10);
    await caughtUp(primary, fresh);
    await until('it votes again', () => !fresh.consensus.recovering);
    assert.ok(transportOf(primary).stats.runsRenewed >= 1, 'the primary began a new run');
    const expected = await cluster.balancesAt(primary.id, last);
    assert.deepEqual(await cluster.balancesAt(fresh.id, last), expected, 'the same state');
    await client.close();
    const { taken } = await replayed(recorded, primary, fresh);
    assert.equal(taken, 0, 'no message recorded before the loss taken');
  }));

/**
 * A member that lost its folder with its clock behind its last run's start, but ahead of the
 * others' runs: they refused its new run as stale and asked it to renew, in runs older than
 * its own start (which stands for theirs: 07a70e2), so Unproven there; it refused their Renews
 * and asked them to renew in the run they refused. No one heard anyone, for as long as the
 * runs went on: it never caught up. Now a Renew of an Unproven run is heeded.
 */
test('cluster: a member that lost its folder behind its last run, the others older, rejoins', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const client = await setUp(cluster, primary);
    await transfers(client, 10);
    const member = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    // Restarted on a host an hour ahead: its run begins an hour on, while the others, asked to
    // renew above the runs it remembers, begin theirs now.
    cluster.clocks.set(member.id, () => Date.now() + hourMs);
    await member.stop();
    cluster.nodes[member.id - 1] = null;
    const back = await cluster.boot(member.id, false);
    cluster.nodes[member.id - 1] = back;
    await caughtUp(primary, back);
    // Its disk lost, on a host half an hour ahead: below its last run, above the others' runs.
    cluster.clocks.set(member.id, () => Date.now() + hourMs / 2);
    const fresh = await cluster.wipe(back);
    const last = await transfers(client, 10);
    await caughtUp(primary, fresh);
    await until('it votes again', () => !fresh.consensus.recovering);
    const expected = await cluster.balancesAt(primary.id, last);
    assert.deepEqual(await cluster.balancesAt(fresh.id, last), expected, 'the same state');
    await client.close();
  }));
