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
import { readFileSync } from 'node:fs';
import { engineConfigDefault } from '../../src/constants.js';
import { Engine } from '../../src/engine/engine.js';
import { BourseNode, closeStorage, openStorage } from '../../src/pipeline/node.js';
import { stateBytes } from '../../src/pipeline/state-memory.js';
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

/**
 * Bytes of this process's address space mapped readable and writable and backed by no file, in
 * mappings of at least `bytesMin` each. A buffer past glibc's largest mmap threshold (32 MB) is
 * mapped on its own and unmapped once freed, so a state's buffer is counted whole for as long as
 * it is kept. Not all anonymous memory: malloc keeps in its arenas (heaps of at most 64 MB)
 * what ended threads freed there, and that was 33-96 MB after a stop beside two busy loops,
 * 138 MB once in CI, against a bound of half a state (bench/RESULTS.md, forty-seventh session).
 */
function mappedBytesAtLeast(bytesMin: number): number {
  let bytes = 0;
  for (const line of readFileSync('/proc/self/maps', 'latin1').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ \S+ 0\s*$/.exec(line);
    if (range === null) continue;
    const size = parseInt(range[2], 16) - parseInt(range[1], 16);
    if (size >= bytesMin) bytes += size;
  }
  return bytes;
}

test('a promoted standby hands its state over without the main thread keeping it', async () => {
  // The default capacities: the snapshotter's copy buffer (the whole state, 205 MB of address
  // space, untouched but for a few pages) is far past glibc's largest mmap threshold, so it is
  // mapped on its own, and unmapped once freed.
  const config = engineConfigDefault;
  const bytes = stateBytes(new Engine(config));
  const dir = tempDataDir();
  const storage = openStorage(dir);
  const before = mappedBytesAtLeast(bytes);
  const node = await BourseNode.start({
    dataDir: dir,
    config,
    storage,
    follow: { notAfter: 0 },
    role: { accepting: () => true, describe: () => ({ role: 'primary' }), notReady: () => null },
  });
  let stopped = false;
  try {
    await node.promote(1);
    assert.equal(node.recovery.type, 'promoted');
    // The snapshotter's copy buffer, which it handed over, is seen whole.
    assert.ok(mappedBytesAtLeast(bytes) - before >= bytes, 'the copy buffer is mapped');
    await node.stop();
    stopped = true;
    // Both workers have ended and `node` is still held here: nothing of this thread may keep
    // the buffer. Before, the main thread relayed it, and kept it (the promotion's message)
    // until its next full collection, which may not come for many role changes.
    const left = mappedBytesAtLeast(bytes) - before;
    assert.ok(left < bytes / 2, `${left} bytes still mapped; a state is ${bytes}`);
  } finally {
    if (!stopped) await node.stop();
    await closeStorage(storage.db, storage.lock);
    removeDir(dir);
  }
});
