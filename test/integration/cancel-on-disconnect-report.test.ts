/**
 * Welcome's report of cancels on disconnect (protocol/welcome.ts), end to end through the SDK's
 * `connection.canceled`: a client that logs in again can tell "your orders rest" ('none') from
 * "your orders were canceled" ('canceled', how many, at which sequence), after a loss the node
 * saw and after the grace of a node taking over ran out. Before the report, Welcome said the
 * same in both cases, and the SDK had nothing to tell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BourseClient,
  EventKind,
  type CanceledOrders,
  type ConnectionState,
} from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { disconnectEvents, quoteBuys, setUp, withNode } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { restingOrderIds } from '../harness/read-model.js';
import { until } from '../harness/wait.js';

const httpOf = (url: string): string => url.replace('ws://', 'http://').replace(/\/$/, '');

async function resting(url: string, account: number): Promise<number[]> {
  return (await restingOrderIds(httpOf(url), account)).ids;
}

const quote = quoteBuys;

/** A maker's session with the flag that does not reconnect: a drop ends it. */
function maker(url: string, clientId: number): Promise<BourseClient> {
  return BourseClient.connect(url, { clientId, cancelOnDisconnect: true, reconnectAttempts: 0 });
}

/** Cancel chains under way on the node (cancel-on-disconnect.ts). */
function chains(node: BourseNode): number {
  return node.gateway?.cancels.pendingCount() ?? -1;
}

/** The sequence of the last AllCanceled the node journaled for `client` from `from` on. */
async function lastRound(url: string, from: number, client: number): Promise<number> {
  const heads = (await disconnectEvents(url, from)).filter(
    (e) => e.kind === EventKind.AllCanceled && e.ref === client,
  );
  assert.ok(heads.length > 0, 'a round journaled');
  return heads.at(-1)!.sequence;
}

/** A node on `dir` (a restart when it held one before), its grace `cancelGraceMs`. */
function startOn(dir: string, cancelGraceMs?: number): Promise<BourseNode> {
  const gateway = { host: '127.0.0.1', port: 0, cancelGraceMs };
  return BourseNode.start({ dataDir: dir, config: smallConfig, gateway });
}

const none: CanceledOrders = { state: 'none', orders: 0, sequence: 0 };
const unknown: CanceledOrders = { state: 'unknown', orders: 0, sequence: 0 };

test('Welcome says what a loss canceled, once; a clean close and a fresh id: none', async () => {
  await withNode(async (node, url) => {
    const root = await BourseClient.connect(url, { clientId: 300 });
    await setUp(root);
    const mm = await maker(url, 301);
    assert.deepEqual(mm.connection.canceled, none, 'a first login: nothing canceled');
    const ids = await quote(mm, 1, 3);
    mm.dropConnection(); // a loss: the node cancels the three
    await until('canceled', async () => (await resting(url, 1)).length === 0, 30_000);
    await until('the chain ended', () => chains(node) === 0, 30_000);
    const sequence = await lastRound(url, ids[0], 301);

    const back = await maker(url, 301);
    assert.deepEqual(back.connection.canceled, { state: 'canceled', orders: 3, sequence });
    const kept = await quote(back, 1, 2);
    await back.close(); // 1000: no loss
    const again = await maker(url, 301);
    assert.deepEqual(again.connection.canceled, none, 'told once; a clean close cancels none');
    assert.deepEqual(await resting(url, 1), kept);
    await again.close();
    await root.close();
  });
});

