/**
 * The SDK's connection state (onState). A market maker had no word of a drop until the SDK was
 * back (onReconnect) and none when it gave up: it could not stop quoting, or mark its quotes
 * stale, at the moment it was cut off. Each transition is now told once, in order, with the
 * close code and what the server does with the session's orders, and nothing after close().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BourseClient,
  ClientError,
  Status,
  type ConnectionState,
} from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { setUp, withNode } from '../harness/gateway-node.js';
import { until } from '../harness/wait.js';
import { restingOrderIds } from '../harness/read-model.js';

/** A single node on `port`, its data in `dir`. */
function nodeOn(port: number, dir: string): Promise<BourseNode> {
  return BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port },
  });
}

/** One line per state told: what a test compares. */
const line = (s: ConnectionState): string =>
  `${s.state} ${s.code} ${s.orders ?? '-'} ${s.reconnects}`;

async function restingIds(url: string, account: number): Promise<number[]> {
  const http = url.replace('ws://', 'http://').replace(/\/$/, '');
  return (await restingOrderIds(http, account)).ids; // sorted: ids placed in order ascend
}

/** A buy of 1 at 10 for account 1 on instrument 2 (tick 1, lot 1); its order id. */
async function buy(client: BourseClient): Promise<number> {
  const order = { account: 1, instrument: 2, side: 'buy', price: 10, quantity: 1 } as const;
  const [head] = await client.placeOrder(order);
  assert.equal(head.status, Status.Ok);
  return head.id;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('onState: each transition once, in order: a node restart, a drop, close()', async () => {
  const port = await freePort('tcp');
  const dir = tempDataDir();
  const url = `ws://127.0.0.1:${port}/`;
  let node: BourseNode | null = await nodeOn(port, dir);
  try {
    const root = await BourseClient.connect(url, { clientId: 190 });
    await setUp(root);
    await root.close();
    const told: string[] = [];
    const states: ConnectionState[] = [];
    const maker = await BourseClient.connect(url, {
      clientId: 191,
      cancelOnDisconnect: true,
      silenceMs: 0, // no drop for silence on a busy machine: only the ones made here
      onState: (s) => (states.push(s), told.push(line(s))),
      onReconnect: () => told.push('onReconnect'),
    });
    assert.deepEqual(told, ['connecting 0 - 0', 'open 0 - 0'], 'both before connect resolved');
    assert.ok(states.every((s) => s.url === url && s.cancelOnDisconnect));
    assert.equal(maker.connection, states[1]);
    const quote = await buy(maker);

    // The node stops (1001): no loss for the server, the quote stays on the book.
    await node.stop();
    node = null;
    await until('told of the drop', () => told.length === 3);
    assert.equal(told[2], 'reconnecting 1001 kept 0', 'at the drop, before any attempt');
    assert.equal(maker.connection.state, 'reconnecting');
    node = await nodeOn(port, dir);
    await until('reconnected', () => told.length === 5);
    assert.deepEqual(told.slice(3), ['open 0 - 1', 'onReconnect']);
    assert.deepEqual(await restingIds(url, 1), [quote], "'kept': it rests");

    // A drop (1006): a running node cancels; the client cannot know that it saw it. (The new
    // session covers account 1 once it places an order there: then all of its orders.)
    const requote = await buy(maker);
    assert.deepEqual(await restingIds(url, 1), [quote, requote]);
    maker.dropConnection();
    await until('reconnected again', () => told.length === 8);
    assert.deepEqual(told.slice(5), ['reconnecting 1006 unknown 1', 'open 0 - 2', 'onReconnect']);
    await until('the node canceled it', async () => (await restingIds(url, 1)).length === 0);

    const closing = maker.close();
    assert.equal(told[8], 'closed 1000 kept 2', 'told by close() itself');
    assert.equal(states[states.length - 1].reason, 'closed by the client');
    await closing;
    await maker.close(); // a second close tells nothing
    await pause(200);
    assert.equal(told.length, 9, `nothing after close(): ${told.join(', ')}`);
    assert.equal(maker.connection.state, 'closed');
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test('onState: closed once when the SDK gives up, or from inside a callback', async () => {
  const port = await freePort('tcp');
  const dir = tempDataDir();
  const url = `ws://127.0.0.1:${port}/`;
  let node: BourseNode | null = await nodeOn(port, dir);
  try {
    const givesUp: ConnectionState[] = [];
    const quits: string[] = [];
    const options = { reconnectWaitMs: 300, silenceMs: 0 };
    const a = await BourseClient.connect(url, {
      ...options,
      clientId: 193,
      onState: (s) => givesUp.push(s),
    });
    const b: BourseClient = await BourseClient.connect(url, {
      clientId: 194,
      silenceMs: 0,
      onState: (s) => {
        quits.push(line(s));
        if (s.state === 'reconnecting') void b.close(); // told inside this one
      },
    });
    await node.stop();
    node = null;
    await until('a gave up', () => givesUp.length === 4);
    assert.deepEqual(givesUp.map(line), [
      'connecting 0 - 0',
      'open 0 - 0',
      'reconnecting 1001 kept 0',
      'closed 1001 kept 0',
    ]);
    assert.match(givesUp[3].reason, /^gave up reconnecting/);
    // What its tries met, not only the drop: it said "gave up reconnecting (server shutting
    // down)" and nothing of 300 ms of refused connections.
    assert.match(givesUp[3].reason, /; last try: ws:\/\/.*nothing listens there \(ECONNREFUSED\)/);
    // Later calls are refused with the code the closed state named.
    const refused = await a.transfer({ from: 1, to: 2, asset: 1, amount: 1 }).catch((e) => e);
    assert.ok(refused instanceof ClientError);
    assert.equal(refused.code, givesUp[3].code);
    assert.deepEqual(quits, [
      'connecting 0 - 0',
      'open 0 - 0',
      'reconnecting 1001 kept 0',
      'closed 1000 kept 0',
    ]);
    node = await nodeOn(port, dir); // back: neither client comes back, nor hears a word
    await a.close();
    await pause(1_000); // past b's next reconnect rounds
    assert.equal(givesUp.length, 4);
    assert.equal(quits.length, 4);
    assert.equal(b.reconnects, 0);
  } finally {
    await node?.stop();
    removeDir(dir);
  }
});

test('a throwing onState is a process warning: the client reconnects and answers', async () => {
  const warnings: string[] = [];
  const record = (w: Error & { code?: string }): void => {
    if (w.code === 'BOURSE_ONSTATE_THREW') warnings.push(w.message);
  };
  process.on('warning', record);
  try {
    await withNode(async (_node, url) => {
      const told: string[] = [];
      const client = await BourseClient.connect(url, {
        clientId: 195,
        silenceMs: 0,
        onState: (s) => {
          told.push(s.state);
          throw new Error(`no ${s.state}`);
        },
      });
      await setUp(client);
      client.dropConnection();
      const [head] = await client.transfer({ from: 1, to: 2, asset: 1, amount: 5 });
      assert.equal(head.status, Status.Ok, 'sent again once reconnected, and answered');
      assert.equal(client.reconnects, 1);
      await client.close();
      assert.deepEqual(told, ['connecting', 'open', 'reconnecting', 'open', 'closed']);
      await until('every throw reported', () => warnings.length === 5);
      assert.match(warnings[2], /onState threw: Error: no reconnecting \(on 'reconnecting'\)/);
    });
  } finally {
    process.off('warning', record);
  }
});

test('onState: a connect that fails ends in closed, with why', async () => {
  const url = `ws://127.0.0.1:${await freePort('tcp')}/`; // nothing listens there
  const told: ConnectionState[] = [];
  await assert.rejects(
    BourseClient.connect(url, { clientId: 196, onState: (s) => told.push(s) }),
    /nothing listens there/,
  );
  assert.deepEqual(
    told.map((s) => `${line(s)} ${s.url}`),
    [`connecting 0 - 0 ${url}`, `closed 1006 - 0 ${url}`],
  );
  assert.match(told[1].reason, /nothing listens there/);
});

/**
 * onReconnect ran inside the reconnect's async close handler: a throw there was an unhandled
 * rejection, and Node ended the process (a market maker's bug in its handler took it down).
 */
test('a throwing onReconnect is a process warning: the client goes on', async () => {
  const warnings: string[] = [];
  const record = (w: Error & { code?: string }): void => {
    if (w.code === 'BOURSE_ONRECONNECT_THREW') warnings.push(w.message);
  };
  process.on('warning', record);
  try {
    await withNode(async (_node, url) => {
      const client = await BourseClient.connect(url, {
        clientId: 197,
        silenceMs: 0,
        onReconnect: () => {
          throw new Error('no reconnect');
        },
      });
      await setUp(client);
      client.dropConnection();
      await until('reconnected', () => client.reconnects === 1);
      const [head] = await client.transfer({ from: 1, to: 2, asset: 1, amount: 5 });
      assert.equal(head.status, Status.Ok);
      await until('the throw reported', () => warnings.length === 1);
      assert.match(warnings[0], /onReconnect threw: Error: no reconnect \(on ws:/);
      await client.close();
    });
  } finally {
    process.off('warning', record);
  }
});
