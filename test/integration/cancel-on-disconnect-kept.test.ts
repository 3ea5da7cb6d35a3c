/**
 * Cancel on disconnect covers the quotes a session kept through a close that was no loss: a
 * node restart (1001) or a failover to another member. The session reopened after it covered
 * an account only once it placed or amended an order there again, so that a drop in between
 * canceled nothing: a market maker's quotes rested on with nobody watching them. A session of
 * an account key now covers every account its key grants from its Welcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, Status, type EventRecord } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { createKey, writeKeyFile } from '../../src/gateway/api-keys.js';
import { disconnectClientId } from '../../src/protocol/command-writer.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { setUp } from '../harness/gateway-node.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';

const admin = createKey(210, true, []);
/** The market maker's key: accounts 1 and 2. */
const maker = createKey(211, false, [1, 2]);

function writeKeys(dir: string): string {
  writeKeyFile(dir, { version: 2, keys: [admin.record, maker.record] });
  return dir;
}

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');
const asAdmin = { headers: { authorization: `Bearer ${admin.token}` } };

/** The account's resting orders; null while the node is not ready for reads (503). */
async function restingIds(url: string, account: number): Promise<number[] | null> {
  const res = await fetch(`${httpOf(url)}/orders?account=${account}`, asAdmin);
  if (res.status === 503) return null;
  const body = (await res.json()) as { orders: { id: number }[] };
  return body.orders.map((o) => o.id).sort((a, b) => a - b);
}

/** Buys of 1 on instrument 2 (tick 1, lot 1) for `account`; their order ids. */
async function quote(c: BourseClient, account: number, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const order = { account, instrument: 2, side: 'buy', price: 10 + i, quantity: 1 } as const;
    const [head] = await c.placeOrder(order);
    assert.equal(head.status, Status.Ok);
    ids.push(head.id);
  }
  return ids;
}

/** The maker's session: its key, the flag, no drop for silence (only the ones made here). */
function connectMaker(url: string, members?: string[]): Promise<BourseClient> {
  const options = { clientId: 211, apiKey: maker.token, cancelOnDisconnect: true, silenceMs: 0 };
  return BourseClient.connect(url, members === undefined ? options : { ...options, members });
}

/** The journal's OrderCanceled events under the node's cancel-on-disconnect client id. */
async function canceledByNode(url: string, from: number): Promise<number[]> {
  const page = await fetch(`${httpOf(url)}/events?from=${from}&count=1000`, asAdmin);
  const events = (await page.json()) as EventRecord[];
  return events
    .filter((e) => e.clientId === disconnectClientId && e.kind === EventKind.OrderCanceled)
    .map((e) => e.id)
    .sort((a, b) => a - b);
}

test('quotes kept through a node restart are canceled when the new session drops', async () => {
  const port = await freePort('tcp');
  const dir = writeKeys(tempDataDir());
  const url = `ws://127.0.0.1:${port}/`;
  const start = (): Promise<BourseNode> =>
    BourseNode.start({ dataDir: dir, config: smallConfig, gateway: { host: '127.0.0.1', port } });
  let node: BourseNode | null = await start();
  try {
    const root = await BourseClient.connect(url, { clientId: 210, apiKey: admin.token });
    await setUp(root);
    const mm = await connectMaker(url);
    const quotes = await quote(mm, 1, 3);
    // On account 2, which the maker's key grants, by the admin (cancel on disconnect covers
    // an account, whoever placed its orders); account 3 is no account of the key.
    const other = await quote(root, 2, 1);
    const outside = await quote(root, 3, 1);
    await root.close();

    await node.stop(); // 1001: no loss, the quotes stay
    node = await start();
    await until('the maker reconnected', () => mm.reconnects === 1, 10_000);
    assert.deepEqual(await restingIds(url, 1), quotes, 'kept through the restart');

    // The reopened session places nothing, and drops.
    mm.dropConnection();
    await until('the kept quotes canceled', async () => (await restingIds(url, 1))?.length === 0);
    await until('account 2 emptied too', async () => (await restingIds(url, 2))?.length === 0);
    assert.deepEqual(await restingIds(url, 3), outside, 'an account the key does not grant');
    assert.deepEqual(await canceledByNode(url, quotes[0]), [...quotes, ...other]);
    await until('reconnected again', () => mm.reconnects === 2);
    await mm.close();
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test('quotes kept through a failover are canceled by the new primary at a drop', async () => {
  const dirs = [1, 2, 3].map(() => writeKeys(tempDataDir()));
  const cluster = await TestCluster.start(3, undefined, dirs);
  try {
    const urls = cluster.urls();
    const first = await cluster.primary();
    const root = await BourseClient.connect(urls[first.id - 1], {
      clientId: 210,
      apiKey: admin.token,
      members: urls,
    });
    await setUp(root);
    await root.close();
    const mm = await connectMaker(urls[first.id - 1], urls);
    const quotes = await quote(mm, 1, 3);

    first.silence(); // its sessions closed 1001 (no loss), cut off from the others
    const second = await cluster.primary(first);
    const there = urls[second.id - 1];
    await until('the maker followed the new primary', () => mm.reconnects === 1, 15_000);
    await until('the quotes are on its book', async () => {
      return (await restingIds(there, 1))?.join() === quotes.join();
    });

    mm.dropConnection();
    await until('the kept quotes canceled', async () => (await restingIds(there, 1))?.length === 0);
    assert.deepEqual(await canceledByNode(there, quotes[0]), quotes);
    await until('reconnected again', () => mm.reconnects === 2, 15_000);
    await mm.close();
  } catch (error) {
    console.error(cluster.lines.join('\n'));
    throw error;
  } finally {
    await cluster.stop();
  }
});