test('the SDK reconnecting after a drop hears the cancels, told across two logins', async () => {
  await withNode(async (node, url) => {
    const root = await BourseClient.connect(url, { clientId: 310 });
    await setUp(root);
    const opened: ConnectionState[] = [];
    const onState = (s: ConnectionState): void => void (s.state === 'open' && opened.push(s));
    const mm = await BourseClient.connect(url, {
      clientId: 311,
      cancelOnDisconnect: true,
      onState,
    });
    await quote(mm, 1, 4);
    mm.dropConnection();
    await until('reconnected', () => mm.reconnects === 1, 30_000);
    const first = opened[1].canceled;
    // Seen before the login: its rounds ended, or are under way (a journal commit away).
    assert.ok(first?.state === 'canceled' || first?.state === 'canceling', `${first?.state}`);
    assert.equal(mm.connection, opened[1]);
    await until('the chain ended', () => chains(node) === 0, 30_000);
    await mm.close();
    const later = await maker(url, 311);
    const rest = later.connection.canceled;
    const told = (first?.orders ?? 0) + (rest?.orders ?? 0);
    assert.equal(told, 4, 'what the reconnect did not hear of, the next login does');
    assert.equal(rest?.state, first?.state === 'canceling' ? 'canceled' : 'none');
    await later.close();
    await root.close();
  });
});

test('after a restart: back within the grace says unknown, back after it canceled', async () => {
  const dir = tempDataDir();
  const start = (): Promise<BourseNode> => startOn(dir, 2_000);
  let node: BourseNode | null = await start();
  try {
    let url = `ws://127.0.0.1:${node.gateway?.port}/`;
    const root = await BourseClient.connect(url, { clientId: 320 });
    await setUp(root);
    const [early, late] = [await maker(url, 321), await maker(url, 322)];
    const earlyIds = await quote(early, 1, 2);
    const lateIds = await quote(late, 2, 3);
    await root.close();
    await node.stop(); // 1001: no loss; the clients give up (no reconnect)
    node = await start();
    url = `ws://127.0.0.1:${node.gateway?.port}/`;
    const within = await maker(url, 321);
    // They rest (below), but the restarted node cannot know what it canceled before its stop.
    assert.deepEqual(within.connection.canceled, unknown, 'back within the grace: cannot tell');
    const current = node;
    await until('the grace ended', () => !current.gateway!.cancels.graceRunning(), 30_000);
    await until('canceled', async () => (await resting(url, 2)).length === 0, 30_000);
    await until('the chain ended', () => chains(current) === 0, 30_000);
    const sequence = await lastRound(url, lateIds[0], 322);
    const after = await maker(url, 322);
    assert.deepEqual(after.connection.canceled, { state: 'canceled', orders: 3, sequence });
    assert.deepEqual(await resting(url, 1), earlyIds, 'the one back in time kept its own');
    await Promise.all([within.close(), after.close()]);
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test('a report lost in a restart: unknown, not none; an id with no commands: none', async () => {
  const dir = tempDataDir();
  const start = (): Promise<BourseNode> => startOn(dir);
  let node: BourseNode | null = await start();
  try {
    let url = `ws://127.0.0.1:${node.gateway?.port}/`;
    const root = await BourseClient.connect(url, { clientId: 330 });
    await setUp(root);
    await root.close();
    const mm = await maker(url, 331);
    await quote(mm, 1, 2);
    mm.dropConnection(); // a loss: the node cancels both, and keeps the report in memory
    await until('canceled', async () => (await resting(url, 1)).length === 0, 30_000);
    const current = node;
    await until('the chain ended', () => chains(current) === 0, 30_000);
    await node.stop(); // the report goes with the process
    node = await start();
    url = `ws://127.0.0.1:${node.gateway?.port}/`;
    const back = await maker(url, 331);
    // Before: 'none', and a maker took its quotes for resting.
    assert.deepEqual(back.connection.canceled, unknown, 'cannot tell: read what rests');
    await back.close(); // 1000: no loss, and this node saw the session
    const again = await maker(url, 331);
    assert.deepEqual(again.connection.canceled, none, 'watched since its last session');
    const fresh = await maker(url, 332);
    assert.deepEqual(fresh.connection.canceled, none, 'no command ever: no orders to cancel');
    await Promise.all([again.close(), fresh.close()]);
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});
