/**
 * Cancel on disconnect cancels the orders of the lost session's client id, and only those: the
 * engine keeps with each resting order the client that placed it. So a second trader's or an
 * admin's orders on a shared account stay when one session drops (they went too, when the
 * rounds canceled whole accounts), and the quotes a session kept through a close that was no
 * loss (a node restart, 1001, or a failover to another member) are covered by the session that
 * reopens, an admin key's as an account key's (an admin key's covered nothing of them: it
 * grants every account, and only the accounts it named again were canceled).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { createKey, writeKeyFile } from '../../src/gateway/api-keys.js';
import { disconnectClientId } from '../../src/protocol/command-writer.js';
import { EventKind } from '../../src/protocol/event-layout.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { quoteBuys, setUp } from '../harness/gateway-node.js';
import { TestCluster } from '../harness/cluster-driver.js';
import { until } from '../harness/wait.js';
import { restingOrderIds } from '../harness/read-model.js';

const admin = createKey(210, true, []);
/** The market maker's key: accounts 1 and 2. */
const maker = createKey(211, false, [1, 2]);
/** A second trader on account 1, and a second admin (a desk's quoting engine). */
const trader = createKey(212, false, [1]);
const desk = createKey(213, true, []);

function writeKeys(dir: string): string {
  const keys = [admin, maker, trader, desk].map((k) => k.record);
  writeKeyFile(dir, { version: 2, keys });
  return dir;
}

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');
const asAdmin = { headers: { authorization: `Bearer ${admin.token}` } };

/** The account's resting orders; null while the node is not ready for reads (503). */
async function restingIds(url: string, account: number): Promise<number[] | null> {
  const { status, ids } = await restingOrderIds(httpOf(url), account, asAdmin);
  return status === 503 ? null : ids;
}

const quote = quoteBuys;

/** A session of `key` with the flag, no drop for silence (only the ones made here). */
function connectWith(
  key: ReturnType<typeof createKey>,
  url: string,
  members?: string[],
): Promise<BourseClient> {
  const clientId = key.record.clientId;
  const options = { clientId, apiKey: key.token, cancelOnDisconnect: true, silenceMs: 0 };
  return BourseClient.connect(url, members === undefined ? options : { ...options, members });
}

/** The maker's session. */
function connectMaker(url: string, members?: string[]): Promise<BourseClient> {
  return connectWith(maker, url, members);
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

/** A single node on a free port, with the keys; started again by `start`. */
async function singleNode() {
  const port = await freePort('tcp');
  const dir = writeKeys(tempDataDir());
  const url = `ws://127.0.0.1:${port}/`;
  const start = (): Promise<BourseNode> =>
    BourseNode.start({ dataDir: dir, config: smallConfig, gateway: { host: '127.0.0.1', port } });
  return { dir, url, start };
}

test("two keys' sessions on one account: the one lost takes only its own orders", async () => {
  const { dir, url, start } = await singleNode();
  const node = await start();
  try {
    const root = await BourseClient.connect(url, { clientId: 210, apiKey: admin.token });
    await setUp(root);
    const mm = await connectMaker(url);
    const other = await connectWith(trader, url);
    const mine = await quote(mm, 1, 3);
    const theirs = await quote(other, 1, 2);
    const admins = await quote(root, 1, 1);
    const kept = [...theirs, ...admins];
    mm.dropConnection();
    await until("the maker's quotes canceled", async () => {
      return (await restingIds(url, 1))?.join() === kept.join();
    });
    assert.deepEqual(await canceledByNode(url, mine[0]), mine);
    await until('reconnected', () => mm.reconnects === 1);
    // The other trader drops too: its own go, the admin's stay.
    other.dropConnection();
    await until("the trader's quotes canceled", async () => {
      return (await restingIds(url, 1))?.join() === admins.join();
    });
    assert.deepEqual(await canceledByNode(url, mine[0]), [...mine, ...theirs]);
    await until('reconnected', () => other.reconnects === 1);
    await Promise.all([mm.close(), other.close(), root.close()]);
  } finally {
    await node.stop();
    removeDir(dir);
  }
});

test('quotes kept through a node restart are canceled when the new session drops', async () => {
  const { dir, url, start } = await singleNode();
  let node: BourseNode | null = await start();
  try {
    const root = await BourseClient.connect(url, { clientId: 210, apiKey: admin.token });
    await setUp(root);
    const mm = await connectMaker(url);
    const quotes = await quote(mm, 1, 3);
    // On account 2, which the maker's key grants, by the admin: not the maker's, it stays.
    const other = await quote(root, 2, 1);
    await root.close();

    await node.stop(); // 1001: no loss, the quotes stay
    node = await start();
    await until('the maker reconnected', () => mm.reconnects === 1, 10_000);
    assert.deepEqual(await restingIds(url, 1), quotes, 'kept through the restart');

    // The reopened session places nothing, and drops.
    mm.dropConnection();
    await until('the kept quotes canceled', async () => (await restingIds(url, 1))?.length === 0);
    assert.deepEqual(await canceledByNode(url, quotes[0]), quotes);
    assert.deepEqual(await restingIds(url, 2), other, "the admin's order on its account stays");
    await until('reconnected again', () => mm.reconnects === 2);
    await mm.close();
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test("an admin key's quotes kept through a restart are canceled, no one else's", async () => {
  const { dir, url, start } = await singleNode();
  let node: BourseNode | null = await start();
  try {
    const root = await BourseClient.connect(url, { clientId: 210, apiKey: admin.token });
    await setUp(root);
    const quoter = await connectWith(desk, url);
    const quotes = [...(await quote(quoter, 1, 2)), ...(await quote(quoter, 3, 2))];
    const others = [...(await quote(root, 1, 1)), ...(await quote(root, 3, 1))];
    await root.close();

    await node.stop();
    node = await start();
    await until('the desk reconnected', () => quoter.reconnects === 1, 10_000);
    quoter.dropConnection(); // it names no account after the restart
    await until('its kept quotes canceled', async () => {
      const left = [...((await restingIds(url, 1)) ?? []), ...((await restingIds(url, 3)) ?? [])];
      return left.join() === others.join();
    });
    assert.deepEqual(await canceledByNode(url, quotes[0]), quotes);
    await until('reconnected again', () => quoter.reconnects === 2);
    await quoter.close();
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test("an admin key's quotes kept through a failover are canceled by the new primary", async () => {
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
    // An admin key's session: it names no account after the failover.
    const mm = await connectWith(desk, urls[first.id - 1], urls);
    const quotes = await quote(mm, 1, 3);
    const others = await quote(root, 1, 1); // the same account, another client: it stays
    await root.close();
    const all = [...quotes, ...others];

    first.silence(); // its sessions closed 1001 (no loss), cut off from the others
    const second = await cluster.primary(first);
    const there = urls[second.id - 1];
    await until('the maker followed the new primary', () => mm.reconnects === 1, 15_000);
    await until('the quotes are on its book', async () => {
      return (await restingIds(there, 1))?.join() === all.join();
    });

    mm.dropConnection();
    await until('the kept quotes canceled', async () => {
      return (await restingIds(there, 1))?.join() === others.join();
    });
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
