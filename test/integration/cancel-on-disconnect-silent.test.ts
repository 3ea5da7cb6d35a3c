/**
 * Cancel on disconnect for a connection that goes silent: no close, no reset (the maker's
 * network gone; here a proxy that freezes). The node saw the loss only at its idle timeout,
 * 120 s, and the maker's quotes rested all that time. A session with the flag heard from not
 * at all for cancelOnDisconnectSilenceMs (pinged meanwhile) is now dropped as lost; a live one
 * that sends nothing answers the pings and keeps its orders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, Status } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { setUp } from '../harness/gateway-node.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { until } from '../harness/wait.js';
import { restingOrderIds } from '../harness/read-model.js';

/** The resting orders of account 1 at the node on `port`. */
async function restingIds(port: number): Promise<number[]> {
  return (await restingOrderIds(`http://127.0.0.1:${port}`, 1)).ids;
}

async function quote(c: BourseClient, price: number): Promise<number> {
  const order = { account: 1, instrument: 2, side: 'buy', price, quantity: 1 } as const;
  const [head] = await c.placeOrder(order);
  assert.equal(head.status, Status.Ok);
  return head.id;
}

test("a silent maker's quotes go within the silence limit; a quiet live one's stay", async () => {
  const port = await freePort('tcp');
  const dir = tempDataDir();
  const lines: string[] = [];
  const node = await BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port },
    log: (line: string) => void lines.push(line),
  });
  const url = `ws://127.0.0.1:${port}/`;
  const proxy = await FreezableProxy.start(port);
  const clients: BourseClient[] = [];
  try {
    const root = await BourseClient.connect(url, { clientId: 9 });
    clients.push(root);
    await setUp(root);
    const flagged = { cancelOnDisconnect: true, silenceMs: 0, reconnectWaitMs: 0 };
    const gone = await BourseClient.connect(proxy.url, { clientId: 7, ...flagged });
    const quiet = await BourseClient.connect(url, { clientId: 8, ...flagged });
    clients.push(gone, quiet);
    const goneId = await quote(gone, 10);
    const kept = [await quote(quiet, 11), await quote(root, 12)];
    assert.deepEqual(await restingIds(port), [goneId, ...kept]);
    proxy.freeze(); // the node's connection to client 7 stays open, and silent
    // Past cancelOnDisconnectSilenceMs (10 s) and well within the idle timeout (120 s).
    await until(
      'the silent maker canceled',
      async () => {
        return (await restingIds(port)).join() === kept.join();
      },
      40_000,
    );
    assert.ok(lines.some((l) => l.includes('a session dropped: nothing heard for 10000 ms')));
    assert.ok(lines.some((l) => l.includes('client 7: session lost (close 1006)')));
    // Client 8 sent nothing all that time: the pings it answered kept its session and orders.
    assert.equal(quiet.connection.state, 'open');
    assert.deepEqual(await restingIds(port), kept);
  } catch (error) {
    console.error(lines.join('\n'));
    throw error;
  } finally {
    proxy.close();
    for (const c of clients) await c.close().catch(() => {});
    await node.stop();
    removeDir(dir);
  }
});
