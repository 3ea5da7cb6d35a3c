/**
 * A stopped node is let go: nothing of the process keeps it reachable. A cluster member makes a
 * new node at every change of role, and uWS kept every stopped node's gateway handlers, and
 * through them the node (its rings, 21 MB, and more), for as long as the process ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { BourseNode } from '../../src/pipeline/node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { hello } from '../harness/gateway-node.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Starts a node, serves HTTP and a session on it, stops it; returns nothing of it. */
async function startServeStop(freed: FinalizationRegistry<number>, round: number): Promise<void> {
  const dir = tempDataDir();
  const node = await BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port: 0 },
  });
  freed.register(node, round);
  const port = node.gateway?.port ?? -1;
  for (const path of ['/health', '/metrics']) {
    assert.equal((await fetch(`http://127.0.0.1:${port}${path}`)).status, 200);
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(hello(7));
  await new Promise((resolve) => ws.once('message', resolve));
  ws.close();
  await node.stop();
  removeDir(dir);
}

test('nodes started and stopped in one process are not kept', async () => {
  const rounds = 5;
  let count = 0;
  const freed = new FinalizationRegistry<number>(() => count++);
  for (let round = 0; round < rounds; round++) await startServeStop(freed, round);
  for (let i = 0; i < 20 && count < rounds; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Before: 0 of 5 freed, each stopped node reachable from its gateway's uWS handlers.
  assert.equal(count, rounds, `stopped nodes still reachable: ${rounds - count} of ${rounds}`);
});
