/**
 * Cancel on disconnect across a failover (gateway/cancel-on-disconnect.ts, engine/cancel-cover.ts):
 * a market maker's session with the flag is on the primary, which fails with its network. The
 * new primary never saw that session, but the state marks the client; a client that does not
 * log in again within cancelOnDisconnectGraceMs of the takeover has its orders canceled, on the
 * new primary and every replica; one that comes back in time keeps them. Before, the new
 * primary canceled nothing: a maker that died with the old primary's network quoted for ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, Status, type EventRecord } from '../../src/client/client.js';
import { disconnectClientId } from '../../src/protocol/command-writer.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { setUp } from '../harness/gateway-node.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');
/** The grace (5 s) and an election, with room for a loaded machine. */
const graceWaitMs = 30_000;

/** The account's resting orders on the member at `url`; null while it serves no reads (503). */
async function restingIds(url: string, account: number): Promise<number[] | null> {
  const res = await fetch(`${httpOf(url)}/orders?account=${account}`);
  if (res.status !== 200) return null;
  const body = (await res.json()) as { orders: { id: number }[] };
  return body.orders.map((o) => o.id).sort((a, b) => a - b);
}

/** Buys of 1 on instrument 2 for account 1; their order ids. */
async function quote(c: BourseClient, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const order = { account: 1, instrument: 2, side: 'buy', price: 10 + i, quantity: 1 } as const;
    const [head] = await c.placeOrder(order);
    assert.equal(head.status, Status.Ok);
    ids.push(head.id);
  }
  return ids;
}

/** The journal's OrderCanceled events under the node's cancel-on-disconnect client id. */
async function canceledByNode(url: string, from: number): Promise<number[]> {
  const page = await fetch(`${httpOf(url)}/events?from=${from}&count=1000`);
  const events = (await page.json()) as EventRecord[];
  return events
    .filter((e) => e.clientId === disconnectClientId && e.kind === EventKind.OrderCanceled)
    .map((e) => e.id)
    .sort((a, b) => a - b);
}

/**
 * A cluster with a maker (client 7, the flag) quoting 3 orders and client 9 one, on the same
 * account; the primary is cut off with the maker's session (its gateway closes it, 1001: no
 * loss). `members`: what the maker may reconnect to (the old primary's address alone: it never
 * reaches the new one). Returns the new primary, the other live member and the orders.
 */
async function failoverWithMaker(cluster: TestCluster, members: 'all' | 'old') {
  const urls = cluster.urls();
  const first = await cluster.primary();
  const old = urls[first.id - 1];
  const root = await BourseClient.connect(old, { clientId: 9, members: urls });
  await setUp(root);
  const options = { clientId: 7, cancelOnDisconnect: true, silenceMs: 0 };
  const maker = await BourseClient.connect(old, {
    ...options,
    members: members === 'all' ? urls : [old],
  });
  const quotes = await quote(maker, 3);
  const others = await quote(root, 1); // another client's: it stays
  await root.close();
  first.silence(); // cut off with its network; its sessions end 1001, nothing canceled there
  const second = await cluster.primary(first);
  const replica = cluster.members.find((m) => m.id !== first.id && m.id !== second.id);
  assert.ok(replica !== undefined);
  const live = [urls[second.id - 1], `ws://${replica.host}:${replica.port}/`];
  return { maker, quotes, others, live };
}

/** Whether the log says the grace after the takeover ended. */
const graceEnded = (cluster: TestCluster): boolean =>
  cluster.lines.some((l) => l.includes('grace after taking over ended: 1 clients marked'));

test('a maker that never comes back after a failover: its orders go after the grace', async () => {
  const cluster = await TestCluster.start(3);
  try {
    const { maker, quotes, others, live } = await failoverWithMaker(cluster, 'old');
    await maker.close(); // it stops trying the old primary: it never logs in again
    for (const url of live) {
      await until(
        `the maker's quotes canceled on ${url}`,
        async () => (await restingIds(url, 1))?.join() === others.join(),
        graceWaitMs,
      );
      assert.deepEqual(await canceledByNode(url, quotes[0]), quotes, 'by the node, journaled');
    }
    assert.ok(graceEnded(cluster));
    assert.ok(cluster.lines.some((l) => /clients 7: no session within 5000 ms/.test(l)));
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});

test('a maker that comes back within the grace keeps its orders', async () => {
  const cluster = await TestCluster.start(3);
  try {
    const { maker, quotes, others, live } = await failoverWithMaker(cluster, 'all');
    await until('the maker followed the new primary', () => maker.reconnects === 1, graceWaitMs);
    // The new primary cannot tell what the old one canceled before it failed (it said 'none').
    assert.equal(maker.connection.canceled?.state, 'unknown', 'cannot tell: read what rests');
    await until('the grace ended', () => graceEnded(cluster), graceWaitMs);
    for (const url of live) {
      await until(`${url} serves reads`, async () => (await restingIds(url, 1)) !== null);
      assert.deepEqual(await restingIds(url, 1), [...quotes, ...others], `kept on ${url}`);
      assert.deepEqual(await canceledByNode(url, quotes[0]), []);
    }
    assert.ok(cluster.lines.some((l) => l.includes('1 clients marked, 1 back in time, 0 not')));
    await maker.close();
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});
