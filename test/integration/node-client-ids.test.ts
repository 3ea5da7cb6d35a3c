/**
 * The node's own commands on a node whose client table customers have filled (clientCountMax
 * of them). Before, the node's ids needed slots of that table too: a lost session's
 * cancel-on-disconnect round was refused IdempotencyClientTableFull and its orders stayed (a
 * log line said so), each expiry Tick was journaled as a rejection and counted on /metrics, and
 * a node id in the table left a customer one slot less (on a cluster, the term's Tick took one
 * at the first election). The node's ids now have slots of their own, and /metrics shows the
 * customers' use of theirs; standbys and replays fill the same slots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, EventKind, Status, type EventRecord } from '../../src/client/client.js';
import { EventFlag } from '../../src/protocol/event-layout.js';
import { disconnectClientId, timerClientId } from '../../src/protocol/command-writer.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { until } from '../harness/wait.js';
import { seriesValue } from '../harness/metrics-text.js';
import { TestCluster } from '../harness/cluster-driver.js';
import type { ClusterNode } from '../../src/pipeline/cluster-node.js';
import { closeJournalDb, openJournalDb } from '../../src/journal/journal-db.js';
import { Replica } from '../../src/pipeline/replay.js';
import { restingOrderIds } from '../harness/read-model.js';

/** Two customers fill it: the one that sets up, and the one that quotes. */
const config = { ...smallConfig, clientCountMax: 2 };

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');

const placed = { account: 1, instrument: 2, side: 'buy' as const, price: 10, quantity: 1 };

async function restingCount(base: string, account: number): Promise<number> {
  return (await restingOrderIds(base, account)).ids.length;
}

/** The head events of the journal from `from` on under client id `clientId`. */
async function heads(base: string, from: number, clientId: number): Promise<EventRecord[]> {
  const page = (await (await fetch(`${base}/events?from=${from}&count=1000`)).json()) as [];
  const events = page as EventRecord[];
  return events.filter((e) => e.clientId === clientId && (e.flags & EventFlag.Head) !== 0);
}

test("a full client table refuses no command of the node's own", async () => {
  await withNode(
    async (_node, url) => {
      const base = httpOf(url);
      const root = await BourseClient.connect(url, { clientId: 200 });
      await setUp(root);
      const maker = await BourseClient.connect(url, { clientId: 201, cancelOnDisconnect: true });
      const [order] = await maker.placeOrder(placed);
      assert.equal(order.status, Status.Ok);
      const late = await BourseClient.connect(url, { clientId: 202 });
      const [refused] = await late.createAccount({ account: 50 });
      assert.equal(refused.status, Status.IdempotencyClientTableFull, 'customers filled it');
      await late.close();

      // The expiry timer's Tick.
      const hold = { from: 4, to: 3, asset: 1, amount: 5, timeoutUs: 100_000 };
      const [held] = await root.transferPending(hold);
      assert.equal(held.status, Status.Ok);
      const ticked = async (): Promise<boolean> => (await heads(base, 1, timerClientId)).length > 0;
      await until('a Tick of the timer', ticked, 5_000);
      const ticks = await heads(base, 1, timerClientId);
      assert.deepEqual(
        ticks.map((e) => [e.kind, e.status]),
        ticks.map(() => [EventKind.Ticked, Status.Ok]),
        'Ticked, not refused',
      );

      // A cancel-on-disconnect round.
      maker.dropConnection();
      await until('the order canceled', async () => (await restingCount(base, 1)) === 0, 5_000);
      const heard = await heads(base, order.sequence, disconnectClientId);
      // Its chain done, the maker is unmarked unless it was back already (marked again then).
      const rounds = heard.filter((e) => e.kind !== EventKind.CancelOnDisconnectSet);
      assert.deepEqual(
        rounds.map((e) => [e.kind, e.status, e.quantity]),
        [[EventKind.AllCanceled, Status.Ok, 1]],
      );
      for (const e of heard.filter((e) => e.kind === EventKind.CancelOnDisconnectSet)) {
        assert.deepEqual([e.ref, e.status], [201, Status.Ok], 'the maker (un)marked');
      }
      await until('reconnected', () => maker.reconnects === 1, 5_000);

      // Customers' use: the node's two ids in the table are not counted (nor was it 4 of 2).
      const used = 'bourse_capacity_used{table="clients"}';
      await until('the use sampled', async () => {
        return seriesValue(await (await fetch(`${base}/metrics`)).text(), used) === 2;
      });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.equal(seriesValue(metrics, 'bourse_capacity_max{table="clients"}'), 2);
      const full = 'bourse_rejections_total{code="IdempotencyClientTableFull"}';
      assert.equal(seriesValue(metrics, full), 1, "the late customer's command only");
      await maker.close();
      await root.close();
    },
    undefined,
    undefined,
    config,
  );
});

