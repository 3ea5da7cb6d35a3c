/**
 * Datagrams a member really sent, recorded and sent again later from its address (by someone
 * who can forge a source, or who took the member's port once it was down): their MAC is good,
 * since a member made them. A primary's heartbeats sent again after it stopped kept every
 * standby hearing it (each one resets the election timer, and a standby that hears its
 * primary grants no pre-vote), so the cluster stayed without a primary for as long as the
 * replays went on: the transport took any message id it no longer remembered (its last 1,024
 * messages). Now a member takes each message of another member's run once, and none of an
 * earlier run (docs/ROLES.md, "Replayed datagrams").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import type { Message } from '../../src/replication/messages.js';
import type { UdpTransport } from '../../src/replication/udp-transport.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { TestCluster } from '../harness/cluster-driver.js';

/** Heartbeats each standby is sent before the primary stops: more than the old 1,024. */
const recordedPerStandby = 1_500;

/**
 * The datagrams `node` sends from now on, by the port they go to (copies), and a way to send
 * bytes from its socket as if someone held its port.
 */
function record(node: ClusterNode): {
  sent: Map<number, Buffer[]>;
  sendFrom: (bytes: Buffer, port: number) => void;
} {
  const transport = (node as unknown as { transport: UdpTransport }).transport;
  const socket = (transport as unknown as { socket: Socket }).socket;
  const sent = new Map<number, Buffer[]>();
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  socket.send = ((...args: unknown[]) => {
    const [bytes, port] = args;
    if (Buffer.isBuffer(bytes) && bytes.byteLength > 0 && typeof port === 'number') {
      if (!sent.has(port)) sent.set(port, []);
      sent.get(port)!.push(Buffer.from(bytes));
    }
    send(...args);
  }) as typeof socket.send;
  return { sent, sendFrom: (bytes, port) => send(bytes, port, '127.0.0.1') };
}

/** A heartbeat from `primary` as it sends them (an append with no entries, at its log's end). */
function heartbeat(primary: ClusterNode): Message {
  const c = primary.consensus;
  return {
    kind: 'append',
    cluster: c.clusterId,
    members: c.membersMask,
    term: c.term,
    from: primary.id,
    prevIndex: c.lastIndex,
    prevHash: c.hashAt(c.lastIndex),
    entries: [],
    commit: c.commit,
    life: 0, // a replayed heartbeat: no life the standby would take for its own
  };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

test("cluster: a silent primary's datagrams, sent again from its port, hold off no election", () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const term = primary.consensus.term;
    const standbys = cluster.nodes.filter((n) => n !== null && n !== primary) as ClusterNode[];
    const { sent, sendFrom } = record(primary);
    const transport = (primary as unknown as { transport: UdpTransport }).transport;
    for (let i = 0; i < recordedPerStandby; i += 100) {
      for (let k = 0; k < 100; k++) {
        for (const s of standbys) transport.send(s.id, heartbeat(primary));
      }
      await sleep(5); // paced out, not one burst
    }
    const ports = standbys.map((s) => cluster.members[s.id - 1].replicationPort);
    await until(() => ports.every((p) => (sent.get(p)?.length ?? 0) >= recordedPerStandby));
    // The primary falls silent as a crashed one does, and its port sends only the replays.
    primary.silence();
    let replaying = true;
    const replays = (async () => {
      // Ten of the recorded datagrams to each standby every 20 ms, round and round.
      for (let at = 0; replaying; at += 10) {
        for (const p of ports) {
          const list = sent.get(p)!;
          for (let k = 0; k < 10; k++) sendFrom(list[(at + k) % list.length], p);
        }
        await sleep(20);
      }
    })();
    try {
      const next = await cluster.primary(primary, 20_000);
      assert.ok(next.consensus.term > term, 'a new term');
      for (const s of standbys) {
        const dropped = (s.transportStats as { duplicates?: number }).duplicates ?? 0;
        assert.ok(dropped > 0, `member ${s.id} dropped the replays`);
      }
    } finally {
      replaying = false;
      await replays;
    }
  }));

/**
 * A run whose message ids ran out (2^32) takes a new start, and a restart must begin above it
 * too: a start is stored in the member's folder before use (ReplicaStore.nextTransportStart),
 * so that a clock set back across the restart cannot make the next run's start lower, which the
 * others refuse as stale. The new start of a run was not stored: only its first start was, and
 * a restart with the clock behind the renewal began below it.
 */
test('cluster: a start taken when the message ids run out is stored before use', () =>
  TestCluster.with(3, async (cluster) => {
    const primary = await cluster.primary();
    const transport = (primary as unknown as { transport: UdpTransport }).transport;
    const first = transport.start;
    (transport as unknown as { nextId: number }).nextId = 0xffff_ffff; // the last id given
    const other = cluster.nodes.find((n) => n !== null && n !== primary) as ClusterNode;
    transport.send(other.id, heartbeat(primary));
    const renewed = transport.start;
    assert.ok(renewed > first, 'a new start once the ids ran out');
    await primary.stop();
    cluster.nodes[primary.id - 1] = null;
    const db = openJournalDb(cluster.dirs[primary.id - 1], { create: false, readOnly: true });
    try {
      const stored = Number(db.meta.get('transport-start'));
      assert.ok(stored >= renewed, `stored ${stored}, below the start in use ${renewed}`);
    } finally {
      await closeJournalDb(db);
    }
  }));

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await sleep(10);
  assert.ok(done(), 'recorded');
}
