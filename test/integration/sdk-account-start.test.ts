/**
 * Where an account stream taken without `from` starts (Hello flag AccountStarts: the server
 * answers its Subscribe with Subscribed, the sequence it starts after).
 *
 * A quiet client (nothing heard since its login) resumed such a stream after a drop from its
 * Welcome's sequence: the account's events between its login and its subscribe came, as new.
 * And a second handler added without `from` while another handler's resume backlog streamed
 * got that backlog (one stream per account and session), events older than its subscribe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BourseClient, type EventRecord } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { freePort } from '../../src/cli/ports.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { setUp } from '../harness/gateway-node.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { until } from '../harness/wait.js';

async function startNode(): Promise<{ node: BourseNode; dir: string; port: number }> {
  const dir = tempDataDir();
  const port = await freePort('tcp');
  const gateway = { host: '127.0.0.1', port };
  const node = await BourseNode.start({ dataDir: dir, config: smallConfig, gateway });
  return { node, dir, port };
}

test('a quiet client resumes a stream from where the server said it started', async () => {
  const { node, dir, port } = await startNode();
  let proxy = await FreezableProxy.start(port, await freePort('tcp'));
  const proxyPort = Number(new URL(proxy.url).port);
  const root = await BourseClient.connect(`ws://127.0.0.1:${port}/`, { clientId: 62 });
  let reconnects = 0;
  const watcher = await BourseClient.connect(proxy.url, {
    clientId: 63,
    reconnectWaitMs: 30_000,
    onReconnect: () => void reconnects++,
  });
  try {
    await setUp(root);
    const pay = () => root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
    const before = [await pay(), await pay(), await pay()].map(([e]) => e.sequence);
    // The watcher hears no sequence: no command, no event; a book view says its stream is up
    // (the server takes a session's frames in order), and is not a sequence heard.
    const seen: EventRecord[] = [];
    watcher.subscribeAccount(1, (events) => seen.push(...events));
    let views = 0;
    watcher.subscribeBook(1, () => void views++);
    await until('the book view after the Subscribe', () => views > 0);
    proxy.close(); // dropped with nothing delivered
    proxy = await FreezableProxy.start(port, proxyPort);
    await until('the watcher reconnected', () => reconnects === 1, 20_000);
    const [after] = await pay();
    await until('the live transfer', () => seen.some((e) => e.sequence === after.sequence));
    const got = seen.map((e) => e.sequence);
    assert.ok(!got.some((s) => before.includes(s)), `history from before the subscribe: ${got}`);
    assert.deepEqual(got, [after.sequence]);
  } finally {
    await Promise.all([root.close(), watcher.close()]);
    proxy.close();
    await node.stop();
    removeDir(dir);
  }
});

test('a handler added during a resume does not get its backlog', async () => {
  const { node, dir, port } = await startNode();
  const url = `ws://127.0.0.1:${port}/`;
  const root = await BourseClient.connect(url, { clientId: 64 });
  const watcher = await BourseClient.connect(url, { clientId: 65 });
  try {
    await setUp(root);
    const pay = () => root.transfer({ account: 3, target: 1, ref: 1, quantity: 1 });
    const before = [await pay(), await pay(), await pay()].map(([e]) => e.sequence);
    const resumed: EventRecord[] = [];
    const fresh: EventRecord[] = [];
    watcher.subscribeAccount(1, (events) => resumed.push(...events), undefined, 1);
    watcher.subscribeAccount(1, (events) => fresh.push(...events)); // while it resumes
    const [after] = await pay();
    const has = (list: EventRecord[]) => list.some((e) => e.sequence === after.sequence);
    await until('the live transfer, to both', () => has(resumed) && has(fresh));
    const backlog = resumed.map((e) => e.sequence);
    assert.ok(
      before.every((s) => backlog.includes(s)),
      `the resume's backlog: ${backlog}`,
    );
    assert.deepEqual(
      fresh.map((e) => e.sequence),
      [after.sequence],
      'only what followed its own subscribe',
    );
  } finally {
    await Promise.all([root.close(), watcher.close()]);
    await node.stop();
    removeDir(dir);
  }
});