/** A member's journal replayed to `sequence` with `config`. */
function replayTo(dir: string, sequence: number): Replica {
  const db = openJournalDb(dir, { create: false, readOnly: true });
  try {
    const replica = new Replica(config);
    replica.replay(db, sequence);
    return replica;
  } finally {
    closeJournalDb(db);
  }
}

/** Whether every unmark (aux 0) among `events` is followed by a mark (aux 1). */
function markedAgain(events: readonly EventRecord[]): boolean {
  const marks = events.filter((e) => e.kind === EventKind.CancelOnDisconnectSet);
  return marks.every((e, i) => e.aux !== 0 || marks.slice(i + 1).some((m) => m.aux === 1));
}

/** Places an order through `maker`, drops its session, and waits until it is canceled. */
async function lose(maker: BourseClient, base: string, reconnects: number): Promise<number> {
  const [order] = await maker.placeOrder(placed);
  assert.equal(order.status, Status.Ok, 'a customer of a table the term Tick took no slot of');
  maker.dropConnection();
  await until('the order canceled', async () => (await restingCount(base, 1)) === 0, 10_000);
  await until('reconnected', () => maker.reconnects === reconnects, 10_000);
  return order.sequence;
}

test("cluster: the node's ids past a full table replicate and replay alike, across failover", () =>
  TestCluster.with(
    3,
    async (cluster) => {
      const first = await cluster.primary();
      const urls = cluster.urls();
      const root = await cluster.setUpClient(200, 20);
      const options = { clientId: 201, members: urls, cancelOnDisconnect: true };
      const maker = await BourseClient.connect(urls[first.id - 1], options);
      const from = await lose(maker, httpOf(urls[first.id - 1]), 1);

      // The primary hands over (a stop: not a loss); the next one cancels for its own sessions.
      await first.stop();
      cluster.nodes[first.id - 1] = null;
      const second = await cluster.primary();
      await until('the maker on the new primary', () => maker.reconnects === 2, 10_000);
      await lose(maker, httpOf(urls[second.id - 1]), 3);
      const read = (): Promise<EventRecord[]> =>
        heads(httpOf(urls[second.id - 1]), from, disconnectClientId);
      // A chain that canceled all of the maker's orders unmarks it unless it was back; its
      // login marks it again then (that mark may come a moment after the login).
      await until('each unmark marked again', async () => markedAgain(await read()), 10_000);
      const all = await read();
      // The state marks the maker: the new primary reads that at the takeover, and marks it
      // again only if its login came before that answer.
      const marks = all.filter((e) => e.kind === EventKind.CancelOnDisconnectSet);
      for (const e of marks) assert.deepEqual([e.ref, e.status], [201, Status.Ok]);
      const rounds = all.filter((e) => e.kind !== EventKind.CancelOnDisconnectSet);
      assert.deepEqual(
        rounds.map((e) => [e.kind, e.status]),
        [
          [EventKind.AllCanceled, Status.Ok],
          [EventKind.AllCanceled, Status.Ok],
        ],
        "a round of each primary's",
      );
      assert.ok(rounds[1].clientSeq > rounds[0].clientSeq, "above the id's last");
      const last = rounds[1].sequence;
      await maker.close();
      await root.close();

      const live = cluster.nodes.filter((n) => n !== null) as ClusterNode[];
      await until('the standby holds it all', () =>
        live.every((n) => n.consensus.durableIndex >= second.consensus.commit),
      );
      for (const n of live) {
        await n.stop();
        cluster.nodes[n.id - 1] = null;
      }
      const replicas = live.map((n) => replayTo(cluster.dirs[n.id - 1], last));
      for (const r of replicas) {
        assert.equal(r.sequence, last);
        assert.equal(r.engine.checksum.hex(), replicas[0].engine.checksum.hex(), 'one state');
        const clients = r.engine.clients;
        assert.deepEqual([clients.customerCount(), clients.nodeCount], [2, 2]);
      }
      assert.deepEqual(
        cluster.lines.filter((l) => / failed|cannot write|capacities are smaller/.test(l)),
        [],
      );
    },
    undefined,
    config,
  ));
